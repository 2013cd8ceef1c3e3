"""GongOAuthClient against FakeGong over real HTTP on 127.0.0.1."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from gong_authlib import (
    GongOAuthClient,
    OAuthError,
    ReauthorizationRequired,
    StateError,
    TokenEndpointError,
    load_config,
)
from gong_authlib.testing import FakeGong
from gong_authlib.token import Token
from tests.helpers import GOOD_CONFIG, integration_file

SCOPES = ["api:users:read", "api:calls:read:basic"]


def _authorize(gong: FakeGong, client: GongOAuthClient, customer: str = "acme") -> Token:
    url, _ = client.authorization_url(SCOPES, gong.redirect_uri, customer=customer)
    pending, code = client.parse_callback(gong.approve(url), redirect_uri=gong.redirect_uri)
    return client.exchange_code(code, gong.redirect_uri, customer=pending.customer)


def test_authorization_url_has_gongs_shape(fake_gong: FakeGong) -> None:
    client = fake_gong.oauth_client()
    url, state = client.authorization_url(SCOPES, fake_gong.redirect_uri, customer="acme")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == fake_gong.authorize_url
    assert "scope=api%3Ausers%3Aread%20api%3Acalls%3Aread%3Abasic" in parts.query
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {
        "client_id": fake_gong.client_id,
        "response_type": "code",
        "scope": "api:users:read api:calls:read:basic",
        "redirect_uri": fake_gong.redirect_uri,
        "state": state,
    }


@pytest.fixture
def strict_gong() -> Iterator[FakeGong]:
    """A FakeGong that takes token parameters only as Gong documents them (the query string,
    client_id in the exchange): this file pins our client's wire format."""
    with FakeGong(strict_query=True) as gong:
        gong.add_customer("acme")
        yield gong


def test_full_flow_authorize_exchange_call_refresh_and_reuse(strict_gong: FakeGong) -> None:
    fake_gong = strict_gong
    client = fake_gong.oauth_client()
    token = _authorize(fake_gong, client)
    assert token.api_base_url == fake_gong.trusted_origins[0]
    assert token.scope == set(SCOPES)
    assert token.expires_at == pytest.approx(fake_gong.clock() + 86_400, abs=1)

    users = requests.get(
        token.api_base_url + "/v2/users",
        headers={"Authorization": f"Bearer {token.access_token}"},
        timeout=5,
    )
    assert users.status_code == 200

    fresh = client.refresh(token, customer="acme")
    assert fresh.access_token != token.access_token
    assert fresh.refresh_token != token.refresh_token

    with pytest.raises(ReauthorizationRequired) as caught:
        client.refresh(token, customer="acme")  # the old refresh token was single-use
    assert caught.value.customer == "acme"
    assert caught.value.error == "invalid_grant"
    assert "Token has been expired or revoked." in str(caught.value)
    assert fake_gong.stats.invalid_grant["acme"] == 1
    assert fake_gong.stats.token_calls == {
        ("acme", "authorization_code"): 1,
        ("acme", "refresh_token"): 1,
    }


def test_validity_duration_is_sent(strict_gong: FakeGong) -> None:
    fake_gong = strict_gong
    client = fake_gong.oauth_client(validity_duration=600)
    token = _authorize(fake_gong, client)
    assert token.lifetime == pytest.approx(600, abs=1)
    fresh = client.refresh(token, validity_duration=1200)
    assert fresh.lifetime == pytest.approx(1200, abs=1)


def test_code_is_single_use(fake_gong: FakeGong) -> None:
    client = fake_gong.oauth_client()
    url, _ = client.authorization_url(SCOPES, fake_gong.redirect_uri)
    _, code = client.parse_callback(fake_gong.approve(url), redirect_uri=fake_gong.redirect_uri)
    client.exchange_code(code, fake_gong.redirect_uri)
    with pytest.raises(ReauthorizationRequired):
        client.exchange_code(code, fake_gong.redirect_uri)


