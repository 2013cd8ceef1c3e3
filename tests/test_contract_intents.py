"""Refresh intents and the store identity (issue 26): every store, the same behaviour, on real
SQLite, Redis and PostgreSQL, as two app servers would open them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gong_authlib.stores import REAUTHORIZATION_REQUIRED, TokenStore
from gong_authlib.stores.identity import StoreReset
from gong_authlib.stores.intents import RefreshIntent
from gong_authlib.token import fingerprint
from tests.stores import STORE_KINDS, make_store, two_stores
from tests.test_contract_tokens import make_token


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TokenStore]:
    with make_store(request.param, request, tmp_path) as opened:
        yield opened


def _intent(owner: str = "worker-a", n: int = 1, deadline: float | None = None) -> RefreshIntent:
    return RefreshIntent(owner, fingerprint(f"refresh-{n}"), deadline or time.time() + 60)


def test_an_intent_is_recorded_only_beside_a_stored_token(store: TokenStore) -> None:
    assert not store.open_intent("acme", _intent())
    assert store.intent("acme") is None
    store.put("acme", make_token(1))
    wanted = _intent(deadline=1_900_000_000.25)
    assert store.open_intent("acme", wanted)
    assert store.intent("acme") == wanted
    assert wanted.is_open(1_900_000_000.0)
    assert not wanted.is_open(1_900_000_000.25)
    assert store.get("acme") == make_token(1)  # the token is untouched


def test_only_its_owner_closes_an_intent(store: TokenStore) -> None:
    store.put("acme", make_token(1))
    store.open_intent("acme", _intent("worker-a"))
    store.close_intent("acme", "worker-b")
    assert store.intent("acme") is not None
    store.close_intent("acme", "worker-a")
    assert store.intent("acme") is None


def test_settle_writes_only_over_the_intent_for_the_token_it_spent(store: TokenStore) -> None:
    store.put("acme", make_token(1))
    spent = fingerprint("refresh-1")
    assert not store.settle("acme", make_token(2), spent=spent)  # no intent: nothing written
    assert store.get("acme") == make_token(1)
    store.open_intent("acme", _intent("worker-b", n=7))
    assert not store.settle("acme", make_token(2), spent=spent)  # another token's intent
    store.open_intent("acme", _intent("worker-b", n=1))
    store.set_status("acme", REAUTHORIZATION_REQUIRED, reason="x")
    # Anyone's intent for the token it spent: the store has not moved past that token.
    assert store.settle("acme", make_token(2), spent=spent)
    assert store.get("acme") == make_token(2)
    assert store.intent("acme") is None
    assert store.status("acme").active
    assert not store.settle("acme", make_token(3), spent=spent)  # settled once


def test_put_and_delete_clear_the_intent(store: TokenStore) -> None:
    store.put("acme", make_token(1))
    store.open_intent("acme", _intent())
    store.put("acme", make_token(5))  # a new authorization supersedes the refresh in flight
    assert store.intent("acme") is None
    assert not store.settle("acme", make_token(2), spent=fingerprint("refresh-1"))
    assert store.get("acme") == make_token(5)
    store.open_intent("acme", _intent(n=5))
    assert store.delete("acme")
    assert store.intent("acme") is None
    assert not store.settle("acme", make_token(6), spent=fingerprint("refresh-5"))
    assert store.get("acme") is None  # a deleted customer is not brought back by a settle
    assert store.customers() == []


def test_restore_writes_only_where_nothing_is_stored(store: TokenStore) -> None:
    assert store.restore("acme", make_token(1))
    assert store.get("acme") == make_token(1)
    assert store.customers() == ["acme"]
    assert not store.restore("acme", make_token(2))
    assert store.get("acme") == make_token(1)


def test_settle_and_restore_raise_the_issue_mark_as_put_does(store: TokenStore) -> None:
    """A settled or restored pair is a stored pair: the rollback check (newest_issue) must
    count it, or the next write of the older row would go unseen."""
    store.put("acme", make_token(1, issued_at=1_000.0))
    store.open_intent("acme", _intent(n=1))
    assert store.settle("acme", make_token(2, issued_at=2_000.0), spent=fingerprint("refresh-1"))
    assert store.newest_issue("acme") == 2_000.0
    assert store.restore("globex", make_token(3, issued_at=3_000.0))
    assert store.newest_issue("globex") == 3_000.0
    assert not store.restore("globex", make_token(4, issued_at=4_000.0))
    assert store.newest_issue("globex") == 3_000.0  # nothing written, nothing raised


def test_reset_records_are_kept_until_cleared(store: TokenStore) -> None:
    assert store.reset_record() is None
    store.record_reset(StoreReset(1_800_000_000.5, "acme, globex"))
    assert store.reset_record() == StoreReset(1_800_000_000.5, "acme, globex")
    store.clear_reset()
    assert store.reset_record() is None


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis", "postgres"])
def test_one_identity_per_store_whoever_claims_first(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    first, second = two_stores(kind, request, tmp_path)
    assert first.store_identity() is None
    seen = first.identity_seen()
    assert second.identity_seen() == seen
    assert first.store_identity() == seen
    assert first.claim_identity("another") == seen
    assert not first.was_reset()
    assert not second.was_reset()
