"""The tokens-and-leases contract (TokenRecords): every store, the same behaviour."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gong_authlib import TokenStoreError
from gong_authlib.stores import TokenStore
from gong_authlib.token import Token
from tests.stores import STORE_KINDS, make_store


def make_token(n: int = 1, **overrides: object) -> Token:
    values: dict[str, object] = {
        "access_token": f"access-{n}",
        "refresh_token": f"refresh-{n}",
        "expires_at": 1_800_000_000.0 + n,
        "issued_at": 1_799_990_000.0,
        "api_base_url": "https://us-1.api.gong.io",
        "scope": frozenset({"api:users:read"}),
    }
    values.update(overrides)
    return Token(**values)  # type: ignore[arg-type]


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TokenStore]:
    with make_store(request.param, request, tmp_path) as opened:
        yield opened


def test_missing_customer_is_none(store: TokenStore) -> None:
    assert store.get("nobody") is None
    assert store.customers() == []


def test_put_get_round_trip_and_replace(store: TokenStore) -> None:
    first, second = make_token(1), make_token(2, extra={"region": "eu"})
    store.put("acme", first)
    assert store.get("acme") == first
    store.put("acme", second)
    assert store.get("acme") == second
    assert dict(store.get("acme").extra) == {"region": "eu"}  # type: ignore[union-attr]


def test_customers_are_listed_sorted_and_deleted(store: TokenStore) -> None:
    for name in ("globex", "acme", "Initech Ü"):
        store.put(name, make_token())
    assert store.customers() == sorted(["globex", "acme", "Initech Ü"])
    assert store.delete("acme") is True
    assert store.delete("acme") is False
    assert store.get("acme") is None
    assert store.customers() == sorted(["globex", "Initech Ü"])


@pytest.mark.parametrize("bad", ["", "x" * 201, "line\nbreak"])
def test_bad_customer_names_are_refused(store: TokenStore, bad: str) -> None:
    with pytest.raises(ValueError, match="customer name"):
        store.put(bad, make_token())


def test_lock_excludes_others_until_released(store: TokenStore) -> None:
    with store.lock("acme", lease=30):
        with (
            pytest.raises(TokenStoreError, match="could not get the refresh lock"),
            store.lock("acme", lease=30, timeout=0.05),
        ):
            pass
        with store.lock("globex", lease=30, timeout=0.05):
            pass  # locks are per customer
    with store.lock("acme", lease=30, timeout=0.05):
        pass


def test_lock_is_released_when_the_block_raises(store: TokenStore) -> None:
    with pytest.raises(RuntimeError), store.lock("acme", lease=30):
        raise RuntimeError("refresh failed")
    with store.lock("acme", lease=30, timeout=0.05):
        pass


def test_lock_excludes_other_threads(store: TokenStore) -> None:
    inside = 0
    most = 0
    guard = threading.Lock()

    def worker() -> None:
        nonlocal inside, most
        for _ in range(5):
            with store.lock("acme", lease=30, timeout=30):
                with guard:
                    inside += 1
                    most = max(most, inside)
                store.put("acme", make_token())  # real work inside the lock
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 1


def test_expired_lease_frees_the_lock_and_the_old_owner_cannot_release_it(
    store: TokenStore,
) -> None:
    dead = store.lock("acme", lease=0.2)
    dead.__enter__()  # a holder that never comes back (its process was killed)
    with store.lock("acme", lease=30, timeout=5):  # waits out the 0.2 s lease
        dead.__exit__(None, None, None)  # the old holder wakes up: must not free our lock
        with pytest.raises(TokenStoreError), store.lock("acme", lease=30, timeout=0.05):
            pass


def test_concurrent_puts_leave_one_whole_token(store: TokenStore) -> None:
    def writer(n: int) -> None:
        for _ in range(20):
            store.put("acme", make_token(n))
            assert store.get("acme") is not None

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = store.get("acme")
    assert final is not None
    assert final in {make_token(n) for n in range(8)}


def test_rotate_encryption_rewrites_every_token(store: TokenStore) -> None:
    store.put("acme", make_token(1))
    store.put("globex", make_token(2))
    assert store.rotate_encryption() == 2
    assert store.get("acme") == make_token(1)
    assert store.get("globex") == make_token(2)
