"""Refresh storms: many threads and processes, one expired token, exactly one refresh.

FakeGong's refresh tokens are strictly single-use: a second refresh with the same token is an
``invalid_grant``, so any refresh outside the lock discipline shows up in the counters. Every
store runs the storms; the processes stand in for app servers on separate machines.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import psycopg
import pytest
import redis

from gong_authlib import gong_session, open_store
from gong_authlib.stores import TokenStore
from gong_authlib.testing import FakeGong
from tests.authflow import authorize_into
from tests.reliability import Reliability
from tests.servers import PostgresServer, RedisServer
from tests.storm import hold_lock_until_killed, process_storm

SHARED_STORES = ["sqlite", "redis", "postgres"]


def shared_store_url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to an empty store of ``kind`` that several processes can open."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path}/tokens.db"
    if kind == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        database = 1 + uuid.uuid4().int % 63
        url = server.url.rsplit("/", 1)[0] + f"/{database}"
        redis.Redis.from_url(url).flushdb()
        return url
    postgres: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"storm_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres.dsn(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return postgres.dsn(name)


@pytest.fixture(params=SHARED_STORES)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return shared_store_url(request.param, request, tmp_path)


def _thread_storm(gong: FakeGong, store: TokenStore, threads: int, cycles: int) -> Counter[int]:
    client = gong.oauth_client()
    sessions = [
        gong_session(client, store, "acme", retries=0, rate_limit=None) for _ in range(threads)
    ]
    barrier = threading.Barrier(threads + 1)
    statuses: Counter[int] = Counter()
    errors: list[BaseException] = []
    guard = threading.Lock()

    def run(index: int) -> None:
        for _ in range(cycles):
            barrier.wait(timeout=30)
            try:
                status = sessions[index].get("/v2/users").status_code
                with guard:
                    statuses[status] += 1
            except BaseException as exc:  # the test reports it below
                errors.append(exc)
            barrier.wait(timeout=30)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    # Gong takes a while to answer a refresh; the wait widens the window a refresh outside
    # the locks would need to show up as an invalid_grant.
    gong.inject("token", "delay", seconds=0.05, times=10_000)
    for _ in range(cycles):
        gong.clock.advance(86_400)  # every token in every session is now expired
        barrier.wait(timeout=30)
        barrier.wait(timeout=30)
    for worker in workers:
        worker.join()
    assert errors == []
    return statuses


@pytest.mark.parametrize("kind", ["memory", *SHARED_STORES])
def test_thread_storm_refreshes_once_per_expiry(
    fake_gong: FakeGong, tmp_path: Path, request: pytest.FixtureRequest, kind: str
) -> None:
    url = "memory://" if kind == "memory" else shared_store_url(kind, request, tmp_path)
    with open_store(url) as store:
        authorize_into(fake_gong, store)
        statuses = _thread_storm(fake_gong, store, threads=32, cycles=5)
    assert statuses == {200: 32 * 5}
    assert fake_gong.stats.refreshes("acme") == 5
    assert sum(fake_gong.stats.invalid_grant.values()) == 0


@pytest.mark.slow
@pytest.mark.reliability
def test_process_storm(store_url: str, reliability: Reliability) -> None:
    processes, threads = 4, 8
    cycles = int(os.environ.get("GONG_AUTHLIB_STORM_CYCLES", "1000"))
    started = time.monotonic()
    # See _thread_storm; shorter here, where it is paid once per expiry, 1,000 times.
    storm = process_storm(
        store_url, processes=processes, threads=threads, cycles=cycles, token_delay=0.02
    )
    assert storm.exit_codes == [0] * processes
    assert len(storm.pids) == processes
    assert storm.errors == []
    assert storm.statuses == {200: processes * threads * cycles}
    assert storm.refreshes == cycles
    assert storm.invalid_grant == 0
    with open_store(store_url) as store:
        final = store.get("acme")
    assert final is not None
    assert final.scope  # the last refresh persisted a whole token
    kind = store_url.split(":", 1)[0]
    reliability.record(
        "load",
        f"forced refresh cycles, {kind}",
        f"{processes} processes x {threads} threads x {cycles} expiries",
        f"{storm.statuses[200]:,} calls all 200; {storm.refreshes:,} token calls for "
        f"{cycles:,} expiries; 0 invalid_grant; {time.monotonic() - started:.0f} s",
    )


@pytest.mark.slow
@pytest.mark.reliability
def test_a_killed_lock_holder_delays_others_only_until_its_lease_ends(
    fake_gong: FakeGong, store_url: str, reliability: Reliability
) -> None:
    store = open_store(store_url)
    before = authorize_into(fake_gong, store)
    context = multiprocessing.get_context("spawn")
    locked = context.Event()
    holder = context.Process(target=hold_lock_until_killed, args=(store_url, locked))
    holder.start()
    assert locked.wait(timeout=30)
    assert holder.pid is not None
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(timeout=10)
    assert holder.exitcode == -signal.SIGKILL

    fake_gong.clock.advance(86_400)
    session = gong_session(fake_gong.oauth_client(), store, "acme", lock_timeout=10)
    assert session.get("/v2/users").status_code == 200  # waited out the dead holder's lease
    assert fake_gong.stats.refreshes("acme") == 1
    after = store.get("acme")
    assert after is not None
    assert after.refresh_token != before.refresh_token  # the new pair was persisted
    store.close()
    reliability.record(
        "fault",
        f"kill -9 of the refresh-lock holder, {store_url.split(':', 1)[0]}",
        "lock held with a 1 s lease, holder killed",
        "the next refresh waited out the lease, then refreshed once; new pair persisted",
    )
