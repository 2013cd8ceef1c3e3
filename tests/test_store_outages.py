"""A store that goes away and comes back: clear errors meanwhile, nothing lost, recovery."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import anyio.to_thread
import pytest

from gong_authlib import (
    TokenStoreError,
    gong_async_client,
    gong_httpx_client,
    gong_session,
    open_store,
)
from gong_authlib.stores import TokenStore
from gong_authlib.testing import FakeGong
from tests.authflow import authorize_into
from tests.reliability import Reliability
from tests.servers import PostgresServer, RedisServer, _postgres_bin, new_folder
from tests.services import require_programs

T = TypeVar("T")

pytestmark = [pytest.mark.slow, pytest.mark.reliability]


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer(require_programs("redis-server")["redis-server"], new_folder())
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.folder, ignore_errors=True)


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    bindir = _postgres_bin()
    if bindir is None:
        require_programs("initdb")
    assert bindir is not None
    server = PostgresServer(bindir, new_folder())
    server.init()
    server.start()
    yield server
    with contextlib.suppress(subprocess.CalledProcessError):  # stopped by the test already
        server.stop()
    shutil.rmtree(server.folder, ignore_errors=True)


def _once_back(call: Callable[[], T]) -> T:
    """``call()`` once the restarted server takes connections again. A client's pool that
    failed through the outage reconnects with its own back-off (psycopg_pool's doubles from
    1 s), so its first request after the restart may still time out: retry for up to 30 s,
    then let the error stand."""
    deadline = time.monotonic() + 30.0
    while True:
        try:
            return call()
        except TokenStoreError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _outage(
    gong: FakeGong,
    store: TokenStore,
    stop: Callable[[], None],
    start: Callable[[], None],
    where: str,
    *,
    paced_store: TokenStore,
) -> None:
    original = authorize_into(gong, store)
    session = gong_session(gong.oauth_client(), store, "acme", rate_limit=None)
    # Its own store object (its own connections), so the store under test sees the same
    # failures as before pacing existed.
    paced = gong_session(gong.oauth_client(), paced_store, "acme")
    assert session.get("/v2/users").status_code == 200
    assert paced.get("/v2/users").status_code == 200

    paced_httpx = gong_httpx_client(gong.oauth_client(), paced_store, "acme")
    assert paced_httpx.get("/v2/users").status_code == 200

    async def async_client_across_the_outage() -> None:
        async with gong_async_client(gong.oauth_client(), paced_store, "acme") as client:
            assert (await client.get("/v2/users")).status_code == 200
            await anyio.to_thread.run_sync(stop)
            calls = gong.stats.api_calls["acme"]
            with pytest.raises(TokenStoreError, match="rate limit"):
                await client.get("/v2/users")
            assert gong.stats.api_calls["acme"] == calls

    asyncio.run(async_client_across_the_outage())  # stops the store mid-run
    with pytest.raises(TokenStoreError, match=where) as caught:
        store.get("acme")
    assert "reachable" in str(caught.value)
    # Pacing needs the shared budget: no slot, no call (never unpaced traffic), on requests
    # and httpx alike.
    calls = gong.stats.api_calls["acme"]
    with pytest.raises(TokenStoreError, match="rate limit"):
        paced.get("/v2/users")
    with pytest.raises(TokenStoreError, match="rate limit"):
        paced_httpx.get("/v2/users")
    assert gong.stats.api_calls["acme"] == calls
    paced_httpx.close()
    # Without pacing, a fresh token in memory needs no store: calls go on during the outage.
    assert session.get("/v2/users").status_code == 200
    # A refresh needs the lock and the store: it fails clearly, and Gong is never asked.
    gong.clock.advance(86_400)
    with pytest.raises(TokenStoreError):
        session.get("/v2/users")
    assert gong.stats.refreshes() == 0

    start()
    assert _once_back(lambda: store.get("acme")) == original  # nothing lost across the restart
    # Pacing resumes with the store.
    assert _once_back(lambda: paced.get("/v2/users")).status_code == 200
    assert session.get("/v2/users").status_code == 200
    assert gong.stats.refreshes() == 1
    refreshed = store.get("acme")
    assert refreshed is not None
    assert refreshed.refresh_token != original.refresh_token


OUTCOME = (
    "TokenStoreError naming host and port; paced calls (requests, httpx sync and async) stopped "
    "with it, unpaced fresh tokens "
    "kept working; no refresh without the store; after restart the token was intact and the "
    "refresh went through"
)


def test_redis_outage_and_restart(
    fake_gong: FakeGong, own_redis: RedisServer, reliability: Reliability
) -> None:
    store, paced_store = open_store(own_redis.url), open_store(own_redis.url)
    _outage(
        fake_gong,
        store,
        own_redis.stop,
        own_redis.start,
        r"redis 127\.0\.0\.1",
        paced_store=paced_store,
    )
    store.close()
    paced_store.close()
    reliability.record("fault", "Redis stopped and restarted", "mid-run, token expiring", OUTCOME)


def test_postgres_outage_and_restart(
    fake_gong: FakeGong, own_postgres: PostgresServer, reliability: Reliability
) -> None:
    store, paced_store = open_store(own_postgres.dsn()), open_store(own_postgres.dsn())
    _outage(
        fake_gong,
        store,
        own_postgres.stop,
        own_postgres.start,
        r"postgresql 127\.0\.0\.1",
        paced_store=paced_store,
    )
    store.close()
    paced_store.close()
    reliability.record(
        "fault", "PostgreSQL stopped and restarted", "mid-run, token expiring", OUTCOME
    )


def test_unreachable_stores_fail_at_open(tmp_path: Any) -> None:
    from tests.cliflow import free_port

    port = free_port()
    with pytest.raises(TokenStoreError, match=r"postgresql 127\.0\.0\.1"):
        open_store(f"postgresql://gong:hunter2@127.0.0.1:{port}/postgres")
    with pytest.raises(TokenStoreError, match=r"redis 127\.0\.0\.1") as caught:
        open_store(f"redis://:hunter2@127.0.0.1:{port}/0")
    assert "hunter2" not in str(caught.value)
    assert "is Redis running and reachable?" in str(caught.value)
