"""FakeGong is itself a product: these pin the Gong behaviour it promises users."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from gong_authlib.testing import FakeGong
from gong_authlib.token import Token

SCOPES = ["api:users:read", "api:calls:read:basic"]


def _token(gong: FakeGong, customer: str, scopes: list[str] | None = None) -> Token:
    gong.sign_in(customer)
    client = gong.oauth_client()
    url, _ = client.authorization_url(scopes or SCOPES, gong.redirect_uri)
    _pending, code = client.parse_callback(gong.approve(url), redirect_uri=gong.redirect_uri)
    token: Token = client.exchange_code(code, gong.redirect_uri, customer=customer)
    return token


def _get(token: Token, path: str, origin: str | None = None) -> requests.Response:
    return requests.get(
        (origin or token.api_base_url) + path,
        headers={"Authorization": f"Bearer {token.access_token}"},
        timeout=5,
    )


def _basic(gong: FakeGong) -> str:
    pair = f"{gong.client_id}:{gong.client_secret}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def test_each_customer_has_its_own_origin(fake_gong: FakeGong) -> None:
    globex = fake_gong.add_customer("globex")
    acme = fake_gong.trusted_origins[0]
    assert acme != globex
    assert _token(fake_gong, "globex").api_base_url == globex


def test_another_customers_token_is_403_with_gongs_error_shape(fake_gong: FakeGong) -> None:
    fake_gong.add_customer("globex")
    token = _token(fake_gong, "acme")
    wrong = _get(token, "/v2/users", origin=fake_gong.emulator.customer_origins["globex"])
    assert wrong.status_code == 403
    assert set(wrong.json()) == {"requestId", "errors"}


def test_missing_and_expired_tokens_are_401(fake_gong: FakeGong) -> None:
    token = _token(fake_gong, "acme")
    bare = requests.get(token.api_base_url + "/v2/users", timeout=5)
    assert bare.status_code == 401
    assert bare.json()["errors"] == ["Access denied"]
    assert _get(token, "/v2/users").status_code == 200
    fake_gong.clock.advance(86_400)
    assert _get(token, "/v2/users").status_code == 401
    assert fake_gong.stats.api_401["acme"] == 2


def test_missing_scope_is_401_with_gongs_text(fake_gong: FakeGong) -> None:
    """Production Gong answers a missing scope with 401, not 403."""
    token = _token(fake_gong, "acme", ["api:users:read"])
    assert _get(token, "/v2/users").status_code == 200
    calls = _get(token, "/v2/calls")
    assert calls.status_code == 401
    assert calls.json()["errors"] == [
        "You don't have permission to use 'api:calls:read:basic' in your app."
    ]
    assert calls.json()["requestId"]
    assert fake_gong.stats.missing_scope[("acme", "api:calls:read:basic")] == 1


def test_rate_limit_answers_429_with_retry_after() -> None:
    with FakeGong(rate_limit=3) as gong:
        gong.add_customer("acme")
        token = _token(gong, "acme")
        statuses = [_get(token, "/v2/users") for _ in range(5)]
        assert [r.status_code for r in statuses[:3]] == [200, 200, 200]
        assert statuses[3].status_code == 429
        assert statuses[3].headers["Retry-After"] == "1"
        assert gong.stats.api_429["acme"] >= 1


def test_integration_settings_id_is_an_integer_beyond_2_53(fake_gong: FakeGong) -> None:
    token = _token(fake_gong, "acme", ["api:integration-settings:write"])
    body = {
        "integrationTypeSettings": [
            {"integrationType": "EMAIL_COMPOSER", "allowedOrigin": "https://acme.partner.example"}
        ]
    }
    headers = {"Authorization": f"Bearer {token.access_token}"}
    url = token.api_base_url + "/v2/integration-settings"
    created = requests.post(url, json=body, headers=headers, timeout=5)
    assert created.status_code == 200
    integration_id = json.loads(created.text)["integrationId"]
    assert isinstance(integration_id, int)
    assert integration_id > 2**53
    assert float(integration_id) != integration_id  # a float would have lost it
    again = requests.post(url, json=body, headers=headers, timeout=5)
    assert again.status_code == 409
    bad = requests.post(
        url,
        json={"integrationTypeSettings": [{"integrationType": "FAX"}]},
        headers=headers,
        timeout=5,
    )
    assert bad.status_code == 400


def test_strict_query_refuses_token_parameters_in_the_body() -> None:
    with FakeGong(strict_query=True) as gong:
        response = requests.post(
            gong.token_url,
            data={"grant_type": "refresh_token", "refresh_token": "x"},
            headers={"Authorization": _basic(gong)},
            timeout=5,
        )
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"
        assert "query string" in response.json()["error_description"]
        assert not gong.stats.form_body


def test_token_endpoint_requires_basic_client_auth(fake_gong: FakeGong) -> None:
    response = requests.post(
        fake_gong.token_url,
        params={"grant_type": "refresh_token", "refresh_token": "x"},
        timeout=5,
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_revocation_kills_access_and_refresh(fake_gong: FakeGong) -> None:
    token = _token(fake_gong, "acme")
    fake_gong.revoke("acme")
    assert _get(token, "/v2/users").status_code == 401
    response = requests.post(
        fake_gong.token_url,
        params={"grant_type": "refresh_token", "refresh_token": token.refresh_token},
        headers={"Authorization": _basic(fake_gong)},
        timeout=5,
    )
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "Token has been expired or revoked.",
    }


def test_unregistered_redirect_uri_is_never_redirected_to(fake_gong: FakeGong) -> None:
    client = fake_gong.oauth_client()
    url, _ = client.authorization_url(SCOPES, "https://evil.example/steal")
    response = requests.get(url, allow_redirects=False, timeout=5)
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_scope_outside_the_app_is_invalid_scope() -> None:
    with FakeGong(scopes=["api:users:read"]) as gong:
        gong.add_customer("acme")
        client = gong.oauth_client()
        url, _ = client.authorization_url(["api:calls:read:basic"], gong.redirect_uri)
        location = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
        assert "error=invalid_scope" in location


def test_consent_page_lets_the_admin_pick_the_company() -> None:
    with FakeGong(auto_approve=False) as gong:
        gong.add_customer("acme")
        gong.add_customer("globex")
        client = gong.oauth_client()
        url, _ = client.authorization_url(SCOPES, gong.redirect_uri)
        page = requests.get(url, timeout=5).text
        assert '<option value="globex">' in page
        assert "api:calls:read:basic" in page


def test_server_access_log_is_silent(capfd: pytest.CaptureFixture[str]) -> None:
    with FakeGong() as gong:
        gong.add_customer("acme")
        token = _token(gong, "acme")
        _get(token, "/v2/users")
    captured = capfd.readouterr()
    assert token.access_token not in captured.err
    assert "GET /v2/users" not in captured.err