def test_code_expires_after_ten_minutes(fake_gong: FakeGong) -> None:
    client = fake_gong.oauth_client()
    url, _ = client.authorization_url(SCOPES, fake_gong.redirect_uri)
    callback = fake_gong.approve(url)
    fake_gong.clock.advance(601)
    with pytest.raises(StateError, match="10-minute"):
        client.parse_callback(callback, redirect_uri=fake_gong.redirect_uri)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    with pytest.raises(ReauthorizationRequired, match="invalid or expired"):
        client.exchange_code(code, fake_gong.redirect_uri)


def test_exchange_needs_the_same_redirect_uri(fake_gong: FakeGong) -> None:
    client = fake_gong.oauth_client()
    url, _ = client.authorization_url(SCOPES, fake_gong.redirect_uri)
    _, code = client.parse_callback(fake_gong.approve(url), redirect_uri=fake_gong.redirect_uri)
    with pytest.raises(ReauthorizationRequired, match="redirect_uri"):
        client.exchange_code(code, "http://127.0.0.1:9999/other")


def test_denied_consent_is_an_oauth_error() -> None:
    with FakeGong(auto_approve=False) as gong:
        gong.add_customer("acme")
        client = gong.oauth_client()
        url, _ = client.authorization_url(SCOPES, gong.redirect_uri)
        page = requests.get(url, timeout=5)
        assert page.status_code == 200
        assert 'id="approve"' in page.text
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        denied = requests.post(
            gong.authorize_url,
            data={**query, "decision": "deny"},
            allow_redirects=False,
            timeout=5,
        )
        with pytest.raises(OAuthError, match="denied") as caught:
            client.parse_callback(denied.headers["Location"], redirect_uri=gong.redirect_uri)
        assert caught.value.error == "access_denied"


def test_forged_callback_state_is_refused(fake_gong: FakeGong) -> None:
    client = fake_gong.oauth_client()
    url, _ = client.authorization_url(SCOPES, fake_gong.redirect_uri)
    callback = fake_gong.approve(url).replace("state=", "state=x")
    with pytest.raises(StateError):
        client.parse_callback(callback, redirect_uri=fake_gong.redirect_uri)


def test_wrong_client_secret_is_not_reauthorization(fake_gong: FakeGong) -> None:
    good = fake_gong.oauth_client()
    url, _ = good.authorization_url(SCOPES, fake_gong.redirect_uri)
    _, code = good.parse_callback(fake_gong.approve(url), redirect_uri=fake_gong.redirect_uri)
    bad = GongOAuthClient(
        fake_gong.client_id, "wrong-secret", token_url=fake_gong.token_url, backoff_factor=0
    )
    with pytest.raises(OAuthError) as caught:
        bad.exchange_code(code, fake_gong.redirect_uri)
    assert not isinstance(caught.value, ReauthorizationRequired)
    assert (caught.value.error, caught.value.status) == ("invalid_client", 401)


def test_untrusted_api_base_url_is_refused(fake_gong: FakeGong) -> None:
    client = fake_gong.oauth_client(trusted_api_origins=())
    with pytest.raises(TokenEndpointError, match=r"not an https host under gong\.io"):
        _authorize(fake_gong, client)


def test_transient_5xx_is_retried_then_succeeds(fake_gong: FakeGong) -> None:
    client = fake_gong.oauth_client()
    token = _authorize(fake_gong, client)
    fake_gong.inject("token", "status", status=503, times=2)
    fresh = client.refresh(token)
    assert fresh.access_token != token.access_token
    assert fake_gong.stats.refreshes("acme") == 1


def test_persistent_5xx_gives_status_and_request_id(fake_gong: FakeGong) -> None:
    client = fake_gong.oauth_client(retries=2)
    token = _authorize(fake_gong, client)
    fake_gong.inject("token", "status", status=503, times=3)
    with pytest.raises(TokenEndpointError) as caught:
        client.refresh(token)
    assert caught.value.status == 503
    assert caught.value.request_id
    assert f"requestId {caught.value.request_id}" in str(caught.value)
    assert fake_gong.stats.refreshes() == 0


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("html", {"status": 502}, "failed; HTTP 502"),
        ("html", {"status": 200}, "not JSON (text/html)"),
        ("empty", {"status": 200}, "an empty body"),
        ("truncated", {}, "not JSON"),
        ("drop", {}, "could not reach"),
        ("body", {"status": 400, "body": {"requestId": "r-1", "errors": ["x"]}}, "unexpected"),
        ("body", {"status": 200, "body": ["not", "an", "object"]}, "not JSON"),
    ],
)
def test_unusable_answers_are_token_endpoint_errors(
    fake_gong: FakeGong, kind: str, options: dict[str, Any], message: str
) -> None:
    client = fake_gong.oauth_client(retries=0)
    token = _authorize(fake_gong, client)
    fake_gong.inject("token", kind, **options)
    with pytest.raises(TokenEndpointError, match=re.escape(message)):
        client.refresh(token)


