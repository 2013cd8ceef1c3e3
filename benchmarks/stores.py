"""Token stores side by side: get/put latency at 1, 1,000 and 100,000 customers, and the token
calls of a refresh storm, for memory, SQLite, Redis and PostgreSQL, in one run.

Redis and PostgreSQL are throwaway servers on loopback (the test suite's helpers); stores are
filled in bulk (pipelines, one transaction), then timed through the public ``get``/``put``.

Usage: ``.venv/bin/python -m benchmarks.stores [--sizes 1,1000,100000] [--samples 2000]``
"""

from __future__ import annotations

import argparse
import platform
import random
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from gong_authlib import gong_session
from gong_authlib.stores import (
    MemoryTokenStore,
    PostgresTokenStore,
    RedisTokenStore,
    SQLiteTokenStore,
    TokenStore,
)
from gong_authlib.testing import FakeGong
from gong_authlib.token import Token
from tests.servers import PostgresServer, RedisServer, _postgres_bin, new_folder


def _token(n: int) -> Token:
    now = time.time()
    return Token(
        access_token=f"access-{n}-" + "x" * 600,
        refresh_token=f"refresh-{n}-" + "y" * 60,
        expires_at=now + 86_400,
        issued_at=now,
        api_base_url="https://us-49467.api.gong.io",
        scope=frozenset({"api:users:read", "api:calls:read:basic"}),
    )


def _bulk_fill(store: TokenStore, count: int) -> None:
    """Fill ``store`` with ``count`` customers quickly, through each backend's bulk path."""
    rows = [(f"customer-{i:06d}", store._codec.encode(_token(i))) for i in range(count)]
    if isinstance(store, MemoryTokenStore):
        store._data.update(rows)
    elif isinstance(store, SQLiteTokenStore):
        with sqlite3.connect(store.path) as db:
            db.executemany(
                "INSERT OR REPLACE INTO tokens (customer, data, updated_at) VALUES (?, ?, 0)",
                rows,
            )
    elif isinstance(store, RedisTokenStore):
        pipeline = store._redis.pipeline(transaction=False)
        for index, (customer, data) in enumerate(rows, 1):
            pipeline.set(store._key("token", customer), data)
            pipeline.sadd(store._key("customers"), customer)
            if index % 5000 == 0:
                pipeline.execute()
        pipeline.execute()
    elif isinstance(store, PostgresTokenStore):
        with (
            store._pool.connection() as connection,
            connection.transaction(),
            connection.cursor() as cursor,
        ):
            cursor.executemany(
                store._query(
                    "INSERT INTO {tokens} (customer, data) VALUES (%s, %s) "
                    "ON CONFLICT (customer) DO UPDATE SET data = EXCLUDED.data"
                ),
                rows,
            )


def _latencies(operation: Callable[[int], object], samples: int) -> list[float]:
    times = []
    for i in range(samples):
        start = time.perf_counter()
        operation(i)
        times.append(time.perf_counter() - start)
    return times


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextmanager
def _servers() -> Iterator[tuple[RedisServer | None, PostgresServer | None]]:
    redis_binary = shutil.which("redis-server")
    bindir = _postgres_bin()
    redis_server = RedisServer(redis_binary, new_folder()) if redis_binary else None
    postgres = PostgresServer(bindir, new_folder()) if bindir else None
    if redis_server:
        redis_server.start()
    if postgres:
        postgres.init()
        postgres.start()
    try:
        yield redis_server, postgres
    finally:
        if redis_server:
            redis_server.stop()
        if postgres:
            postgres.stop()


def _factories(
    folder: Path, redis_server: RedisServer | None, postgres: PostgresServer | None
) -> dict[str, Callable[[str], TokenStore]]:
    factories: dict[str, Callable[[str], TokenStore]] = {
        "memory": lambda tag: MemoryTokenStore(),
        "sqlite": lambda tag: SQLiteTokenStore(folder / f"{tag}.db"),
    }
    if redis_server:
        factories["redis"] = lambda tag: RedisTokenStore(redis_server.url, namespace=tag)
    if postgres:
        factories["postgres"] = lambda tag: PostgresTokenStore(postgres.dsn(), table_prefix=tag)
    return factories


