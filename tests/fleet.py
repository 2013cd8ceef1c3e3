"""A fleet of worker processes calling Gong for shared customers, in real time.

Each worker is a spawned interpreter (a separate app server) with its own sessions on one
shared store; the parent owns a FakeGong that enforces Gong's per-company limit strictly. A
worker is a requests app (threads, each with a ``gong_session``) or an httpx async one (asyncio
tasks, each with a ``gong_async_client``): a mixed fleet shares one budget through the store.
Shared by the fleet tests (short, asserting counts) and ``benchmarks/fleet.py``.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from gong_authlib import GongOAuthClient, RateLimit, gong_session, open_store
from gong_authlib.errors import RateLimitExceeded
from gong_authlib.stores import TokenStore

FrontEnd = Literal["requests", "httpx-async"]


@dataclass(frozen=True)
class FleetPlan:
    """What a fleet worker needs to know, picklable for the ``spawn`` start method."""

    store_url: str
    client_id: str
    client_secret: str
    token_url: str
    origins: tuple[str, ...]
    customers: tuple[str, ...]
    threads: int
    rate_limit: RateLimit | None
    retries: int = 4
    # Worker i is front_ends[i % len(front_ends)]: ("requests", "httpx-async") mixes them.
    front_ends: tuple[FrontEnd, ...] = ("requests",)


def fleet_worker(plan: FleetPlan, index: int, start: Any, stop: Any, results: Any) -> None:
    """``plan.threads`` threads; thread i of worker ``index`` calls for customer
    ``customers[(index * threads + i) % n]`` in a loop, from the shared start barrier until
    the parent sets ``stop``."""
    store = open_store(plan.store_url)
    client = GongOAuthClient(
        plan.client_id,
        plan.client_secret,
        token_url=plan.token_url,
        trusted_api_origins=plan.origins,
    )
    statuses: Counter[str] = Counter()
    guard = threading.Lock()

    def count(outcome: str) -> None:
        with guard:
            statuses[outcome] += 1

    customers = plan.customers
    mine = [customers[(index * plan.threads + i) % len(customers)] for i in range(plan.threads)]
    if plan.front_ends[index % len(plan.front_ends)] == "httpx-async":
        asyncio.run(_async_worker(plan, client, store, mine, start=start, stop=stop, count=count))
    else:
        _threads_worker(plan, client, store, mine, start=start, stop=stop, count=count)
    store.close()
    results.put(dict(statuses))


def _outcome(error: Exception) -> str:
    return "RateLimitExceeded" if isinstance(error, RateLimitExceeded) else type(error).__name__


def _threads_worker(
    plan: FleetPlan,
    client: GongOAuthClient,
    store: TokenStore,
    customers: list[str],
    *,
    start: Any,
    stop: Any,
    count: Callable[[str], None],
) -> None:
    def run(customer: str) -> None:
        session = gong_session(
            client, store, customer, rate_limit=plan.rate_limit, retries=plan.retries
        )
        start.wait(timeout=120)
        while not stop.is_set():
            try:
                outcome = str(session.get("/v2/users").status_code)
            except Exception as exc:  # counted, not raised: the parent asserts on counts
                outcome = _outcome(exc)
            count(outcome)

    workers = [threading.Thread(target=run, args=(customer,)) for customer in customers]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


async def _async_worker(
    plan: FleetPlan,
    client: GongOAuthClient,
    store: TokenStore,
    customers: list[str],
    *,
    start: Any,
    stop: Any,
    count: Callable[[str], None],
) -> None:
    import anyio.to_thread

    from gong_authlib import gong_async_client

    async def run(customer: str) -> None:
        async with gong_async_client(
            client, store, customer, rate_limit=plan.rate_limit, retries=plan.retries
        ) as gong:
            await anyio.to_thread.run_sync(start.wait, 120)
            while not stop.is_set():
                try:
                    outcome = str((await gong.get("/v2/users")).status_code)
                except Exception as exc:  # counted, not raised
                    outcome = _outcome(exc)
                count(outcome)

    await asyncio.gather(*(run(customer) for customer in customers))


@dataclass
class FleetResult:
    """What the fleet saw (outcomes per call) and what FakeGong counted."""

    outcomes: Counter[str]
    accepted: int  # calls FakeGong served in the measured window (not refused with 429)
    refused_429: int  # 429s FakeGong answered in the measured window
    seconds: float
    customers: int
    total_refused: int = 0  # 429s over the whole run, warm-up and wind-down included
    rate: float = 0.0  # calls served per second in the window, all customers together

    @property
    def budget_used(self) -> float:
        """Calls served per second over Gong's 3 a second per customer."""
        return self.rate / (self.customers * 3.0)


def run_fleet(
    store_url: str,
    *,
    processes: int,
    threads: int,
    customers: int,
    seconds: float,
    rate_limit: RateLimit | None,
    per_second: int = 3,
    warmup: float = 1.0,
    front_ends: tuple[FrontEnd, ...] = ("requests",),
) -> FleetResult:
    """``processes`` workers with ``threads`` threads each, calling for ``customers``
    customers (spread over the threads) against FakeGong's strict limit; counts are taken
    over ``seconds`` of steady state after ``warmup``. ``front_ends`` alternate over the
    workers (threads are asyncio tasks in an httpx async worker)."""
    from gong_authlib.testing import FakeGong
    from tests.authflow import authorize_into

    names = tuple(f"c{i:02d}" for i in range(customers))
    context = multiprocessing.get_context("spawn")
    with FakeGong(rate_limit=per_second) as gong:
        with open_store(store_url) as store:
            for name in names:
                gong.add_customer(name)
                authorize_into(gong, store, name)
        plan = FleetPlan(
            store_url,
            gong.client_id,
            gong.client_secret,
            gong.token_url,
            gong.trusted_origins,
            names,
            threads,
            rate_limit,
            front_ends=front_ends,
        )
        start = context.Barrier(processes * threads + 1)
        stop = context.Event()
        results = context.Queue()
        workers = [
            context.Process(target=fleet_worker, args=(plan, index, start, stop, results))
            for index in range(processes)
        ]
        for worker in workers:
            worker.start()

        def counts() -> tuple[int, int]:
            refused = sum(gong.stats.api_429[name] for name in names)
            calls = sum(gong.stats.api_calls[name] for name in names)
            return calls - refused, refused

        start.wait(timeout=120)  # every thread is ready: go
        window = threading.Event()  # never set: its wait() is the measuring window
        window.wait(warmup)  # the first calls of a cold fleet are not steady state
        accepted_before, refused_before = counts()
        # Served calls per second, timed from the first to the last served call seen in the
        # window (polled every 5 ms): counting whole calls in a short window would be off by
        # up to one call per customer.
        changes: list[tuple[float, int]] = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            accepted = counts()[0]
            if not changes or accepted != changes[-1][1]:
                changes.append((time.monotonic(), accepted))
            window.wait(0.005)
        accepted_after, refused_after = counts()
        stop.set()
        rate = 0.0
        if len(changes) > 2:
            (first_at, first), (last_at, last) = changes[1], changes[-1]
            rate = (last - first) / (last_at - first_at) if last_at > first_at else 0.0
        reports = [results.get(timeout=120) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)
        outcomes: Counter[str] = Counter()
        for report in reports:
            outcomes.update(report)
        return FleetResult(
            outcomes,
            accepted_after - accepted_before,
            refused_after - refused_before,
            seconds,
            customers,
            total_refused=refused_after,
            rate=rate,
        )