def test_timeout_is_a_token_endpoint_error(fake_gong: FakeGong) -> None:
    client = fake_gong.oauth_client(retries=0, timeout=(2.0, 0.2))
    token = _authorize(fake_gong, client)
    fake_gong.inject("token", "delay", seconds=1.0)
    with pytest.raises(TokenEndpointError, match="timed out"):
        client.refresh(token)


GOOD_BODY = {
    "access_token": "new-access",
    "refresh_token": "new-refresh",
    "expires_in": 60,
    "token_type": "Bearer",
    "scope": "api:users:read",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"access_token": None}, "lacks 'access_token'"),
        ({"expires_in": None}, "lacks 'expires_in'"),
        ({"access_token": 42}, "'access_token' is not text"),
        ({"refresh_token": ["x"]}, "'refresh_token' is not text"),
        ({"expires_in": -5}, "not a positive number"),
        ({"expires_in": "soon"}, "not a positive number"),
        ({"expires_in": True}, "not a positive number"),
        ({"token_type": "mac"}, "not Bearer"),
        ({"api_base_url_for_customer": "https://evil.example"}, "not an https host"),
        ({"api_base_url_for_customer": "http://us-1.api.gong.io"}, "not an https host"),
    ],
)
def test_malformed_token_responses(
    fake_gong: FakeGong, change: dict[str, Any], message: str
) -> None:
    client = fake_gong.oauth_client(retries=0)
    token = _authorize(fake_gong, client)
    body = {**GOOD_BODY, "api_base_url_for_customer": token.api_base_url, **change}
    fake_gong.inject(
        "token", "body", status=200, body={k: v for k, v in body.items() if v is not None}
    )
    with pytest.raises(TokenEndpointError, match=message) as caught:
        client.refresh(token)
    assert "new-access" not in str(caught.value)


def test_numeric_string_expires_in_and_missing_refresh_token(fake_gong: FakeGong) -> None:
    client = fake_gong.oauth_client(retries=0)
    token = _authorize(fake_gong, client)
    body = {k: v for k, v in GOOD_BODY.items() if k != "refresh_token"}
    body.update(expires_in="120", api_base_url_for_customer=token.api_base_url, region="us")
    fake_gong.inject("token", "body", status=200, body=body)
    fresh = client.refresh(token)
    assert fresh.refresh_token == token.refresh_token
    assert fresh.lifetime == pytest.approx(120)
    assert fresh.extra == {"region": "us"}


def test_exchange_requires_a_refresh_token(fake_gong: FakeGong) -> None:
    client = fake_gong.oauth_client(retries=0)
    url, _ = client.authorization_url(SCOPES, fake_gong.redirect_uri)
    _, code = client.parse_callback(fake_gong.approve(url), redirect_uri=fake_gong.redirect_uri)
    body = {k: v for k, v in GOOD_BODY.items() if k != "refresh_token"}
    body["api_base_url_for_customer"] = fake_gong.trusted_origins[0]
    fake_gong.inject("token", "body", status=200, body=body)
    with pytest.raises(TokenEndpointError, match="lacks 'refresh_token'"):
        client.exchange_code(code, fake_gong.redirect_uri)


