"""The 401 contract (DESIGN.md, "Reliability and security rules").

A 401 that is not a missing scope, for the token that is still current, means refresh once and
resend once, however young the token. The one exception stops loops: a token obtained because
of a 401 that Gong refuses again before ever accepting it is not refreshed for a 401. A
customer recorded as needing re-authorization is not sent again, by any process.

"Processes" here are separate store objects on one backend, each with its own session: what
crosses between them is only what the store keeps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from gong_authlib import ReauthorizationRequired, gong_session
from gong_authlib.stores import TokenStore
from gong_authlib.testing import FakeGong
from tests.authflow import authorize_into
from tests.stores import two_stores

KINDS = ["sqlite", "redis"]


@pytest.fixture(params=KINDS)
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[TokenStore, ...]:
    """Two stores on one backend, as two worker processes open it."""
    return two_stores(request.param, request, tmp_path)


def _session(gong: FakeGong, store: TokenStore) -> requests.Session:
    return gong_session(gong.oauth_client(), store, "acme", retries=0, rate_limit=None)


def test_a_token_gong_ends_right_after_the_exchange_is_refreshed_and_the_call_resent(
    fake_gong: FakeGong, stores: tuple[TokenStore, ...]
) -> None:
    authorize_into(fake_gong, stores[0])
    fake_gong.invalidate_access_tokens("acme")  # seconds after the code exchange
    response = _session(fake_gong, stores[0]).get("/v2/users")
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [401]
    assert fake_gong.stats.refreshes("acme") == 1


def test_an_uninstall_a_minute_after_authorizing_is_reauthorization_and_stops_every_process(
    fake_gong: FakeGong, stores: tuple[TokenStore, ...]
) -> None:
    first, second = stores
    authorize_into(fake_gong, first)
    sessions = [_session(fake_gong, store) for store in (first, second)]
    for session in sessions:
        assert session.get("/v2/users").status_code == 200  # both hold the token in memory
    fake_gong.revoke("acme")
    calls = fake_gong.stats.api_calls["acme"]
    with pytest.raises(ReauthorizationRequired):
        sessions[0].get("/v2/users")
    # Every token call counted, the refused ones too (a refused one is no refresh).
    assert fake_gong.stats.refreshes("acme") + fake_gong.stats.invalid_grant["acme"] <= 2
    assert first.status("acme").state == "reauthorization required"
    # The other process: its one call with the dead token is answered 401, and the store's
    # status stops it there, with no token call; neither sends the dead token again.
    token_calls = sum(fake_gong.stats.token_calls.values())
    with pytest.raises(ReauthorizationRequired):
        sessions[1].get("/v2/users")
    for session in sessions:
        with pytest.raises(ReauthorizationRequired):
            session.get("/v2/users")
    assert sum(fake_gong.stats.token_calls.values()) == token_calls
    assert fake_gong.stats.api_calls["acme"] == calls + 2  # one per process, not per request
    # A process started after the status was recorded sends nothing at all.
    with pytest.raises(ReauthorizationRequired):
        _session(fake_gong, second).get("/v2/users")
    assert fake_gong.stats.api_calls["acme"] == calls + 2


def test_a_401_gong_keeps_answering_costs_at_most_two_refreshes_across_processes(
    fake_gong: FakeGong, stores: tuple[TokenStore, ...], caplog: pytest.LogCaptureFixture
) -> None:
    authorize_into(fake_gong, stores[0])
    fake_gong.inject("api", "status", status=401, times=1000)  # "Access denied", always
    sessions = [_session(fake_gong, store) for store in stores]
    with caplog.at_level(logging.WARNING, logger="gong_authlib"):
        answers = [sessions[i % 2].get("/v2/users").status_code for i in range(20)]
    assert answers == [401] * 20
    assert fake_gong.stats.refreshes("acme") <= 2
    assert fake_gong.stats.invalid_grant["acme"] == 0
    refused_again = [r for r in caplog.records if "before ever accepting it" in r.getMessage()]
    assert 1 <= len(refused_again) <= 2  # once per process
    # Gong accepts the customer again: the token works, and its mark is cleared once accepted.
    fake_gong.emulator.faults.clear()
    assert sessions[0].get("/v2/users").status_code == 200
    stored = stores[1].get("acme")
    assert stored is not None
    assert stored.after_401 is False
    # A later 401 for that accepted token (an uninstall an hour on) refreshes as any 401 does.
    fake_gong.invalidate_access_tokens("acme")
    refreshes = fake_gong.stats.refreshes("acme")
    assert sessions[1].get("/v2/users").status_code == 200
    assert fake_gong.stats.refreshes("acme") == refreshes + 1


def test_tokens_gong_invalidates_together_refresh_once_per_customer_per_cycle(
    fake_gong: FakeGong, stores: tuple[TokenStore, ...]
) -> None:
    """Gong ends every token at once (a clock jump or a key rotation at Gong), cycle after
    cycle, a few seconds apart: 8 threads over two processes refresh once a cycle and every
    request ends 200."""
    authorize_into(fake_gong, stores[0])
    sessions = [_session(fake_gong, stores[i % 2]) for i in range(8)]
    cycles = 5

    def call(session: requests.Session) -> Callable[[], int]:
        return lambda: session.get("/v2/users").status_code

    with ThreadPoolExecutor(8) as pool:
        for cycle in range(cycles):
            fake_gong.invalidate_access_tokens("acme")
            fake_gong.clock.advance(5)
            statuses = list(pool.map(lambda s: call(s)(), sessions))
            assert statuses == [200] * 8, f"cycle {cycle}"
            assert fake_gong.stats.refreshes("acme") == cycle + 1


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_httpx_keeps_the_same_contract(fake_gong: FakeGong, tmp_path: Path, flavour: str) -> None:
    import asyncio

    from gong_authlib import SQLiteTokenStore, gong_async_client, gong_httpx_client

    store = SQLiteTokenStore(tmp_path / "t.db")
    authorize_into(fake_gong, store)
    fake_gong.inject("api", "status", status=401, times=1000)

    async def calls() -> list[int]:
        statuses = []
        if flavour == "async":
            async with gong_async_client(
                fake_gong.oauth_client(), store, "acme", rate_limit=None
            ) as client:
                for _ in range(10):
                    statuses.append((await client.get("/v2/users")).status_code)
                fake_gong.emulator.faults.clear()
                statuses.append((await client.get("/v2/users")).status_code)
            return statuses
        with gong_httpx_client(fake_gong.oauth_client(), store, "acme", rate_limit=None) as sync:
            statuses = [sync.get("/v2/users").status_code for _ in range(10)]
            fake_gong.emulator.faults.clear()
            statuses.append(sync.get("/v2/users").status_code)
        return statuses

    assert asyncio.run(calls()) == [401] * 10 + [200]
    assert fake_gong.stats.refreshes("acme") == 1
    stored = store.get("acme")
    assert stored is not None
    assert stored.after_401 is False  # the accepted answer cleared the mark
