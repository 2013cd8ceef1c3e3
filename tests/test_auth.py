"""GongAuth and gong_session against FakeGong: hot path, refresh, 401, origins, redirects."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests

from gong_authlib import (
    GongAuth,
    OriginMismatch,
    ReauthorizationRequired,
    RequestNotReplayable,
    TokenNotFound,
    TokenStoreError,
    gong_session,
)
from gong_authlib.stores import MemoryTokenStore, SQLiteTokenStore, TokenStore
from gong_authlib.testing import FakeGong
from gong_authlib.token import Token
from tests.authflow import authorize_into
from tests.helpers import serve_on_loopback


class CountingStore(MemoryTokenStore):
    """A real memory store that counts reads, to prove the hot path never reads."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get(self, customer: str) -> Token | None:
        self.reads += 1
        return super().get(customer)


@pytest.fixture
def store() -> CountingStore:
    return CountingStore()


def test_hot_path_reads_the_store_once_then_never(
    fake_gong: FakeGong, store: CountingStore
) -> None:
    authorize_into(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(), store, "acme", rate_limit=None)
    for _ in range(20):
        assert session.get("/v2/users").status_code == 200
    assert store.reads == 1
    assert fake_gong.stats.refreshes() == 0


def test_relative_paths_go_to_the_customer_origin(fake_gong: FakeGong, store: TokenStore) -> None:
    fake_gong.add_customer("globex")
    authorize_into(fake_gong, store, "globex")
    session = gong_session(fake_gong.oauth_client(), store, "globex")
    response = session.get("/v2/users")
    assert response.url == fake_gong.emulator.customer_origins["globex"] + "/v2/users"
    assert response.json()["users"][0]["emailAddress"] == "admin@globex.example"


def test_expired_token_is_refreshed_once_and_persisted_first(
    fake_gong: FakeGong, store: TokenStore
) -> None:
    original = authorize_into(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(), store, "acme")
    session.get("/v2/users")
    fake_gong.clock.advance(86_400 - 299)  # inside the 300 s leeway
    response = session.get("/v2/users")
    assert response.status_code == 200
    stored = store.get("acme")
    assert stored is not None
    assert stored.access_token != original.access_token
    assert response.request.headers["Authorization"] == f"Bearer {stored.access_token}"
    for _ in range(5):
        session.get("/v2/calls")
    assert fake_gong.stats.refreshes("acme") == 1


def test_a_token_refreshed_elsewhere_is_adopted_without_a_call(
    fake_gong: FakeGong, store: TokenStore
) -> None:
    authorize_into(fake_gong, store)
    client = fake_gong.oauth_client()
    first = gong_session(client, store, "acme")
    second = gong_session(client, store, "acme")
    first.get("/v2/users")
    second.get("/v2/users")
    fake_gong.clock.advance(86_400)
    first.get("/v2/users")  # refreshes
    second.get("/v2/users")  # finds the refreshed token in the store
    assert fake_gong.stats.refreshes() == 1
    assert second.auth.token == first.auth.token


def test_401_refreshes_once_and_resends_once(fake_gong: FakeGong, store: TokenStore) -> None:
    authorize_into(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(), store, "acme")
    session.get("/v2/users")
    fake_gong.invalidate_access_tokens("acme")
    response = session.get("/v2/users")
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [401]
    assert fake_gong.stats.refreshes() == 1


def test_401_with_a_token_already_replaced_resends_without_refreshing(
    fake_gong: FakeGong, store: TokenStore
) -> None:
    authorize_into(fake_gong, store)
    client = fake_gong.oauth_client()
    first, second = gong_session(client, store, "acme"), gong_session(client, store, "acme")
    first.get("/v2/users")
    second.get("/v2/users")
    fake_gong.invalidate_access_tokens("acme")
    assert first.get("/v2/users").status_code == 200  # 401, refresh, resend
    response = second.get("/v2/users")  # 401 with the old token: the store has a newer one
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [401]
    assert fake_gong.stats.refreshes() == 1


def test_a_second_401_is_returned_not_looped(fake_gong: FakeGong, store: TokenStore) -> None:
    authorize_into(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(), store, "acme")
    session.get("/v2/users")
    fake_gong.inject("api", "status", status=401, times=2)
    response = session.get("/v2/users")
    assert response.status_code == 401
    assert len(response.history) == 1
    assert fake_gong.stats.refreshes() == 1