def test_no_secret_in_logs_reprs_or_errors(
    fake_gong: FakeGong, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = fake_gong.oauth_client(retries=1)
    url, _ = client.authorization_url(SCOPES, fake_gong.redirect_uri)
    callback = fake_gong.approve(url)
    pending, code = client.parse_callback(callback, redirect_uri=fake_gong.redirect_uri)
    token = client.exchange_code(code, fake_gong.redirect_uri, customer="acme")
    fake_gong.inject("token", "drop")
    errors: list[Exception] = []
    try:
        client.refresh(token, customer="acme")
    except TokenEndpointError as exc:
        errors.append(exc)
    fresh = client.refresh(token, customer="acme")
    try:
        client.refresh(token, customer="acme")
    except ReauthorizationRequired as exc:
        errors.append(exc)
    assert len(errors) == 2
    secrets = [
        code,
        token.access_token,
        token.refresh_token,
        fresh.access_token,
        fresh.refresh_token,
        fake_gong.client_secret,
    ]
    texts = [caplog.text, repr(client), repr(token), repr(fresh), repr(pending)]
    texts += [str(e) for e in errors] + [repr(e) for e in errors]
    assert "refreshed customer acme" in caplog.text
    for text in texts:
        for secret in secrets:
            assert secret not in text


def test_integration_config_builds_the_client(fake_gong: FakeGong, tmp_path: Path) -> None:
    text = GOOD_CONFIG.replace(
        "  validity_duration: 86400\n",
        "  validity_duration: 900\n"
        f"  authorize_url: {fake_gong.authorize_url}\n"
        f"  token_url: {fake_gong.token_url}\n",
    )
    config = load_config(
        integration_file(tmp_path, text),
        environ={
            "GONG_CLIENT_ID": fake_gong.client_id,
            "GONG_CLIENT_SECRET": fake_gong.client_secret,
            "GONG_AUTHLIB_KEY": "k",
        },
    )
    client = config.oauth_client(
        trusted_api_origins=fake_gong.trusted_origins, clock=fake_gong.clock
    )
    token = _authorize(fake_gong, client)
    assert token.lifetime == pytest.approx(900, abs=1)


ODD_ANSWERS = [
    ("untrusted base URL", {"changes": {"api_base_url_for_customer": "https://evil.example"}}),
    ("backslash base URL", {"changes": {"api_base_url_for_customer": "https://e.com\\@x.gong.io"}}),
    ("CR/LF in access token", {"changes": {"access_token": "eyJabc\r\nX-Injected: 1"}}),
    ("control char in access token", {"changes": {"access_token": "eyJabc\x00def"}}),
    ("expires_in Infinity", {"changes": {"expires_in": float("inf")}}),
    ("expires_in NaN", {"changes": {"expires_in": float("nan")}}),
    ("expires_in 1e300", {"changes": {"expires_in": 1e300}}),
    ("expires_in 2**70", {"changes": {"expires_in": 2**70}}),
    ("no access token", {"remove": ("access_token",)}),
    ("token_type mac", {"changes": {"token_type": "mac"}}),
]


@pytest.mark.parametrize(("name", "odd"), ODD_ANSWERS, ids=[o[0] for o in ODD_ANSWERS])
def test_odd_answer_after_rotation_keeps_the_new_refresh_token(
    fake_gong: FakeGong, name: str, odd: dict[str, Any]
) -> None:
    """Gong rotated the pair; whatever is wrong with the rest, the new refresh token is kept
    (the answer's ``token``) and the problem reported apart, never quoting a token."""
    client = fake_gong.oauth_client(retries=0)
    token = _authorize(fake_gong, client)
    fake_gong.inject("token", "answer", **odd)
    answer = client.refresh_answer(token, customer="acme")
    assert answer.problem is not None, name
    assert isinstance(answer.problem, TokenEndpointError)
    text = str(answer.problem)
    assert "eyJabc" not in text
    assert answer.token.refresh_token not in text
    assert answer.token.refresh_token != token.refresh_token
    with pytest.raises(TokenEndpointError):
        answer.usable()
    # The kept refresh token is the live one: Gong accepts it, nothing was lost.
    again = client.refresh(answer.token)
    assert again.refresh_token != answer.token.refresh_token
    assert sum(fake_gong.stats.invalid_grant.values()) == 0


def test_refresh_without_base_url_keeps_the_previous_one(fake_gong: FakeGong) -> None:
    client = fake_gong.oauth_client(retries=0)
    token = _authorize(fake_gong, client)
    fake_gong.inject("token", "answer", remove=("api_base_url_for_customer",))
    answer = client.refresh_answer(token)
    assert answer.problem is None
    assert answer.token.api_base_url == token.api_base_url
    assert answer.token.refresh_token != token.refresh_token


def test_untrusted_base_url_is_kept_for_a_fixed_configuration(fake_gong: FakeGong) -> None:
    client = fake_gong.oauth_client(retries=0)
    token = _authorize(fake_gong, client)
    narrow = fake_gong.oauth_client(retries=0, trusted_api_origins=())
    answer = narrow.refresh_answer(token)
    assert answer.untrusted_origin
    assert "trusted_api_origins" in str(answer.problem)
    assert answer.token.api_base_url == token.api_base_url
    assert not answer.token.is_expired(now=fake_gong.clock())  # the access token is good


def test_a_long_retry_after_at_the_token_endpoint_is_not_slept_on(fake_gong: FakeGong) -> None:
    """The refresh lock is held while the token call retries: a Retry-After over 10 s comes
    back at once as a 429 TokenEndpointError (nothing was granted), never a long sleep."""
    client = fake_gong.oauth_client()
    token = _authorize(fake_gong, client)
    fake_gong.inject("token", "status", status=429, retry_after=3600, times=2)
    with pytest.raises(TokenEndpointError) as caught:
        client.refresh(token)
    assert caught.value.status == 429
    assert len(fake_gong.emulator.faults) == 1  # one attempt, no retry after the long wait
    assert fake_gong.stats.refreshes("acme") == 0


def test_skew_is_logged_once_per_customer(
    fake_gong: FakeGong, caplog: pytest.LogCaptureFixture
) -> None:
    from gong_authlib.testing import FakeClock

    client = fake_gong.oauth_client(clock=FakeClock(fake_gong.clock() + 90_000))
    token = _authorize(fake_gong, client, customer="skewed")
    caplog.set_level(logging.WARNING, logger="gong_authlib")
    token = client.refresh(token, customer="skewed")
    client.refresh(token, customer="skewed")
    skew = [r for r in caplog.records if "clock is probably ahead" in r.getMessage()]
    assert len(skew) == 1
    assert "skewed" in skew[0].getMessage()


@pytest.mark.parametrize("base", ["", "/", "//"])
def test_an_empty_base_url_on_refresh_keeps_the_previous_one(
    fake_gong: FakeGong, base: str
) -> None:
    client = fake_gong.oauth_client(retries=0)
    token = _authorize(fake_gong, client)
    fake_gong.inject("token", "answer", changes={"api_base_url_for_customer": base})
    fresh = client.refresh(token)
    assert fresh.api_base_url == token.api_base_url
    assert Token.from_json(fresh.to_json()) == fresh  # storable and readable again


@pytest.mark.parametrize("error", ["invalid_grant", "invalid_request"])
def test_an_error_description_echoing_the_secret_is_not_repeated(
    fake_gong: FakeGong, error: str
) -> None:
    # Some servers quote the grant they refuse; the message and its description must not.
    client = fake_gong.oauth_client()
    token = _authorize(fake_gong, client)
    description = f"refresh token {token.refresh_token} is not valid (client {client.client_id})"
    fake_gong.inject(
        "token", "body", status=400, body={"error": error, "error_description": description}
    )
    with pytest.raises(OAuthError) as caught:
        client.refresh(token)
    assert token.refresh_token not in str(caught.value)
    assert token.refresh_token not in repr(caught.value)
    assert token.refresh_token not in str(caught.value.description)
    assert "refresh token <redacted> is not valid" in str(caught.value)


def test_an_error_description_echoing_the_code_is_not_repeated(fake_gong: FakeGong) -> None:
    client = fake_gong.oauth_client()
    url, _ = client.authorization_url(SCOPES, fake_gong.redirect_uri)
    _, code = client.parse_callback(fake_gong.approve(url), redirect_uri=fake_gong.redirect_uri)
    fake_gong.inject(
        "token",
        "body",
        status=400,
        body={"error": "invalid_request", "error_description": f"bad code={code}"},
    )
    with pytest.raises(OAuthError) as caught:
        client.exchange_code(code, fake_gong.redirect_uri)
    assert code not in str(caught.value)
