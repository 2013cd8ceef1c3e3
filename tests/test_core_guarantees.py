"""What the token core guarantees against Gong's real behaviour: odd answers kept before they
are judged, untrusted origins refused at send time, 401s read before refreshing, resends that
follow the customer, skewed clocks, one freshness check per request."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from gong_authlib import (
    OriginMismatch,
    TokenEndpointError,
    gong_session,
)
from gong_authlib.stores import (
    ACTIVE,
    UNTRUSTED_ORIGIN,
    MemoryTokenStore,
    SQLiteTokenStore,
    TokenStore,
)
from gong_authlib.testing import FakeClock, FakeGong
from gong_authlib.token import Token
from tests.authflow import authorize_into


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Any) -> TokenStore:
    if request.param == "memory":
        return MemoryTokenStore()
    return SQLiteTokenStore(tmp_path / "tokens.db")


def _stale_session(gong: FakeGong, store: TokenStore, **options: Any) -> tuple[Any, Token]:
    original = authorize_into(gong, store)
    session = gong_session(gong.oauth_client(retries=0), store, "acme", retries=0, **options)
    assert session.get("/v2/users").status_code == 200
    gong.clock.advance(86_400)
    return session, original


def _kept_and_alive(gong: FakeGong, store: TokenStore, original: Token) -> Token:
    """The store holds a refresh token Gong issued after ``original``, and it is live."""
    kept = store.get("acme")
    assert kept is not None
    assert kept.refresh_token != original.refresh_token
    assert sum(gong.stats.invalid_grant.values()) == 0
    return kept


def test_untrusted_base_url_in_a_refresh_is_kept_and_refused_at_send(
    fake_gong: FakeGong, store: TokenStore
) -> None:
    session, original = _stale_session(fake_gong, store)
    real_origin = original.api_base_url
    fake_gong.inject(
        "token", "answer", changes={"api_base_url_for_customer": "https://evil.example"}
    )
    with pytest.raises(OriginMismatch, match="trusted_api_origins") as caught:
        session.get("/v2/users")
    assert "evil.example" in str(caught.value)
    kept = _kept_and_alive(fake_gong, store, original)
    assert kept.api_base_url == "https://evil.example"
    assert store.status("acme").state == UNTRUSTED_ORIGIN
    with pytest.raises(OriginMismatch):  # still refused, and Gong is not asked again
        session.get("/v2/users")
    assert fake_gong.stats.refreshes("acme") == 1
    # An app that trusts the origin uses the kept token with no new authorization.
    trusting = gong_session(
        fake_gong.oauth_client(trusted_api_origins=["https://evil.example"]), store, "acme"
    )
    assert trusting.auth.api_base_url == "https://evil.example"
    assert store.status("acme").state == ACTIVE
    assert real_origin != kept.api_base_url


def test_a_job_without_the_trusted_origin_loses_nothing(
    fake_gong: FakeGong, store: TokenStore
) -> None:
    """A job whose client lacks the (FakeGong) origin refreshes: the pair is kept, the call is
    refused, and a correctly configured app carries on without invalid_grant."""
    original = authorize_into(fake_gong, store)
    fake_gong.clock.advance(86_400)
    narrow = gong_session(fake_gong.oauth_client(trusted_api_origins=()), store, "acme")
    with pytest.raises(OriginMismatch, match="trusted_api_origins"):
        narrow.get("/v2/users")  # refused before anything is sent: the token is stale...
    assert fake_gong.stats.refreshes("acme") == 1  # ...so it was refreshed, and kept
    _kept_and_alive(fake_gong, store, original)
    good = gong_session(fake_gong.oauth_client(), store, "acme")
    assert good.get("/v2/users").status_code == 200
    fake_gong.clock.advance(86_400)
    assert good.get("/v2/users").status_code == 200
    assert sum(fake_gong.stats.invalid_grant.values()) == 0


ODD = [
    ("CR/LF in the access token", {"changes": {"access_token": "eyJabc\r\nX-Evil: 1"}}),
    ("NUL in the access token", {"changes": {"access_token": "eyJabc\x00"}}),
    ("expires_in Infinity", {"changes": {"expires_in": float("inf")}}),
    ("expires_in NaN", {"changes": {"expires_in": float("nan")}}),
    ("expires_in 1e300", {"changes": {"expires_in": 1e300}}),
    ("expires_in 2**70", {"changes": {"expires_in": 2**70}}),
]


@pytest.mark.parametrize(("name", "odd"), ODD, ids=[o[0] for o in ODD])
def test_odd_answers_are_persisted_before_they_are_judged(
    fake_gong: FakeGong, store: TokenStore, name: str, odd: dict[str, Any]
) -> None:
    session, original = _stale_session(fake_gong, store)
    fake_gong.inject("token", "answer", **odd)
    with pytest.raises(TokenEndpointError) as caught:
        session.get("/v2/users")
    assert "eyJabc" not in str(caught.value), name
    kept = _kept_and_alive(fake_gong, store, original)
    assert kept.is_expired(now=fake_gong.clock())  # the unusable access token is never sent
    assert session.get("/v2/users").status_code == 200  # the kept refresh token works
    assert fake_gong.stats.refreshes("acme") == 2
    assert sum(fake_gong.stats.invalid_grant.values()) == 0


def test_a_refresh_answer_without_base_url_keeps_the_previous_one(
    fake_gong: FakeGong, store: TokenStore
) -> None:
    session, original = _stale_session(fake_gong, store)
    fake_gong.inject("token", "answer", remove=("api_base_url_for_customer",))
    assert session.get("/v2/users").status_code == 200
    kept = _kept_and_alive(fake_gong, store, original)
    assert kept.api_base_url == original.api_base_url


def test_a_stored_base_url_is_rechecked_against_the_clients_trust(
    fake_gong: FakeGong, store: TokenStore
) -> None:
    token = authorize_into(fake_gong, store)
    planted = Token(
        access_token=token.access_token,
        refresh_token=token.refresh_token,
        expires_at=token.expires_at,
        issued_at=token.issued_at,
        api_base_url="https://evil.com\\@us-1.api.gong.io",
    )
    store.put("acme", planted)
    session = gong_session(fake_gong.oauth_client(), store, "acme", retries=0)
    with pytest.raises(OriginMismatch, match="backslash"):
        session.get("/v2/users")
    with pytest.raises(OriginMismatch, match="backslash"):
        session.get("https://evil.com/v2/users")


def test_a_missing_scope_401_never_refreshes_and_is_logged_once(
    fake_gong: FakeGong, store: TokenStore, caplog: pytest.LogCaptureFixture
) -> None:
    fake_gong.sign_in("acme")
    client = fake_gong.oauth_client()
    url, _ = client.authorization_url(["api:users:read"], fake_gong.redirect_uri)
    _, code = client.parse_callback(fake_gong.approve(url), redirect_uri=fake_gong.redirect_uri)
    store.put("acme", client.exchange_code(code, fake_gong.redirect_uri))
    fake_gong.clock.advance(3600)  # old enough that a 401 could mean a dead token
    session = gong_session(client, store, "acme")
    caplog.set_level(logging.WARNING, logger="gong_authlib")
    for _ in range(3):
        response = session.get("/v2/calls")
        assert response.status_code == 401
        assert response.history == []
    assert fake_gong.stats.refreshes("acme") == 0
    warnings = [r for r in caplog.records if "api:calls:read:basic" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert session.get("/v2/users").status_code == 200


def test_the_resend_after_a_refresh_never_goes_to_the_old_origin(
    fake_gong: FakeGong, store: TokenStore
) -> None:
    old_origin = fake_gong.add_customer("acme")
    new_origin = fake_gong.add_customer("acme-moved")
    authorize_into(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(), store, "acme", retries=0)
    assert session.get("/v2/users").status_code == 200
    fake_gong.clock.advance(3600)
    fake_gong.invalidate_access_tokens("acme")
    fake_gong.inject("token", "answer", changes={"api_base_url_for_customer": new_origin})
    calls_at_old = fake_gong.stats.api_calls["acme"]
    response = session.get("/v2/users")  # 401 at the old origin; the refresh moves acme
    assert response.url.startswith(new_origin + "/")
    assert fake_gong.stats.api_calls["acme"] == calls_at_old + 1  # only the 401, no resend
    assert fake_gong.stats.api_calls["acme-moved"] == 1  # the relative path followed
    # An absolute URL of the old origin is refused, never sent with the fresh token.
    with pytest.raises(OriginMismatch):
        session.get(old_origin + "/v2/users")
    assert fake_gong.stats.api_calls["acme"] == calls_at_old + 1


class CountingClock(FakeClock):
    def __init__(self, start: float) -> None:
        super().__init__(start)
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return super().__call__()


def test_a_clock_ahead_by_the_token_lifetime_does_not_refresh_per_request() -> None:
    gong_clock = FakeClock()
    with FakeGong(clock=gong_clock) as gong:
        gong.add_customer("acme")
        client_clock = CountingClock(gong_clock() + 3600)
        store = MemoryTokenStore()
        client = gong.oauth_client(clock=client_clock)
        authorize_into(gong, store, client=client, validity_duration=3600)
        session = gong_session(client, store, "acme", retries=0)
        for _ in range(10):
            assert session.get("/v2/users").status_code == 200
        assert gong.stats.refreshes("acme") == 0
        before = client_clock.reads
        assert session.get("/v2/users").status_code == 200
        assert client_clock.reads - before == 1  # one freshness check per request
        gong_clock.advance(3500)
        client_clock.advance(3500)
        for _ in range(10):
            assert session.get("/v2/users").status_code == 200
        assert gong.stats.refreshes("acme") == 1
        assert sum(gong.stats.invalid_grant.values()) == 0


# -- the same guarantees through httpx (GongHttpxAuth is a front end on the same CustomerToken) ---


def test_httpx_never_sends_a_token_whose_base_url_is_untrusted(
    fake_gong: FakeGong, store: TokenStore
) -> None:
    from gong_authlib import gong_httpx_client

    authorize_into(fake_gong, store)
    narrow = fake_gong.oauth_client(trusted_api_origins=())
    with (
        gong_httpx_client(narrow, store, "acme") as client,
        pytest.raises(OriginMismatch, match="trusted_api_origins"),
    ):
        client.get("/v2/users")
    assert fake_gong.stats.api_calls["acme"] == 0


def test_httpx_missing_scope_401_never_refreshes(fake_gong: FakeGong, store: TokenStore) -> None:
    from gong_authlib import gong_httpx_client

    fake_gong.sign_in("acme")
    client = fake_gong.oauth_client()
    url, _ = client.authorization_url(["api:users:read"], fake_gong.redirect_uri)
    _, code = client.parse_callback(fake_gong.approve(url), redirect_uri=fake_gong.redirect_uri)
    store.put("acme", client.exchange_code(code, fake_gong.redirect_uri))
    fake_gong.clock.advance(3600)
    with gong_httpx_client(client, store, "acme") as gong:
        for _ in range(3):
            assert gong.get("/v2/calls").status_code == 401
    assert fake_gong.stats.refreshes("acme") == 0


async def _async_missing_scope(gong: FakeGong, store: TokenStore) -> list[int]:
    from gong_authlib import gong_async_client

    async with gong_async_client(gong.oauth_client(), store, "acme") as client:
        return [(await client.get("/v2/calls")).status_code for _ in range(3)]


def test_httpx_async_missing_scope_401_never_refreshes(
    fake_gong: FakeGong, store: TokenStore
) -> None:
    import anyio

    fake_gong.sign_in("acme")
    client = fake_gong.oauth_client()
    url, _ = client.authorization_url(["api:users:read"], fake_gong.redirect_uri)
    _, code = client.parse_callback(fake_gong.approve(url), redirect_uri=fake_gong.redirect_uri)
    store.put("acme", client.exchange_code(code, fake_gong.redirect_uri))
    fake_gong.clock.advance(3600)
    assert anyio.run(_async_missing_scope, fake_gong, store) == [401, 401, 401]
    assert fake_gong.stats.refreshes("acme") == 0
