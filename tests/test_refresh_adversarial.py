"""Adversarial review of "never lose a refresh token": the paths between Gong's answer and the
store that the core guarantees missed. Each test failed before its fix."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gong_authlib import (
    TokenEndpointError,
    TokenStoreError,
    gong_session,
)
from gong_authlib.stores import ACTIVE, SQLiteTokenStore
from gong_authlib.testing import FakeGong
from gong_authlib.token import Token
from tests.authflow import authorize_into


class AckLostStore(SQLiteTokenStore):
    """A real SQLite store whose writes land but report failure while ``ack_lost`` is on: a
    Redis reply or a PostgreSQL COMMIT acknowledgement lost on the way back."""

    ack_lost = False

    def put(self, customer: str, token: Token) -> None:
        super().put(customer, token)
        if self.ack_lost:
            raise TokenStoreError("write failed: connection reset (the write had landed)")

    def settle(self, customer: str, token: Token, *, spent: str) -> bool:
        # The write that follows Gong's answer (issue 26: it settles the refresh intent).
        landed = super().settle(customer, token, spent=spent)
        if self.ack_lost:
            raise TokenStoreError("write failed: connection reset (the write had landed)")
        return landed


def _same(one: Token | None, other: Token | None) -> bool:
    """Equal tokens, compared without pytest printing them (they are secrets) on failure."""
    return one is not None and one == other


def _stale_acme(gong: FakeGong, store: SQLiteTokenStore) -> Token:
    original = authorize_into(gong, store)
    gong.clock.advance(86_400)
    return original


def test_a_token_kept_in_memory_never_overwrites_a_newer_stored_one(
    fake_gong: FakeGong, tmp_path: Path
) -> None:
    # Process 1's write landed but reported failure until its lease ran short: it keeps its
    # token (R1) in memory. Process 2 then refreshes R1 into R2 and stores R2. Process 1's
    # next call must not write R1 back over R2: R1 is spent, and the customer would be lost.
    mine = AckLostStore(tmp_path / "tokens.db")
    _stale_acme(fake_gong, mine)
    first = gong_session(fake_gong.oauth_client(), mine, "acme", lock_lease=0.4, rate_limit=None)
    mine.ack_lost = True
    with pytest.raises(TokenStoreError, match="customer 'acme'"):
        first.get("/v2/users")
    mine.ack_lost = False
    theirs = SQLiteTokenStore(tmp_path / "tokens.db")
    fake_gong.clock.advance(86_400)
    second = gong_session(fake_gong.oauth_client(), theirs, "acme", rate_limit=None)
    assert second.get("/v2/users").status_code == 200
    newest = theirs.get("acme")
    assert fake_gong.stats.refreshes("acme") == 2
    assert first.get("/v2/users").status_code == 200
    assert _same(theirs.get("acme"), newest)
    fake_gong.clock.advance(86_400)
    assert first.get("/v2/users").status_code == 200
    assert sum(fake_gong.stats.invalid_grant.values()) == 0


def test_a_token_kept_in_memory_never_overwrites_a_new_authorization(
    fake_gong: FakeGong, tmp_path: Path
) -> None:
    # The store refused process 1's write; meanwhile the admin connects the customer again
    # (new scopes, say). Process 1's next call must keep the new authorization.
    store = SQLiteTokenStore(tmp_path / "tokens.db")
    _stale_acme(fake_gong, store)
    first = gong_session(fake_gong.oauth_client(), store, "acme", lock_lease=0.4, rate_limit=None)
    failing = AckLostStore(tmp_path / "tokens.db")
    first.auth.customer_token.store = failing  # the same file, writes refused from here on
    failing.ack_lost = True
    with pytest.raises(TokenStoreError, match="customer 'acme'"):
        first.get("/v2/users")
    failing.ack_lost = False
    fresh_authorization = authorize_into(fake_gong, store)
    assert first.get("/v2/users").status_code == 200
    assert _same(store.get("acme"), fresh_authorization)
    assert sum(fake_gong.stats.invalid_grant.values()) == 0


class InterruptedStore(SQLiteTokenStore):
    """Raises a BaseException (KeyboardInterrupt, gevent's Timeout, a signal handler's
    SystemExit) in the middle of the write that follows Gong's answer."""

    interrupt = False

    def settle(self, customer: str, token: Token, *, spent: str) -> bool:
        if self.interrupt:
            self.interrupt = False
            raise KeyboardInterrupt
        return super().settle(customer, token, spent=spent)


def test_an_interrupt_during_the_write_keeps_the_new_token(
    fake_gong: FakeGong, tmp_path: Path
) -> None:
    store = InterruptedStore(tmp_path / "tokens.db")
    original = _stale_acme(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(), store, "acme", rate_limit=None)
    store.interrupt = True
    with pytest.raises(KeyboardInterrupt):
        session.get("/v2/users")
    assert session.get("/v2/users").status_code == 200  # the kept token is written first
    stored = store.get("acme")
    assert stored is not None
    assert not _same(stored, original)
    assert fake_gong.stats.refreshes("acme") == 1
    assert sum(fake_gong.stats.invalid_grant.values()) == 0


def _jwt(claims: str) -> str:
    payload = base64.urlsafe_b64encode(claims.encode()).decode().rstrip("=")
    return f"eyJhbGciOiJIUzI1NiJ9.{payload}.c2ln"