def _measure(store: TokenStore, size: int, samples: int, rng: random.Random) -> tuple[float, ...]:
    _bulk_fill(store, size)
    picks = [f"customer-{rng.randrange(size):06d}" for _ in range(samples)]
    gets = _latencies(lambda i: store.get(picks[i]), samples)
    fresh = _token(-1)
    puts = _latencies(lambda i: store.put(picks[i], fresh), samples // 4)
    return _pct(gets, 0.5), _pct(gets, 0.99), _pct(puts, 0.5), _pct(puts, 0.99)


def latency_rows(
    factories: dict[str, Callable[[str], TokenStore]], sizes: list[int], samples: int
) -> list[tuple[str, int, tuple[float, ...]]]:
    rows = []
    rng = random.Random(7)  # noqa: S311 - which customers to read, not a secret
    for name, factory in factories.items():
        for size in sizes:
            store = factory(f"bench_{name}_{size}")
            rows.append((name, size, _measure(store, size, samples, rng)))
            store.close()
    return rows


def _storm(store: TokenStore, threads: int, expiries: int) -> tuple[int, int, float]:
    with FakeGong() as gong:
        gong.add_customer("acme")
        client = gong.oauth_client()
        url, _ = client.authorization_url(["api:users:read"], gong.redirect_uri)
        _, code = client.parse_callback(gong.approve(url), redirect_uri=gong.redirect_uri)
        store.put("acme", client.exchange_code(code, gong.redirect_uri))
        sessions = [gong_session(client, store, "acme", rate_limit=None) for _ in range(threads)]
        stalls: list[float] = []
        guard = threading.Lock()

        def call(index: int) -> None:
            start = time.perf_counter()
            sessions[index].get("/v2/users")
            with guard:
                stalls.append(time.perf_counter() - start)

        for _ in range(expiries):
            gong.clock.advance(86_400)
            workers = [threading.Thread(target=call, args=(i,)) for i in range(threads)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
        invalid = sum(gong.stats.invalid_grant.values())
        return gong.stats.refreshes("acme"), invalid, _pct(stalls, 0.99)


def storm_rows(
    factories: dict[str, Callable[[str], TokenStore]], threads: int = 32, expiries: int = 5
) -> list[tuple[str, int, int, int, float]]:
    rows = []
    for name, factory in factories.items():
        store = factory(f"storm_{name}")
        calls, invalid, p99 = _storm(store, threads, expiries)
        rows.append((name, expiries, calls, invalid, p99))
        store.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1,1000,100000")
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"python {platform.python_version()}, {platform.machine()}, {time.strftime('%Y-%m-%d')}")
    with tempfile.TemporaryDirectory() as temp, _servers() as (redis_server, postgres):
        factories = _factories(Path(temp), redis_server, postgres)
        print(f"\n### get/put latency ({args.samples} gets, {args.samples // 4} puts per row)\n")
        print("| store | customers | get p50 µs | get p99 µs | put p50 µs | put p99 µs |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, size, (g50, g99, p50, p99) in latency_rows(factories, sizes, args.samples):
            print(
                f"| {name} | {size:,} | {g50 * 1e6:,.0f} | {g99 * 1e6:,.0f} "
                f"| {p50 * 1e6:,.0f} | {p99 * 1e6:,.0f} |"
            )
        print("\n### Refresh storm: 32 threads, 5 expiries\n")
        print("| store | expiries | token calls | invalid_grant | p99 call ms |")
        print("|---|---:|---:|---:|---:|")
        for name, expiries, calls, invalid, p99 in storm_rows(factories):
            print(f"| {name} | {expiries} | {calls} | {invalid} | {p99 * 1e3:.1f} |")


if __name__ == "__main__":
    main()
