"""One rate reservation on PostgreSQL, before and after issue 24, side by side in one run.

*Before* is the Python step in a transaction (``SteppedRateBudget.rate_reserve``: BEGIN, SET,
SELECT ... FOR UPDATE, UPDATE, COMMIT), still the code every stepped store inherits and that
PostgreSQL now overrides; *after* is ``PostgresTokenStore.rate_reserve`` (one call of the
``{prefix}_rate_reserve`` function). Redis was already one ``EVALSHA``: its row is today's
script, for scale. Each row reserves for one customer, alone and with 100 clients (4 processes
x 25 threads) at once; the two ways alternate per process run on the same server. Usage:

    .venv/bin/python -m benchmarks.reservation [COUNT]
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
import time
from typing import Any

from benchmarks.fleet import FREE
from benchmarks.stores import _pct, _servers
from gong_authlib import open_store
from gong_authlib.stores.contracts import SteppedRateBudget, TokenStore

WAYS = ("before: Python step in a transaction", "after: one function call")


def _reserve(store: TokenStore, way: str, tag: str) -> None:
    if way == WAYS[0] and isinstance(store, SteppedRateBudget):
        SteppedRateBudget.rate_reserve(store, tag, FREE)
    else:
        store.rate_reserve(tag, FREE)


def _worker(job: tuple[str, str, str, int, int], start: Any, out: Any) -> None:
    url, way, tag, threads, count = job
    store = open_store(url)
    _reserve(store, way, tag + "-warm")  # the table, the function, a pooled connection
    latencies: list[float] = []
    guard = threading.Lock()

    def run() -> None:
        mine = []
        start.wait(timeout=120)
        for _ in range(count):
            began = time.perf_counter()
            _reserve(store, way, tag)
            mine.append(time.perf_counter() - began)
        with guard:
            latencies.extend(mine)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    store.close()
    out.put(latencies)


def cost(url: str, way: str, processes: int, threads: int, count: int) -> tuple[float, float]:
    """p50 and p99 seconds of one reservation, ``processes`` x ``threads`` clients at once."""
    tag = f"bench-{time.monotonic_ns()}"
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(processes * threads)
    out = context.Queue()
    workers = [
        context.Process(target=_worker, args=((url, way, tag, threads, count), start, out))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    latencies = [value for _ in workers for value in out.get(timeout=300)]
    for worker in workers:
        worker.join(timeout=30)
    return _pct(latencies, 0.5), _pct(latencies, 0.99)


def section(count: int = 500) -> list[str]:
    out = [
        "## PostgreSQL rate reservation in one round trip (issue 24), µs",
        "",
        f"{count} reservations per client for one customer (the worst case: one row); 100 "
        "clients are 4 processes x 25 threads reserving at once. Before and after run "
        "alternately on the same server in one run.",
        "",
        "| store, way | 1 client p50 | 1 client p99 | 100 clients p50 | 100 clients p99 |",
        "|---|---:|---:|---:|---:|",
    ]
    with _servers() as (redis_server, postgres):
        rows: dict[str, list[tuple[float, float]]] = {}
        if postgres is not None:
            for shape in ((1, 1, count), (4, 25, max(20, count // 25))):
                for way in WAYS:
                    rows.setdefault(f"postgres, {way}", []).append(
                        cost(postgres.dsn(), way, *shape)
                    )
        if redis_server is not None:
            for shape in ((1, 1, count), (4, 25, max(20, count // 25))):
                rows.setdefault("redis, one EVALSHA (unchanged)", []).append(
                    cost(redis_server.url, WAYS[1], *shape)
                )
    for label, ((p50, p99), (many50, many99)) in rows.items():
        out.append(
            f"| {label} | {p50 * 1e6:,.0f} | {p99 * 1e6:,.0f} "
            f"| {many50 * 1e6:,.0f} | {many99 * 1e6:,.0f} |"
        )
    before = rows.get(f"postgres, {WAYS[0]}")
    after = rows.get(f"postgres, {WAYS[1]}")
    if before and after:
        out += [
            "",
            f"After / before, p50: one client {after[0][0] / before[0][0]:.2f}x, "
            f"100 clients {after[1][0] / before[1][0]:.2f}x (target at one client: <= 0.5x).",
        ]
    return out


if __name__ == "__main__":
    print("\n".join(section(int(sys.argv[1]) if len(sys.argv) > 1 else 500)))
