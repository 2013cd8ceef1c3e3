"""Faults between Gong's answer and the store, over real SQLite, Redis and PostgreSQL: a revoked
customer, a store that refuses the write, leases that a slow or throttled token call outlives,
fork() during a refresh, a lock wait bounded in-process. Refresh tokens lost: 0 in each."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gong_authlib import (
    ReauthorizationRequired,
    TokenStoreError,
    gong_session,
    open_store,
)
from gong_authlib.stores import (
    ACTIVE,
    REAUTHORIZATION_REQUIRED,
    PostgresTokenStore,
    RedisTokenStore,
    SQLiteTokenStore,
    TokenStore,
)
from gong_authlib.testing import FakeGong
from tests.authflow import authorize_into
from tests.reliability import Reliability
from tests.servers import PostgresServer, RedisServer, _postgres_bin, new_folder
from tests.services import require_programs

pytestmark = pytest.mark.reliability

SHARED = ["sqlite", "redis", "postgres"]


def _opener(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], TokenStore]:
    """Opens the same store again, as another process would (own connections and locks)."""
    unique = uuid.uuid4().hex[:12]
    if kind == "sqlite":
        return lambda: SQLiteTokenStore(tmp_path / "tokens.db")
    if kind == "redis":
        url = request.getfixturevalue("redis_server").url
        return lambda: RedisTokenStore(url, namespace=f"faults-{unique}")
    dsn = request.getfixturevalue("postgres_server").dsn()
    return lambda: PostgresTokenStore(dsn, table_prefix=f"f_{unique}", max_size=4)


@pytest.fixture(params=SHARED)
def twins(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, TokenStore, TokenStore]]:
    """Two handles on one store: two processes' views."""
    opener = _opener(request.param, request, tmp_path)
    first, second = opener(), opener()
    yield request.param, first, second
    first.close()
    second.close()


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def _token_call_arrived(gong: FakeGong) -> Callable[[], bool]:
    """True once FakeGong took the injected token fault: the refresh is in flight."""
    return lambda: not any(f.target == "token" for f in gong.emulator.faults)


def test_a_revoked_customer_stops_every_process_after_one_invalid_grant(
    fake_gong: FakeGong, twins: tuple[str, TokenStore, TokenStore], reliability: Reliability
) -> None:
    kind, mine, theirs = twins
    authorize_into(fake_gong, mine)
    session = gong_session(fake_gong.oauth_client(), mine, "acme")
    fake_gong.revoke("acme")
    fake_gong.clock.advance(86_400)
    for _ in range(200):
        with pytest.raises(ReauthorizationRequired):
            session.get("/v2/users")
    other = gong_session(fake_gong.oauth_client(), theirs, "acme")  # another process
    with pytest.raises(ReauthorizationRequired, match="expired or revoked"):
        other.get("/v2/users")
    assert fake_gong.stats.invalid_grant["acme"] == 1
    status = theirs.status("acme")
    assert status.state == REAUTHORIZATION_REQUIRED
    assert status.reason == "Token has been expired or revoked."
    assert status.since is not None
    assert theirs.customers_with_status(REAUTHORIZATION_REQUIRED) == ["acme"]
    authorize_into(fake_gong, theirs)  # the admin authorizes again: put clears the status
    assert mine.status("acme").state == ACTIVE
    assert session.get("/v2/users").status_code == 200
    assert other.get("/v2/users").status_code == 200
    reliability.record(
        "fault",
        f"revoked customer, {kind}",
        "201 calls in two processes after Gong's invalid_grant",
        "1 token call in all; status 'reauthorization required' with Gong's reason; a new "
        "authorization cleared it",
    )


