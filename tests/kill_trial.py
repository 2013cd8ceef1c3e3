"""The kill -9 trial: worker processes refreshing shared customers, killed at random or the
moment a token request leaves, with every loss checked against the measured window.

Each worker is a spawned interpreter with a thread per customer, calling in a loop on one
shared store; the parent owns FakeGong and a clock in shared memory, and expires every token
each ``expiry_every`` seconds, so each customer refreshes that often. Workers log, with the
system-wide monotonic clock, when a token request leaves (``L``) and when the store write of
its answer returns (``S``): a kill between the two is *inside the window*, the one place a
kill can lose a customer (Gong rotated the pair, the store never got it). Used by
tests/test_kill_trial.py (short) and by hand for the long trials in docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import random
import signal
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gong_authlib import (
    ReauthorizationRequired,
    TokenStoreError,
    gong_session,
    open_store,
)
from gong_authlib.stores import REAUTHORIZATION_REQUIRED
from gong_authlib.stores.contracts import DEFAULT_LEASE
from tests.storm import SharedClock, worker_client


@dataclass(frozen=True)
class TrialPlan:
    store_url: str
    client_id: str
    client_secret: str
    token_url: str
    origins: tuple[str, ...]
    customers: tuple[str, ...]
    events: str  # the file workers append L/S lines to
    intent_hold: float
    lock_lease: float


def trial_worker(plan: TrialPlan, clock_value: Any, stop: Any, ready: Any) -> None:
    store = open_store(plan.store_url)
    client = worker_client(
        plan.client_id, plan.client_secret, plan.token_url, plan.origins, clock_value
    )
    events = os.open(plan.events, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    pid = os.getpid()
    local = threading.local()

    def note(kind: str, customer: str) -> None:
        os.write(events, f"{kind} {pid} {customer} {time.monotonic():.6f}\n".encode())

    send, settle = client.session.send, store.settle

    def leaving(*args: Any, **kwargs: Any) -> Any:
        note("L", local.customer)
        return send(*args, **kwargs)

    def settled(customer: str, token: Any, *, spent: str) -> bool:
        written = settle(customer, token, spent=spent)
        note("S", customer)
        return written

    client.session.send = leaving  # type: ignore[method-assign]
    store.settle = settled  # type: ignore[method-assign]

    def run(customer: str) -> None:
        local.customer = customer
        session = gong_session(
            client,
            store,
            customer,
            rate_limit=None,
            retries=0,
            lock_lease=plan.lock_lease,
            intent_hold=plan.intent_hold,
        )
        while not stop.is_set():
            # Outcomes are counted by the parent, from FakeGong and the store.
            with contextlib.suppress(Exception):
                session.get("/v2/users")
            time.sleep(0.02)

    threads = [threading.Thread(target=run, args=(c,), daemon=True) for c in plan.customers]
    for thread in threads:
        thread.start()
    ready.release()  # imported and calling: the trial's time starts when every first one is
    for thread in threads:
        thread.join()


@dataclass
class TrialResult:
    mode: str
    seconds: float
    kills: int = 0
    kills_in_window: int = 0
    lost: list[str] = field(default_factory=list)
    lost_in_window: int = 0
    lost_outside_window: int = 0
    refreshes: int = 0
    invalid_grant: int = 0
    windows_ms: list[float] = field(default_factory=list)

    def window(self) -> str:
        if len(self.windows_ms) < 2:
            return "n/a"
        cuts = statistics.quantiles(self.windows_ms, n=100, method="inclusive")
        return f"p50 {cuts[49]:.1f} ms, p99 {cuts[98]:.1f} ms"


def _read_events(path: Path) -> list[tuple[str, int, str, float]]:
    out = []
    for line in path.read_text().splitlines():
        kind, pid, customer, at = line.split()
        out.append((kind, int(pid), customer, float(at)))
    return out


def _open_at(events: list[tuple[str, int, str, float]], pid: int, moment: float) -> set[str]:
    """The customers whose token request ``pid`` had sent by ``moment`` without its write
    having returned: a kill then is inside the window."""
    open_now: set[str] = set()
    for kind, who, customer, at in events:
        if who != pid or at > moment:
            continue
        if kind == "L":
            open_now.add(customer)
        else:
            open_now.discard(customer)
    return open_now


def run_trial(
    store_url: str,
    *,
    mode: str,
    seconds: float,
    workers: int = 2,
    customers: int = 6,
    expiry_every: float = 0.5,
    intent_hold: float = 2.0,
    lock_lease: float = DEFAULT_LEASE,
    folder: Path,
) -> TrialResult:
    """``mode`` ``random``: kill a random worker every 0.5-1.5 s; ``targeted``: kill the worker
    whose token request just left (Gong holds each token call 20 ms, so the kill lands
    before Gong rotates). Killed workers are replaced at once."""
    from gong_authlib.testing import FakeGong
    from tests.authflow import authorize_into

    context = multiprocessing.get_context("spawn")
    clock_value = context.Value("d", 1_800_000_000.0)
    clock = SharedClock(clock_value)
    events = folder / f"events-{mode}.log"
    names = tuple(f"customer-{i}" for i in range(customers))
    result = TrialResult(mode, seconds)
    kills: list[tuple[int, float]] = []
    with FakeGong(clock=clock) as gong:
        for name in names:
            gong.add_customer(name)
        with open_store(store_url) as store:
            for name in names:
                authorize_into(gong, store, name)
        plan = TrialPlan(
            store_url,
            gong.client_id,
            gong.client_secret,
            gong.token_url,
            gong.trusted_origins,
            names,
            str(events),
            intent_hold,
            lock_lease,
        )
        stop = context.Event()

        def spawn() -> Any:
            process = context.Process(target=trial_worker, args=(plan, clock_value, stop, ready))
            process.start()
            return process

        ready = context.Semaphore(0)
        pool = [spawn() for _ in range(workers)]
        for _ in pool:  # a spawned interpreter takes seconds to import on a busy machine
            assert ready.acquire(timeout=120), "a trial worker did not start"
        if mode == "targeted":
            gong.inject("token", "delay", seconds=0.02, times=1_000_000)
        started = time.monotonic()
        next_expiry = started
        next_kill = started + random.uniform(1.0, 2.0)
        in_flight = _InFlight(events)
        while time.monotonic() - started < seconds:
            now = time.monotonic()
            if now >= next_expiry:
                clock.advance(86_400)
                next_expiry = now + expiry_every
            if now >= next_kill:
                victim = _pick_victim(mode, pool, in_flight)
                if victim is not None:
                    process = pool[victim]
                    os.kill(process.pid, signal.SIGKILL)
                    kills.append((process.pid, time.monotonic()))
                    process.join(timeout=10)
                    pool[victim] = spawn()
                    next_kill = time.monotonic() + random.uniform(0.5, 1.5)
            time.sleep(0.002 if mode == "targeted" else 0.01)
        stop.set()
        for process in pool:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
        gong.emulator.faults.clear()
        _settle_every_customer(gong, store_url, names, result)
        result.refreshes = sum(gong.stats.refreshes(name) for name in names)
        result.invalid_grant = sum(gong.stats.invalid_grant.values())
    timeline = _read_events(events) if events.exists() else []
    _count(result, kills, timeline)
    return result


class _InFlight:
    """The token requests the workers' event lines show sent and not yet stored."""

    def __init__(self, events: Path) -> None:
        self.events = events
        self.seen = 0
        self.open: set[tuple[int, str]] = set()

    def pids(self) -> set[int]:
        if self.events.exists():
            lines = self.events.read_text().splitlines()
            for line in lines[self.seen :]:
                kind, pid, customer, _ = line.split()
                if kind == "L":
                    self.open.add((int(pid), customer))
                else:
                    self.open.discard((int(pid), customer))
            self.seen = len(lines)
        return {pid for pid, _ in self.open}


