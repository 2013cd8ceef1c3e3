"""The StateStore contract over every TokenStore: issue, consume once (across processes too),
expiry, redirect and customer binding, purge."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gong_authlib import StateError
from gong_authlib.stores import TokenStore
from gong_authlib.testing import FakeClock
from tests.stores import STORE_KINDS, StoreSpec, make_store_and_spec, take_state_in_child

REDIRECT = "https://app.acme.example/oauth/gong/callback"
OTHER_REDIRECT = "http://127.0.0.1:8765/callback"


@pytest.fixture(params=[kind for kind in STORE_KINDS if not kind.endswith("-encrypted")])
def store_and_spec(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[TokenStore, StoreSpec | None]]:
    opened, spec = make_store_and_spec(request.param, request, tmp_path)
    with opened:
        opened.state_clock = FakeClock()
        yield opened, spec


@pytest.fixture
def store(store_and_spec: tuple[TokenStore, StoreSpec | None]) -> TokenStore:
    return store_and_spec[0]


def clock_of(store: TokenStore) -> FakeClock:
    assert isinstance(store.state_clock, FakeClock)
    return store.state_clock


def test_issued_state_comes_back_once_with_its_context(store: TokenStore) -> None:
    state = store.issue(
        customer="acme", redirect_uri=REDIRECT, scopes=("api:users:read",), binding="b" * 64
    )
    pending = store.consume(state, redirect_uri=REDIRECT)
    assert (pending.customer, pending.redirect_uri, pending.scopes, pending.binding) == (
        "acme",
        REDIRECT,
        ("api:users:read",),
        "b" * 64,
    )
    with pytest.raises(StateError, match="already used"):
        store.consume(state, redirect_uri=REDIRECT)


def test_states_are_unique_and_stored_only_as_hashes(store: TokenStore) -> None:
    states = {store.issue(customer=None, redirect_uri=REDIRECT) for _ in range(50)}
    assert len(states) == 50
    assert min(len(s) for s in states) >= 43
    # Nothing a reader of the store sees is a state itself.
    assert not any(state in repr(vars(store)) for state in states)


def test_forged_or_missing_state_is_refused_and_burns_nothing(store: TokenStore) -> None:
    real = store.issue(customer="acme", redirect_uri=REDIRECT)
    forged = real[:-1] + ("A" if real[-1] != "A" else "B")
    with pytest.raises(StateError, match="not issued here"):
        store.consume(forged, redirect_uri=REDIRECT)
    with pytest.raises(StateError, match="no state"):
        store.consume("", redirect_uri=REDIRECT)
    assert store.consume(real, redirect_uri=REDIRECT).customer == "acme"


def test_state_expires_with_the_ten_minute_code(store: TokenStore) -> None:
    young = store.issue(customer="acme", redirect_uri=REDIRECT)
    old = store.issue(customer="globex", redirect_uri=REDIRECT)
    clock_of(store).advance(599)
    assert store.consume(young, redirect_uri=REDIRECT).customer == "acme"
    clock_of(store).advance(2)
    with pytest.raises(StateError, match="10-minute"):
        store.consume(old, redirect_uri=REDIRECT)


def test_state_is_bound_to_its_redirect_uri(store: TokenStore) -> None:
    state = store.issue(customer="acme", redirect_uri=REDIRECT)
    with pytest.raises(StateError, match="redirect URI"):
        store.consume(state, redirect_uri=OTHER_REDIRECT)


def test_purge_drops_only_expired_states(store: TokenStore) -> None:
    expired = [store.issue(customer="acme", redirect_uri=REDIRECT) for _ in range(3)]
    clock_of(store).advance(601)
    fresh = store.issue(customer="globex", redirect_uri=REDIRECT)  # issue purges as it goes
    assert store.purge_states() == 0
    for state in expired:
        with pytest.raises(StateError, match="not issued here"):
            store.consume(state, redirect_uri=REDIRECT)
    late = store.issue(customer="initech", redirect_uri=REDIRECT)
    clock_of(store).advance(601)
    assert store.purge_states() == 2
    for state in (fresh, late):
        with pytest.raises(StateError, match="not issued here"):
            store.consume(state, redirect_uri=REDIRECT)


def test_customer_names_are_checked(store: TokenStore) -> None:
    with pytest.raises(ValueError, match="customer name"):
        store.issue(customer="line\nbreak", redirect_uri=REDIRECT)


def test_consume_once_across_threads(store: TokenStore) -> None:
    state = store.issue(customer="acme", redirect_uri=REDIRECT)

    def take(_: int) -> bool:
        try:
            store.consume(state, redirect_uri=REDIRECT)
        except StateError:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(take, range(16)))
    assert won.count(True) == 1


def test_consume_once_across_processes(
    store_and_spec: tuple[TokenStore, StoreSpec | None],
) -> None:
    store, spec = store_and_spec
    if spec is None:
        pytest.skip("a memory store lives in one process")
    state = store.issue(customer="acme", redirect_uri=REDIRECT)
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    children = [
        context.Process(target=take_state_in_child, args=(spec, state, REDIRECT, start, results))
        for _ in range(4)
    ]
    for child in children:
        child.start()
    start.set()  # every child is ready: they race for the one state
    outcomes = sorted(results.get(timeout=60) for _ in children)
    for child in children:
        child.join(timeout=30)
    assert outcomes == ["acme", "refused", "refused", "refused"]
