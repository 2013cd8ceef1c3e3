"""CustomerToken, the token core every transport shares: refresh-if-current and the seam."""

from __future__ import annotations

import dataclasses
import threading

import pytest

import gong_authlib
from gong_authlib import CustomerToken, GongAuth, OriginMismatch
from gong_authlib.stores import MemoryTokenStore, SQLiteTokenStore, TokenStore
from gong_authlib.testing import FakeGong
from tests.authflow import authorize_into


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: object) -> TokenStore:
    if request.param == "memory":
        return MemoryTokenStore()
    return SQLiteTokenStore(f"{tmp_path}/tokens.db")


def test_refresh_if_current_is_a_no_op_once_another_caller_refreshed(
    fake_gong: FakeGong, store: TokenStore
) -> None:
    original = authorize_into(fake_gong, store)
    client = fake_gong.oauth_client()
    first = CustomerToken(client, store, "acme")
    second = CustomerToken(client, store, "acme")
    refreshed = first.refresh(if_current=original)
    assert refreshed.access_token != original.access_token
    adopted = second.refresh(if_current=original)  # stale view: the store moved on
    assert adopted == refreshed
    assert fake_gong.stats.refreshes("acme") == 1


def test_twenty_concurrent_refreshes_of_one_token_make_one_call(
    fake_gong: FakeGong, store: TokenStore
) -> None:
    original = authorize_into(fake_gong, store)
    auth = GongAuth(fake_gong.oauth_client(), store, "acme")
    barrier = threading.Barrier(20)
    results: list[str] = []

    def worker() -> None:
        barrier.wait()
        results.append(auth.refresh(if_current=original).access_token)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fake_gong.stats.refreshes("acme") == 1
    assert len(set(results)) == 1
    assert results[0] != original.access_token


def test_unconditional_refresh_always_refreshes(fake_gong: FakeGong, store: TokenStore) -> None:
    authorize_into(fake_gong, store)
    customer_token = CustomerToken(fake_gong.oauth_client(), store, "acme")
    customer_token.refresh()
    customer_token.refresh()
    assert fake_gong.stats.refreshes("acme") == 2


def test_fresh_reads_once_then_serves_from_memory(fake_gong: FakeGong, store: TokenStore) -> None:
    token = authorize_into(fake_gong, store)
    customer_token = CustomerToken(fake_gong.oauth_client(), store, "acme")
    assert customer_token.current is None
    current = customer_token.fresh()
    assert current.header == f"Bearer {token.access_token}"
    assert customer_token.fresh() is current  # same object: no store read, no new state


def test_origin_check_accepts_equal_spellings_and_refuses_others(
    fake_gong: FakeGong, store: TokenStore
) -> None:
    authorize_into(fake_gong, store)
    customer_token = CustomerToken(fake_gong.oauth_client(), store, "acme")
    current = customer_token.fresh()
    customer_token.check_origin(current.origin.upper() + "/v2/users", current)
    with pytest.raises(OriginMismatch, match="refusing to send the token of customer 'acme'"):
        customer_token.check_origin("https://evil.example/v2/users", current)


def test_gong_auth_is_a_front_end_on_the_core(fake_gong: FakeGong, store: TokenStore) -> None:
    authorize_into(fake_gong, store)
    auth = GongAuth(fake_gong.oauth_client(), store, "acme")
    assert isinstance(auth.customer_token, CustomerToken)
    assert auth.token is auth.customer_token.current.token  # type: ignore[union-attr]
    assert "CustomerToken" in gong_authlib.__all__


def test_the_token_in_use_is_swapped_whole_never_changed_in_place(fake_gong: FakeGong) -> None:
    # A transport reads token, header and origin from one object without a lock: no field of
    # it may change under the reader (issue 24 made it a slotted class, no longer a dataclass).
    store = MemoryTokenStore()
    token = authorize_into(fake_gong, store)
    current = CustomerToken(fake_gong.oauth_client(), store, "acme").fresh()
    assert current.header == f"Bearer {token.access_token}"
    with pytest.raises(dataclasses.FrozenInstanceError):
        current.header = "Bearer another"
    with pytest.raises(dataclasses.FrozenInstanceError):
        del current.token
    with pytest.raises(AttributeError):
        current.extra = 1
    assert current.header == f"Bearer {token.access_token}"