def _pick_victim(mode: str, pool: list[Any], in_flight: _InFlight) -> int | None:
    """Which worker to kill: any (random), or one whose token request is in flight."""
    if mode == "random":
        return random.randrange(len(pool))
    flying = in_flight.pids()
    return next((i for i, p in enumerate(pool) if p.pid in flying), None)


def _settle_every_customer(
    gong: Any, store_url: str, names: tuple[str, ...], result: TrialResult
) -> None:
    """After the trial: refresh each customer once more; one that cannot is lost."""
    with open_store(store_url) as store:
        for name in names:
            session = gong_session(
                gong.oauth_client(), store, name, rate_limit=None, lock_timeout=4 * DEFAULT_LEASE
            )
            try:
                session.auth.refresh()
            except ReauthorizationRequired:
                result.lost.append(name)
                continue
            except TokenStoreError:
                result.lost.append(name)
                continue
            if store.status(name).state == REAUTHORIZATION_REQUIRED:
                result.lost.append(name)


def _count(
    result: TrialResult, kills: list[tuple[int, float]], timeline: list[tuple[str, int, str, float]]
) -> None:
    result.kills = len(kills)
    in_window: Counter[str] = Counter()
    for pid, moment in kills:
        hit = _open_at(timeline, pid, moment)
        if hit:
            result.kills_in_window += 1
            in_window.update(hit)
    for name in result.lost:
        if in_window[name]:
            result.lost_in_window += 1
        else:
            result.lost_outside_window += 1
    sent: dict[tuple[int, str], float] = {}
    for kind, pid, customer, at in timeline:
        if kind == "L":
            sent[(pid, customer)] = at
        elif (pid, customer) in sent:
            result.windows_ms.append((at - sent.pop((pid, customer))) * 1000)


def hold_lock_until_killed(store_url: str, lease: float, locked: Any) -> None:
    """Take customer-0's refresh lock with ``lease``, say so, then hang as a process stuck
    mid-refresh would, until killed."""
    store = open_store(store_url)
    with store.lock("customer-0", lease=lease):
        locked.set()
        time.sleep(600)
