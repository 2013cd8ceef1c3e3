"""What a worker does when another's refresh intent names the refresh token it would present
(issue 26): it waits for that worker's pair, goes on once the intent has ended or its
deadline passed, and never records the customer as revoked for an invalid_grant while the
other's intent is open. Real SQLite, FakeGong over HTTP."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from gong_authlib import (
    ReauthorizationRequired,
    TokenEndpointError,
    TokenStoreError,
    gong_session,
)
from gong_authlib.stores import SQLiteTokenStore
from gong_authlib.stores.intents import RefreshIntent
from gong_authlib.testing import FakeGong
from gong_authlib.token import Token, fingerprint
from tests.authflow import authorize_into


def _another_workers_intent(token: Token, seconds: float = 60.0) -> RefreshIntent:
    return RefreshIntent("another-worker", fingerprint(token.refresh_token), time.time() + seconds)


def _stale(gong: FakeGong, tmp_path: Path) -> tuple[SQLiteTokenStore, Token]:
    """A store whose customer acme needs a refresh, and the pair it holds."""
    store = SQLiteTokenStore(tmp_path / "tokens.db")
    original = authorize_into(gong, store)
    gong.clock.advance(86_400)
    return store, original


def _same(one: Token | None, other: Token | None) -> bool:
    return one is not None and one == other


def test_a_worker_waits_for_the_pair_of_the_refresh_in_flight(
    fake_gong: FakeGong, tmp_path: Path
) -> None:
    store, original = _stale(fake_gong, tmp_path)
    # Another worker spent the refresh token; its pair is not stored yet.
    theirs = fake_gong.oauth_client().refresh_answer(original, customer="acme").token
    store.open_intent("acme", _another_workers_intent(original))
    timer = threading.Timer(
        0.3,
        lambda: SQLiteTokenStore(tmp_path / "tokens.db").settle(
            "acme", theirs, spent=fingerprint(original.refresh_token)
        ),
    )
    timer.start()
    session = gong_session(fake_gong.oauth_client(), store, "acme", rate_limit=None)
    assert session.get("/v2/users").status_code == 200  # with the other worker's pair
    timer.join()
    assert fake_gong.stats.refreshes("acme") == 1  # the other worker's only
    assert sum(fake_gong.stats.invalid_grant.values()) == 0
    assert _same(store.get("acme"), theirs)


def test_the_wait_is_bounded_and_the_spent_token_never_presented(
    fake_gong: FakeGong, tmp_path: Path
) -> None:
    store, original = _stale(fake_gong, tmp_path)
    fake_gong.oauth_client().refresh_answer(original, customer="acme")  # spent elsewhere
    store.open_intent("acme", _another_workers_intent(original))
    session = gong_session(
        fake_gong.oauth_client(), store, "acme", rate_limit=None, lock_timeout=0.3
    )
    with pytest.raises(TokenStoreError, match="another worker is refreshing it"):
        session.get("/v2/users")
    assert sum(fake_gong.stats.invalid_grant.values()) == 0
    assert store.status("acme").active


def test_past_the_intents_deadline_the_worker_goes_on(fake_gong: FakeGong, tmp_path: Path) -> None:
    store, original = _stale(fake_gong, tmp_path)
    # A worker that died before its token call left: the refresh token is still good.
    store.open_intent("acme", _another_workers_intent(original, seconds=-1))
    session = gong_session(fake_gong.oauth_client(), store, "acme", rate_limit=None)
    assert session.get("/v2/users").status_code == 200
    assert fake_gong.stats.refreshes("acme") == 1
    assert store.intent("acme") is None  # settled with the new pair


def test_an_intent_closed_without_a_pair_lets_the_waiter_refresh(
    fake_gong: FakeGong, tmp_path: Path
) -> None:
    store, original = _stale(fake_gong, tmp_path)
    store.open_intent("acme", _another_workers_intent(original))
    # The other worker's token call failed (a 5xx): it clears its intent, nothing granted.
    timer = threading.Timer(
        0.2, lambda: SQLiteTokenStore(tmp_path / "tokens.db").close_intent("acme", "another-worker")
    )
    timer.start()
    session = gong_session(fake_gong.oauth_client(), store, "acme", rate_limit=None)
    assert session.get("/v2/users").status_code == 200
    timer.join()
    assert fake_gong.stats.refreshes("acme") == 1


def test_invalid_grant_under_another_workers_open_intent_is_not_a_revocation(
    fake_gong: FakeGong, tmp_path: Path
) -> None:
    """The other worker took the customer while this one's lease had lapsed (a pause, a
    partition) and spent the token first: Gong's invalid_grant says nothing about the
    customer, whose new pair is on its way."""
    store, original = _stale(fake_gong, tmp_path)
    fake_gong.oauth_client().refresh_answer(original, customer="acme")  # spent elsewhere...
    fake_gong.inject("token", "delay", seconds=0.3)
    other = SQLiteTokenStore(tmp_path / "tokens.db")

    def their_intent_lands_during_our_call() -> None:
        while fake_gong.emulator.faults:
            time.sleep(0.005)
        other.open_intent("acme", _another_workers_intent(original))  # ...its intent now

    thread = threading.Thread(target=their_intent_lands_during_our_call)
    thread.start()
    session = gong_session(fake_gong.oauth_client(), store, "acme", rate_limit=None)
    with pytest.raises(TokenStoreError, match="not recorded as needing re-authorization"):
        session.get("/v2/users")
    thread.join()
    assert sum(fake_gong.stats.invalid_grant.values()) == 1
    assert store.status("acme").active  # before: "reauthorization required"


def test_a_pair_settled_after_its_intents_deadline_still_lands_over_the_spent_token(
    fake_gong: FakeGong, tmp_path: Path
) -> None:
    """The other worker spent the refresh token and its store stayed unreachable past its
    intent's deadline; this worker then presents the spent token (as designed), gets
    invalid_grant and records the customer as needing re-authorization. The other worker's
    background writer reaching the store afterwards must still store its pair, the only live
    one, and clear that status: the customer was never revoked by Gong. Before, the
    invalid_grant path cleared the intent, the late settle found none and the pair was
    dropped: the customer had to authorize again."""
    store, original = _stale(fake_gong, tmp_path)
    theirs = fake_gong.oauth_client().refresh_answer(original, customer="acme").token
    store.open_intent("acme", _another_workers_intent(original, seconds=-1))
    session = gong_session(fake_gong.oauth_client(), store, "acme", rate_limit=None)
    with pytest.raises(ReauthorizationRequired):
        session.get("/v2/users")
    assert sum(fake_gong.stats.invalid_grant.values()) == 1
    # The other worker's store answers again: its writer settles the pair it holds.
    late = SQLiteTokenStore(tmp_path / "tokens.db")
    assert late.settle("acme", theirs, spent=fingerprint(original.refresh_token))
    assert _same(store.get("acme"), theirs)
    assert store.status("acme").active
    assert session.get("/v2/users").status_code == 200
    assert sum(fake_gong.stats.invalid_grant.values()) == 1


def test_a_failed_refresh_leaves_the_claim_of_the_worker_that_spent_the_token(
    fake_gong: FakeGong, tmp_path: Path
) -> None:
    # Another worker spent the refresh token and holds the successor, unsaved: its intent's
    # deadline passed during a store outage. A worker that then refreshes and fails for a
    # passing reason (Gong's 5xx) must not erase that intent: it is what lets the other
    # worker's late settle land, and without it the customer's only live pair is dropped.
    store, original = _stale(fake_gong, tmp_path)
    theirs = fake_gong.oauth_client().refresh_answer(original, customer="acme").token
    store.open_intent("acme", _another_workers_intent(original, seconds=-1.0))
    fake_gong.inject("token", "status", status=503, times=10)
    session = gong_session(fake_gong.oauth_client(), store, "acme", rate_limit=None)
    with pytest.raises(TokenEndpointError):
        session.get("/v2/users")
    assert store.settle("acme", theirs, spent=fingerprint(original.refresh_token))
    assert _same(store.get("acme"), theirs)
