"""Worker processes for the storm tests: each is a separate app server sharing one store.

Run with the ``spawn`` start method, so each worker is a fresh interpreter with its own
connections, as separate machines or containers would be.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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


def worker_client(
    client_id: str, client_secret: str, token_url: str, origins: tuple[str, ...], clock_value: Any
) -> GongOAuthClient:
    """A spawned worker's OAuth client for the parent's FakeGong, on the shared clock."""
    return GongOAuthClient(
        client_id,
        client_secret,
        token_url=token_url,
        trusted_api_origins=origins,
        clock=SharedClock(clock_value),
        backoff_factor=0,
    )


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
    store = open_store(plan.store_url)
    client = worker_client(
        plan.client_id, plan.client_secret, plan.token_url, plan.origins, clock_value
    )
    threads, cycles = plan.threads, plan.cycles
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    durations: list[float] = []
    guard = threading.Lock()

    def run() -> None:
        session = gong_session(client, store, "acme", retries=0, rate_limit=None)
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


def async_storm_worker(plan: StormPlan, clock_value: Any, barrier: Any, results: Any) -> None:
    """As :func:`storm_worker`, with ``plan.threads`` asyncio tasks on one event loop, each
    with its own ``httpx.AsyncClient``."""
    import asyncio

    from gong_authlib import gong_async_client

    store = open_store(plan.store_url)
    client = worker_client(
        plan.client_id, plan.client_secret, plan.token_url, plan.origins, clock_value
    )
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    durations: list[float] = []

    waiters = ThreadPoolExecutor(max_workers=plan.threads)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        async with gong_async_client(client, store, "acme", retries=0, rate_limit=None) as session:
            for _ in range(plan.cycles):
                # The barrier is a blocking multiprocessing one: wait for it off the loop, in a
                # pool with a thread per task (the default executor may have fewer).
                await loop.run_in_executor(waiters, barrier.wait, 60)
                try:
                    started = time.perf_counter()
                    status = (await session.get("/v2/users")).status_code
                    statuses[status] += 1
                    durations.append(time.perf_counter() - started)
                except Exception as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                await loop.run_in_executor(waiters, barrier.wait, 60)

    async def main() -> None:
        await asyncio.gather(*(run() for _ in range(plan.threads)))

    asyncio.run(main())
    waiters.shutdown()
    results.put((os.getpid(), dict(statuses), errors, durations))


def hold_lock_until_killed(store_url: str, locked: Any) -> None:
    """Take acme's refresh lock, say so, then hang as a process stuck mid-refresh would."""
    store = open_store(store_url)
    with store.lock("acme", lease=1.0):
        locked.set()
        time.sleep(120)
    os.kill(os.getpid(), signal.SIGTERM)  # never reached: the test kills us first


@dataclass
class StormResult:
    """What a process storm saw: per-worker reports and FakeGong's counters."""

    statuses: Counter[int]
    errors: list[str]
    durations: list[float]
    pids: set[int]
    exit_codes: list[int | None]
    refreshes: int
    invalid_grant: int


def process_storm(
    store_url: str,
    *,
    processes: int,
    threads: int,
    cycles: int,
    token_delay: float = 0.0,
    target: Callable[[StormPlan, Any, Any, Any], None] = storm_worker,
) -> StormResult:
    """``processes`` spawned workers with ``threads`` sessions each, one call per expiry.

    ``target`` is :func:`storm_worker` (threads with requests sessions) or
    :func:`async_storm_worker` (asyncio tasks with httpx clients).
    The parent owns FakeGong and a clock in shared memory; it expires every token, lets all
    callers go, waits for all answers, and repeats ``cycles`` times.
    """
    from gong_authlib.testing import FakeGong
    from tests.authflow import authorize_into

    context = multiprocessing.get_context("spawn")
    clock_value = context.Value("d", 1_800_000_000.0)
    clock = SharedClock(clock_value)
    with FakeGong(clock=clock) as gong:
        gong.add_customer("acme")
        with open_store(store_url) as store:
            authorize_into(gong, store)
        plan = StormPlan(
            store_url,
            gong.client_id,
            gong.client_secret,
            gong.token_url,
            gong.trusted_origins,
            threads,
            cycles,
        )
        barrier = context.Barrier(processes * threads + 1)
        results = context.Queue()
        workers = [
            context.Process(target=target, args=(plan, clock_value, barrier, results))
            for _ in range(processes)
        ]
        for worker in workers:
            worker.start()
        if token_delay:
            gong.inject("token", "delay", seconds=token_delay, times=10 * cycles + 10)
        for _ in range(cycles):
            clock.advance(86_400)
            barrier.wait(timeout=120)  # every worker thread makes its call...
            barrier.wait(timeout=120)  # ...and has its answer
        reports = [results.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)
        statuses: Counter[int] = Counter()
        for report in reports:
            statuses.update(report[1])
        return StormResult(
            statuses=statuses,
            errors=[error for report in reports for error in report[2]],
            durations=[d for report in reports for d in report[3]],
            pids={report[0] for report in reports},
            exit_codes=[worker.exitcode for worker in workers],
            refreshes=gong.stats.refreshes("acme"),
            invalid_grant=sum(gong.stats.invalid_grant.values()),
        )
