"""OAuth state: random, single-use, bound to its redirect URI, expiring with the code."""

from __future__ import annotations

import pytest

from gong_authlib import StateError
from gong_authlib.oauth.state import MemoryStateStore
from gong_authlib.testing import FakeClock

REDIRECT = "http://127.0.0.1:8765/callback"


def test_issued_state_comes_back_once_with_its_context() -> None:
    store = MemoryStateStore()
    state = store.issue(customer="acme", redirect_uri=REDIRECT, scopes=("api:users:read",))
    pending = store.consume(state, redirect_uri=REDIRECT)
    assert (pending.customer, pending.redirect_uri, pending.scopes) == (
        "acme",
        REDIRECT,
        ("api:users:read",),
    )
    with pytest.raises(StateError, match="already used"):
        store.consume(state, redirect_uri=REDIRECT)


def test_states_are_long_and_unique() -> None:
    store = MemoryStateStore()
    states = {store.issue(customer=None, redirect_uri=REDIRECT) for _ in range(500)}
    assert len(states) == 500
    assert min(len(s) for s in states) >= 43  # 32 random bytes, url-safe base64


def test_forged_state_is_rejected() -> None:
    store = MemoryStateStore()
    real = store.issue(customer="acme", redirect_uri=REDIRECT)
    forged = real[:-1] + ("A" if real[-1] != "A" else "B")
    with pytest.raises(StateError, match="not issued here"):
        store.consume(forged, redirect_uri=REDIRECT)
    store.consume(real, redirect_uri=REDIRECT)  # the forgery did not burn the real one


def test_missing_state_is_rejected() -> None:
    with pytest.raises(StateError, match="no state"):
        MemoryStateStore().consume("", redirect_uri=REDIRECT)


def test_state_expires_with_the_ten_minute_code() -> None:
    clock = FakeClock()
    store = MemoryStateStore(clock=clock)
    state = store.issue(customer="acme", redirect_uri=REDIRECT)
    clock.advance(601)
    with pytest.raises(StateError, match="10-minute"):
        store.consume(state, redirect_uri=REDIRECT)


def test_state_is_bound_to_its_redirect_uri() -> None:
    store = MemoryStateStore()
    state = store.issue(customer="acme", redirect_uri=REDIRECT)
    with pytest.raises(StateError, match="redirect URI"):
        store.consume(state, redirect_uri="https://evil.example/cb")


def test_expired_states_are_dropped_when_new_ones_are_issued() -> None:
    clock = FakeClock()
    store = MemoryStateStore(clock=clock)
    for _ in range(100):
        store.issue(customer=None, redirect_uri=REDIRECT)
    clock.advance(601)
    store.issue(customer=None, redirect_uri=REDIRECT)
    assert len(store._pending) == 1