@pytest.mark.parametrize("status", [403, 404, 429])
def test_other_refusals_never_refresh(fake_gong: FakeGong, store: TokenStore, status: int) -> None:
    authorize_into(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(), store, "acme", retries=0, rate_limit=None)
    fake_gong.inject("api", "status", status=status)
    assert session.get("/v2/users").status_code == status
    assert fake_gong.stats.refreshes() == 0


def test_429_is_retried_honouring_retry_after_even_for_post(
    fake_gong: FakeGong, store: TokenStore
) -> None:
    authorize_into(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(), store, "acme", backoff_factor=0)
    fake_gong.inject("api", "status", status=429, retry_after=0, times=2)
    body = {
        "integrationTypeSettings": [
            {"integrationType": "DIALER", "allowedOrigin": "https://a.partner.example"}
        ]
    }
    response = session.post("/v2/integration-settings", json=body)
    assert response.status_code == 200
    assert fake_gong.stats.api_429["acme"] == 2


def test_long_retry_after_is_returned_at_once(fake_gong: FakeGong, store: TokenStore) -> None:
    authorize_into(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(), store, "acme", rate_limit=None)
    fake_gong.inject("api", "status", status=429, retry_after=3600)
    response = session.get("/v2/users")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3600"


def test_5xx_retried_for_get_not_for_post(fake_gong: FakeGong, store: TokenStore) -> None:
    authorize_into(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(), store, "acme", backoff_factor=0)
    fake_gong.inject("api", "status", status=503, times=2)
    assert session.get("/v2/users").status_code == 200
    fake_gong.inject("api", "status", status=503)
    body = {
        "integrationTypeSettings": [
            {"integrationType": "DIALER", "allowedOrigin": "https://b.example"}
        ]
    }
    assert session.post("/v2/integration-settings", json=body).status_code == 503


def test_stream_body_is_not_resent_after_401(fake_gong: FakeGong, store: TokenStore) -> None:
    authorize_into(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(), store, "acme")
    session.get("/v2/users")
    fake_gong.invalidate_access_tokens("acme")

    def chunks() -> Iterator[bytes]:
        yield b'{"integrationTypeSettings": []}'

    with pytest.raises(RequestNotReplayable, match="cannot be sent again"):
        session.post("/v2/integration-settings", data=chunks())
    assert fake_gong.stats.refreshes() == 1  # refreshed, so the caller's retry will work
    assert session.get("/v2/users").status_code == 200