def _hold_sqlite_write_lock(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def test_sqlite_locked_when_gong_answered_is_retried_until_it_takes_the_write(
    fake_gong: FakeGong, tmp_path: Path, reliability: Reliability
) -> None:
    store = SQLiteTokenStore(tmp_path / "tokens.db", busy_timeout=0.2)
    original = authorize_into(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(), store, "acme")
    fake_gong.clock.advance(86_400)
    fake_gong.inject("token", "delay", seconds=0.3)
    held: list[sqlite3.Connection] = []

    def lock_during_the_refresh() -> None:
        _wait_for(_token_call_arrived(fake_gong), "the token call")
        held.append(_hold_sqlite_write_lock(store.path))  # another connection: 1.5 s
        _wait_for(lambda: fake_gong.stats.refreshes("acme") == 1, "Gong's answer")
        time.sleep(1.5)
        held[0].execute("COMMIT")

    locker = threading.Thread(target=lock_during_the_refresh)
    locker.start()
    assert session.get("/v2/users").status_code == 200
    locker.join()
    stored = store.get("acme")
    assert stored is not None
    assert stored.refresh_token != original.refresh_token
    assert stored == session.auth.token
    assert sum(fake_gong.stats.invalid_grant.values()) == 0
    reliability.record(
        "fault",
        "SQLite locked by another connection when Gong answered",
        "exclusive lock held 1.5 s past the 0.2 s busy timeout",
        "write retried with backoff under the lease; call answered 200; refresh tokens lost 0",
    )


def test_a_write_failing_past_the_lease_keeps_the_token_in_use_and_retries_next_call(
    fake_gong: FakeGong, tmp_path: Path, reliability: Reliability
) -> None:
    store = SQLiteTokenStore(tmp_path / "tokens.db", busy_timeout=0.1)
    original = authorize_into(fake_gong, store)
    # Pacing off: a paced call needs the store for its slot, and this store refuses writes.
    session = gong_session(fake_gong.oauth_client(), store, "acme", lock_lease=2.0, rate_limit=None)
    fake_gong.clock.advance(86_400)
    fake_gong.inject("token", "delay", seconds=0.2)
    held: list[sqlite3.Connection] = []

    def lock_during_the_refresh() -> None:
        _wait_for(_token_call_arrived(fake_gong), "the token call")
        held.append(_hold_sqlite_write_lock(store.path))

    locker = threading.Thread(target=lock_during_the_refresh)
    locker.start()
    with pytest.raises(TokenStoreError, match="customer 'acme'"):
        session.get("/v2/users")  # the lease (2 s) ran short first
    locker.join()
    in_memory = session.auth.customer_token.current
    assert in_memory is not None
    assert in_memory.token.refresh_token != original.refresh_token
    # The store still refuses writes: the token Gong issued serves the calls from memory.
    assert session.get("/v2/users").status_code == 200
    held[0].execute("COMMIT")
    assert session.get("/v2/users").status_code == 200  # the write is retried first
    assert store.get("acme") == in_memory.token
    assert fake_gong.stats.refreshes("acme") == 1
    assert sum(fake_gong.stats.invalid_grant.values()) == 0
    reliability.record(
        "fault",
        "SQLite refusing writes past the lease",
        "exclusive lock held from the token call until released by hand",
        "TokenStoreError naming the customer; the new token served calls from memory; the "
        "next call after the lock wrote it; refresh tokens lost 0",
    )


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


def _stopped_mid_refresh(
    gong: FakeGong, store: TokenStore, stop: Callable[[], None], start: Callable[[], None]
) -> None:
    """Stop the store when the token call leaves; start it 3 s after Gong answered."""
    original = authorize_into(gong, store)
    session = gong_session(gong.oauth_client(), store, "acme", lock_lease=30.0)
    gong.clock.advance(86_400)
    gong.inject("token", "delay", seconds=0.3)

    def outage() -> None:
        _wait_for(_token_call_arrived(gong), "the token call")
        stop()
        _wait_for(lambda: gong.stats.refreshes("acme") == 1, "Gong's answer")
        time.sleep(3.0)  # the store is down for 3 s after Gong answered
        start()

    thread = threading.Thread(target=outage)
    thread.start()
    assert session.get("/v2/users").status_code == 200
    thread.join()
    stored = store.get("acme")
    assert stored is not None
    assert stored.refresh_token != original.refresh_token
    gong.clock.advance(86_400)
    assert session.get("/v2/users").status_code == 200  # the stored pair is the live one
    assert sum(gong.stats.invalid_grant.values()) == 0


OUTAGE_OUTCOME = (
    "write retried until the store was back; call answered 200; next refresh fine; refresh "
    "tokens lost 0"
)


@pytest.mark.slow
def test_redis_stopped_mid_refresh_loses_nothing(
    fake_gong: FakeGong, own_redis: RedisServer, reliability: Reliability
) -> None:
    store = open_store(own_redis.url)
    _stopped_mid_refresh(fake_gong, store, own_redis.stop, own_redis.start)
    store.close()
    reliability.record(
        "fault",
        "Redis stopped mid-refresh",
        "stopped when the token call left, restarted 3 s after Gong answered",
        OUTAGE_OUTCOME,
    )


@pytest.mark.slow
def test_postgres_stopped_mid_refresh_loses_nothing(
    fake_gong: FakeGong, own_postgres: PostgresServer, reliability: Reliability
) -> None:
    store = open_store(own_postgres.dsn())
    _stopped_mid_refresh(fake_gong, store, own_postgres.stop, own_postgres.start)
    store.close()
    reliability.record(
        "fault",
        "PostgreSQL stopped mid-refresh",
        "stopped when the token call left, restarted 3 s after Gong answered",
        OUTAGE_OUTCOME,
    )


SLOW = [
    ("429 Retry-After 2 s", {"kind": "status", "status": 429, "retry_after": 2}),
    ("answer after 2 s", {"kind": "delay", "seconds": 2.0}),
]


@pytest.mark.parametrize(("name", "fault"), SLOW, ids=[s[0] for s in SLOW])
def test_a_token_call_longer_than_the_lease_is_never_doubled(
    fake_gong: FakeGong,
    twins: tuple[str, TokenStore, TokenStore],
    reliability: Reliability,
    name: str,
    fault: dict[str, Any],
) -> None:
    """A 1 s lease, a token call of 2 s: the lease is renewed while it runs, so the second
    process waits instead of spending the same refresh token (a spurious invalid_grant)."""
    kind, mine, theirs = twins
    authorize_into(fake_gong, mine)
    options: dict[str, Any] = {"lock_lease": 1.0, "lock_timeout": 15.0}
    first = gong_session(fake_gong.oauth_client(), mine, "acme", **options)
    second = gong_session(fake_gong.oauth_client(), theirs, "acme", **options)
    fake_gong.clock.advance(86_400)
    fake_gong.inject("token", **fault)
    results: list[int] = []
    thread = threading.Thread(target=lambda: results.append(first.get("/v2/users").status_code))
    thread.start()
    _wait_for(_token_call_arrived(fake_gong), "the first token call")
    assert second.get("/v2/users").status_code == 200
    thread.join()
    assert results == [200]
    assert fake_gong.stats.refreshes("acme") == 1
    assert sum(fake_gong.stats.invalid_grant.values()) == 0
    assert first.auth.token == second.auth.token
    reliability.record(
        "fault",
        f"token endpoint slower than the lease: {name}, {kind}",
        "1 s lease, a second process waiting for the lock",
        "lease renewed during the call; 1 refresh, 0 invalid_grant",
    )


def test_lock_timeout_bounds_the_wait_in_process_too(
    fake_gong: FakeGong, tmp_path: Path, reliability: Reliability
) -> None:
    store = SQLiteTokenStore(tmp_path / "tokens.db")
    authorize_into(fake_gong, store)
    patient = gong_session(fake_gong.oauth_client(), store, "acme")
    hurried = gong_session(fake_gong.oauth_client(), store, "acme", lock_timeout=0.3)
    fake_gong.clock.advance(86_400)
    fake_gong.inject("token", "delay", seconds=2.0)
    thread = threading.Thread(target=lambda: patient.get("/v2/users"))
    thread.start()
    _wait_for(_token_call_arrived(fake_gong), "the token call")
    started = time.monotonic()
    with pytest.raises(TokenStoreError, match="in this process"):
        hurried.get("/v2/users")
    waited = time.monotonic() - started
    thread.join()
    assert waited < 1.5  # the other thread held the lock for 2 s
    assert fake_gong.stats.refreshes("acme") == 1
    reliability.record(
        "fault",
        "a refresh in another thread of the process",
        "lock_timeout=0.3 s, the refresh takes 2 s",
        f"TokenStoreError after {waited:.2f} s; no second refresh",
    )


@pytest.mark.parametrize("kind", SHARED)
def test_fork_during_a_refresh_leaves_the_child_no_held_lock(
    fake_gong: FakeGong,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    reliability: Reliability,
    kind: str,
) -> None:
    """gunicorn, uWSGI and Celery prefork fork while threads run: the child must not inherit
    a held per-customer lock (its first stale request would block forever), nor use the
    parent's store connections."""
    store = _opener(kind, request, tmp_path)()
    authorize_into(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(), store, "acme", lock_timeout=10.0)
    fake_gong.clock.advance(86_400)
    fake_gong.inject("token", "delay", seconds=1.0)
    thread = threading.Thread(target=lambda: session.get("/v2/users"))
    thread.start()
    _wait_for(_token_call_arrived(fake_gong), "the token call")
    pid = os.fork()
    if pid == 0:  # the child: the refreshing thread does not exist here
        code = 1
        try:
            code = 0 if session.get("/v2/users").status_code == 200 else 1
        finally:
            os._exit(code)
    deadline = time.monotonic() + 30
    status = None
    while status is None and time.monotonic() < deadline:
        done, raw = os.waitpid(pid, os.WNOHANG)
        status = os.waitstatus_to_exitcode(raw) if done else None
        time.sleep(0.01)
    if status is None:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    thread.join()
    assert status == 0, "the child's stale request blocked or failed"
    assert fake_gong.stats.refreshes("acme") == 1
    assert sum(fake_gong.stats.invalid_grant.values()) == 0
    assert session.get("/v2/users").status_code == 200  # the parent's connections still work
    store.close()
    reliability.record(
        "fault",
        f"fork() during a refresh, {kind}",
        "child forked while a parent thread held the customer's lock",
        "the child's stale request adopted the parent's refresh: 1 refresh, 0 invalid_grant",
    )


def test_kill_9_between_answer_and_write_is_the_documented_loss(
    fake_gong: FakeGong, tmp_path: Path, reliability: Reliability
) -> None:
    """The one window no client can close: the process dies after Gong rotated the pair and
    before the store took it. Measured here so the claim of docs/guarantees.md stays true."""
    store = SQLiteTokenStore(tmp_path / "tokens.db")
    original = authorize_into(fake_gong, store)
    # The killed child holds the lease: a short one, so the parent need not wait long.
    # The killed child's refresh intent keeps the parent from presenting the refresh token
    # until it ends (issue 26): a short one here too.
    session = gong_session(fake_gong.oauth_client(), store, "acme", lock_lease=1.0, intent_hold=1.0)
    fake_gong.clock.advance(86_400)
    pid = os.fork()
    if pid == 0:
        # In the child only: die the moment the answer is parsed, before the store write,
        # as a kill -9 landing in that window would.
        setattr(session.auth.customer_token, "_persist", lambda *_: os._exit(9))  # noqa: B010
        try:
            session.get("/v2/users")
        finally:
            os._exit(0)
    _, raw = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(raw) == 9
    assert store.get("acme") == original  # the old pair, spent at Gong
    with pytest.raises(ReauthorizationRequired):
        session.get("/v2/users")
    reliability.record(
        "fault",
        "kill -9 between Gong's answer and the store write",
        "process killed after the answer was parsed, before the write",
        "the pair is lost (ReauthorizationRequired once the dead worker's refresh intent "
        "ended): the one documented window, measured in docs/reliability.md",
    )
