"""Worker processes for the storm tests: each is a separate app server sharing one store.

Run with the ``spawn`` start method, so each worker is a fresh interpreter with its own
connections, as separate machines or containers would be.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from gong_authlib import GongOAuthClient, gong_session, open_store
from gong_authlib.testing import FakeClock


class SharedClock(FakeClock):
    """A FakeClock whose time lives in shared memory, so every process reads the same time."""

    def __init__(self, value: Any) -> None:
        super().__init__(0.0)
        self._value = value

    def __call__(self) -> float:
        return float(self._value.value)

    def advance(self, seconds: float) -> float:
        with self._value.get_lock():
            self._value.value += seconds
            return float(self._value.value)


@dataclass(frozen=True)
class StormPlan:
    """What a storm worker needs to know, picklable for the ``spawn`` start method."""

    store_url: str
    client_id: str
    client_secret: str
    token_url: str
    origins: tuple[str, ...]
    threads: int
    cycles: int


def storm_worker(plan: StormPlan, clock_value: Any, barrier: Any, results: Any) -> None:
    """``plan.threads`` sessions for customer acme; each cycle, each makes one API call."""
    clock = SharedClock(clock_value)
    store = open_store(plan.store_url)
    client = GongOAuthClient(
        plan.client_id,
        plan.client_secret,
        token_url=plan.token_url,
        trusted_api_origins=plan.origins,
        clock=clock,
        backoff_factor=0,
    )
    threads, cycles = plan.threads, plan.cycles
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    durations: list[float] = []
    guard = threading.Lock()

    def run() -> None:
        session = gong_session(client, store, "acme", retries=0)
        for _ in range(cycles):
            barrier.wait(timeout=60)
            try:
                started = time.perf_counter()
                status = session.get("/v2/users").status_code
                with guard:
                    statuses[status] += 1
                    durations.append(time.perf_counter() - started)
            except Exception as exc:
                with guard:
                    errors.append(f"{type(exc).__name__}: {exc}")
            barrier.wait(timeout=60)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put((os.getpid(), dict(statuses), errors, durations))


def hold_lock_until_killed(store_url: str, locked: Any) -> None:
    """Take acme's refresh lock, say so, then hang as a process stuck mid-refresh would."""
    store = open_store(store_url)
    with store.lock("acme", lease=1.0):
        locked.set()
        time.sleep(120)
    os.kill(os.getpid(), signal.SIGTERM)  # never reached: the test kills us first