def test_seekable_body_is_resent_after_401(fake_gong: FakeGong, store: TokenStore) -> None:
    authorize_into(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(), store, "acme")
    session.get("/v2/users")
    fake_gong.invalidate_access_tokens("acme")
    body = io.BytesIO(
        b'{"integrationTypeSettings": [{"integrationType": "ACCOUNT_PAGES",'
        b' "allowedOrigin": "https://c.example"}]}'
    )
    response = session.post(
        "/v2/integration-settings", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [401]


def test_token_never_goes_to_another_origin(fake_gong: FakeGong, store: TokenStore) -> None:
    globex = fake_gong.add_customer("globex")
    authorize_into(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(), store, "acme")
    before = sum(fake_gong.stats.api_calls.values())
    for url in (
        globex + "/v2/users",
        "https://evil.example/v2/users",
        session.auth.api_base_url.replace("http://", "https://") + "/v2/users",
        session.auth.api_base_url + "@evil.example/v2/users",
    ):
        with pytest.raises(OriginMismatch, match="refusing to send the token of customer 'acme'"):
            session.get(url)
    assert sum(fake_gong.stats.api_calls.values()) == before


class _Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.headers.get("Authorization"))
        self.send_response(401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def elsewhere() -> Iterator[str]:
    _Recorder.seen = []
    with serve_on_loopback(_Recorder) as origin:
        yield origin


def test_redirect_to_another_host_carries_no_token(
    fake_gong: FakeGong, store: TokenStore, elsewhere: str
) -> None:
    authorize_into(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(), store, "acme")
    fake_gong.inject("api", "status", status=302, headers={"Location": elsewhere + "/landing"})
    response = session.get("/v2/users")
    assert response.url == elsewhere + "/landing"
    assert response.status_code == 401
    assert _Recorder.seen == [None]  # no Authorization arrived, and no resend after its 401
    assert fake_gong.stats.refreshes() == 0


def test_leeway_is_capped_below_the_lifetime(fake_gong: FakeGong, store: TokenStore) -> None:
    client = fake_gong.oauth_client()
    token = authorize_into(fake_gong, store, client=client, validity_duration=60)
    auth = GongAuth(client, store, "acme", leeway=300)
    assert auth.effective_leeway(token) == pytest.approx(30, abs=1)
    session = gong_session(client, store, "acme", leeway=300, rate_limit=None)
    for _ in range(10):
        session.get("/v2/users")
    assert fake_gong.stats.refreshes() == 0  # no refresh loop on a short-lived token
    fake_gong.clock.advance(31)
    session.get("/v2/users")
    assert fake_gong.stats.refreshes() == 1
    with pytest.raises(ValueError, match="leeway"):
        GongAuth(client, store, "acme", leeway=-1)


def test_unknown_customer_is_token_not_found(fake_gong: FakeGong, store: TokenStore) -> None:
    session = gong_session(fake_gong.oauth_client(), store, "nobody")
    with pytest.raises(TokenNotFound, match="gong-authlib authorize --customer nobody"):
        session.get("/v2/users")


def test_invalid_grant_raises_reauthorization_and_keeps_the_token(
    fake_gong: FakeGong, store: TokenStore
) -> None:
    token = authorize_into(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(), store, "acme")
    fake_gong.revoke("acme")
    fake_gong.clock.advance(86_400)
    with pytest.raises(ReauthorizationRequired) as caught:
        session.get("/v2/users")
    assert caught.value.customer == "acme"
    assert store.get("acme") == token  # nothing deleted: an operator decides
    with pytest.raises(ReauthorizationRequired):
        session.get("/v2/users")
    assert fake_gong.stats.invalid_grant["acme"] == 1  # the store remembers: Gong is asked once


class RacingStore(MemoryTokenStore):
    """Another worker refreshes between our re-read under the lock and our refresh call."""

    def __init__(self, rival: Any) -> None:
        super().__init__()
        self.rival = rival
        self.reads = 0

    def get(self, customer: str) -> Token | None:
        token = super().get(customer)
        self.reads += 1
        if self.reads == 2 and token is not None:  # the re-read under the lock
            self.put(customer, self.rival.refresh(token))
        return token


def test_invalid_grant_rereads_the_store_before_giving_up(fake_gong: FakeGong) -> None:
    client = fake_gong.oauth_client()
    store = RacingStore(client)
    authorize_into(fake_gong, store, client=client)
    fake_gong.clock.advance(86_400)
    session = gong_session(client, store, "acme")
    assert session.get("/v2/users").status_code == 200
    assert fake_gong.stats.invalid_grant["acme"] == 1  # our refresh lost the race
    assert fake_gong.stats.refreshes("acme") == 1  # the rival's won, and we use its token


def test_lock_timeout_never_falls_back_to_refreshing(fake_gong: FakeGong, tmp_path: Path) -> None:
    store = SQLiteTokenStore(tmp_path / "t.db")
    authorize_into(fake_gong, store)
    fake_gong.clock.advance(86_400)
    session = gong_session(fake_gong.oauth_client(), store, "acme", lock_timeout=0.1)
    with (
        store.lock("acme", lease=30),
        pytest.raises(TokenStoreError, match="could not get the refresh lock"),
    ):
        session.get("/v2/users")
    assert fake_gong.stats.refreshes() == 0
    assert session.get("/v2/users").status_code == 200


def test_logs_name_customer_and_fingerprint_never_tokens(
    fake_gong: FakeGong, store: TokenStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    first = authorize_into(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(), store, "acme")
    fake_gong.clock.advance(86_400)
    session.get("/v2/users")
    fake_gong.invalidate_access_tokens("acme")
    session.get("/v2/users")
    fake_gong.revoke("acme")
    fake_gong.clock.advance(86_400)
    with pytest.raises(ReauthorizationRequired):
        session.get("/v2/users")
    assert f"refreshing customer acme (access sha256:{first.access_fingerprint}" in caplog.text
    assert "customer acme must authorize the app again: Gong rejected refresh token" in caplog.text
    tokens = [first.access_token, first.refresh_token]
    current = store.get("acme")
    assert current is not None
    tokens += [current.access_token, current.refresh_token]
    for secret in tokens:
        assert secret not in caplog.text
    assert current.access_token not in repr(session.auth)
    assert current.access_token not in repr(session)


def test_session_has_a_default_timeout(fake_gong: FakeGong, store: TokenStore) -> None:
    authorize_into(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(), store, "acme", retries=0)
    session.timeout = (1.0, 0.2)
    fake_gong.inject("api", "delay", seconds=1.0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        session.get("/v2/users")