def test_an_access_token_too_deeply_nested_to_decode_does_not_lose_the_refresh_token(
    fake_gong: FakeGong, tmp_path: Path
) -> None:
    # A JWT-shaped access token whose payload is nested beyond the JSON decoder's recursion
    # limit raised RecursionError after Gong had rotated the pair.
    store = SQLiteTokenStore(tmp_path / "tokens.db")
    original = _stale_acme(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(retries=0), store, "acme", retries=0)
    deep = '{"exp":' + "[" * 100_000 + "]" * 100_000 + "}"
    fake_gong.inject("token", "answer", changes={"access_token": _jwt(deep)})
    with contextlib.suppress(TokenEndpointError):  # judged after keeping is fine
        session.get("/v2/users")
    stored = store.get("acme")
    assert stored is not None
    assert not _same(stored, original)
    fake_gong.clock.advance(86_400)
    assert session.get("/v2/users").status_code == 200
    assert sum(fake_gong.stats.invalid_grant.values()) == 0


class StoreWriteAfterReread(SQLiteTokenStore):
    """Runs ``between`` right after the refresher re-reads the store on ``invalid_grant``: the
    moment another process's write lands between that re-read and the status write."""

    between: Any = None
    reads = 0

    def get_with_status(self, customer: str) -> Any:
        result = super().get_with_status(customer)
        self.reads += 1
        if self.between is not None and self.reads == 3:  # before lock, under lock, re-read
            between, self.between = self.between, None
            between()
        return result


def test_invalid_grant_never_flags_a_token_stored_by_another_process_meanwhile(
    fake_gong: FakeGong, tmp_path: Path
) -> None:
    # Process 1 refreshed (its lease lost to a pause, say) and writes its new token just after
    # process 2, whose refresh Gong refused with invalid_grant, re-read the store. Process 2
    # must not leave "reauthorization required" on the live token process 1 stored.
    store = StoreWriteAfterReread(tmp_path / "tokens.db")
    original = _stale_acme(fake_gong, store)
    client = fake_gong.oauth_client()
    spent_elsewhere = client.refresh_answer(original, customer="acme").token  # process 1
    store.between = lambda: SQLiteTokenStore(tmp_path / "tokens.db").put("acme", spent_elsewhere)
    session = gong_session(client, store, "acme", rate_limit=None)
    assert session.get("/v2/users").status_code == 200  # process 2 adopts process 1's token
    assert store.status("acme").state == ACTIVE
    assert _same(store.get("acme"), spent_elsewhere)


def test_lease_renewal_does_not_leak_sqlite_connections(
    fake_gong: FakeGong, tmp_path: Path
) -> None:
    # The lease is renewed from a thread of its own, one per refresh; SQLite connections are
    # per thread, and each renewer's stayed open until the store was closed.
    store = SQLiteTokenStore(tmp_path / "tokens.db")
    authorize_into(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(), store, "acme", lock_lease=0.15)
    for _ in range(6):
        fake_gong.clock.advance(86_400)
        fake_gong.inject("token", "delay", seconds=0.12)  # outlasts a third of the lease
        assert session.get("/v2/users").status_code == 200
    threads = threading.active_count()
    assert len(store._connections) <= threads + 2
    assert len(store._connections) < 6


def test_deeply_nested_401_body_is_an_ordinary_401(fake_gong: FakeGong, tmp_path: Path) -> None:
    store = SQLiteTokenStore(tmp_path / "tokens.db")
    authorize_into(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(), store, "acme", rate_limit=None)
    customer_token = session.auth.customer_token
    assert customer_token.missing_scope(json.dumps({"errors": "x"})) is None
    assert customer_token.missing_scope("[" * 100_000 + "]" * 100_000) is None


def _child_exit_code(child: Callable[[], bool], seconds: float = 10.0) -> int | None:
    """Fork, run ``child`` in the child, and its exit code (None: it hung and was killed)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if child() else 1
        finally:
            os._exit(code)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done, raw = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(raw)
        time.sleep(0.01)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return None


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() only")
def test_fork_while_a_thread_opens_an_sqlite_connection_leaves_the_child_working(
    fake_gong: FakeGong, tmp_path: Path
) -> None:
    # A forked child opens its own SQLite connections, under the store's connection guard:
    # a parent thread inside that guard at fork() time left it held forever in the child.
    store = SQLiteTokenStore(tmp_path / "tokens.db")
    original = authorize_into(fake_gong, store)
    inside, leave = threading.Event(), threading.Event()

    def opening_a_connection() -> None:
        with store._connections_guard:  # the moment a thread registers its new connection
            inside.set()
            leave.wait(30)

    thread = threading.Thread(target=opening_a_connection)
    thread.start()
    assert inside.wait(10)
    try:
        code = _child_exit_code(lambda: _same(store.get("acme"), original))
    finally:
        leave.set()
        thread.join()
    assert code == 0, "the child blocked on the store's connection guard"


MISSING_SCOPE_SPELLINGS = [
    "You don\u2019t have permission to use \u2018api:calls:read:basic\u2019 in your app.",
    'You don\'t have permission to use "api:calls:read:basic" in your app.',
    "you don't have permission to use 'api:calls:read:basic' in your app",
]


@pytest.mark.parametrize("text", MISSING_SCOPE_SPELLINGS)
def test_a_missing_scope_401_in_another_spelling_never_refreshes(
    fake_gong: FakeGong, tmp_path: Path, text: str
) -> None:
    # Typographic quotes (a gateway or a new Gong release) or other case must not turn every
    # call back into a refresh.
    store = SQLiteTokenStore(tmp_path / "tokens.db")
    authorize_into(fake_gong, store)
    fake_gong.clock.advance(3600)  # old enough that a 401 could mean a dead token
    session = gong_session(fake_gong.oauth_client(), store, "acme", rate_limit=None)
    fake_gong.inject("api", "body", status=401, body={"errors": [text]}, times=3)
    for _ in range(3):
        assert session.get("/v2/calls").status_code == 401
    assert fake_gong.stats.refreshes("acme") == 0
