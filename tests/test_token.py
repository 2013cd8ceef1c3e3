"""Token: expiry from the response, JWT cross-check, serialization, and no secret in sight."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from gong_authlib import TokenStoreError
from gong_authlib.token import Token, jwt_expiry

NOW = 1_800_000_000.0


def _jwt(claims: dict[str, Any]) -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return f"{part(b'{}')}.{part(json.dumps(claims).encode())}.{part(b'signature')}"


def _payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "access_token": "opaque-access-value",
        "refresh_token": "opaque-refresh-value",
        "expires_in": 3600,
        "token_type": "Bearer",
        "scope": "api:users:read api:calls:read:basic",
        "api_base_url_for_customer": "https://us-49467.api.gong.io/",
    }
    payload.update(overrides)
    return payload


def test_expiry_is_computed_on_receipt() -> None:
    token = Token.from_response(_payload(), received_at=NOW)
    assert token.expires_at == NOW + 3600
    assert token.issued_at == NOW
    assert token.lifetime == 3600
    assert token.api_base_url == "https://us-49467.api.gong.io"
    assert token.scope == {"api:users:read", "api:calls:read:basic"}
    assert token.expires.isoformat() == "2027-01-15T09:00:00+00:00"


def test_earlier_jwt_exp_wins_later_one_is_ignored() -> None:
    early = Token.from_response(_payload(access_token=_jwt({"exp": NOW + 60})), received_at=NOW)
    assert early.expires_at == NOW + 60
    late = Token.from_response(_payload(access_token=_jwt({"exp": NOW + 9e6})), received_at=NOW)
    assert late.expires_at == NOW + 3600


@pytest.mark.parametrize(
    "access", ["a.b", "a.!!!.c", _jwt({"exp": "soon"}), _jwt({"exp": True}), "x." + "e30" + ".y"]
)
def test_non_jwt_or_odd_claims_are_tolerated(access: str) -> None:
    assert jwt_expiry(access) is None
    assert Token.from_response(_payload(access_token=access), received_at=NOW).expires_at == (
        NOW + 3600
    )


def test_refresh_without_refresh_token_keeps_the_old_one() -> None:
    payload = _payload()
    del payload["refresh_token"]
    token = Token.from_response(payload, received_at=NOW, previous_refresh_token="kept-value")
    assert token.refresh_token == "kept-value"


def test_extra_fields_are_preserved() -> None:
    token = Token.from_response(_payload(workspace="w1", limits={"daily": 10000}), received_at=NOW)
    assert dict(token.extra) == {"workspace": "w1", "limits": {"daily": 10000}}
    assert Token.from_dict(token.to_dict()).extra == token.extra


def test_repr_never_shows_a_secret() -> None:
    token = Token.from_response(_payload(), received_at=NOW)
    for text in (repr(token), str(token), f"{token}", repr([token])):
        assert "opaque-access-value" not in text
        assert "opaque-refresh-value" not in text
        assert f"sha256:{token.access_fingerprint}" in text


def test_leeway_moves_expiry_earlier() -> None:
    token = Token.from_response(_payload(), received_at=NOW)
    assert not token.is_expired(now=NOW + 3599)
    assert token.is_expired(now=NOW + 3600)
    assert token.is_expired(leeway=120, now=NOW + 3480)
    assert not token.is_expired(leeway=120, now=NOW + 3479)


def test_serialized_form_is_stable_and_round_trips() -> None:
    token = Token.from_response(_payload(), received_at=NOW)
    data = token.to_dict()
    assert data["version"] == 1
    assert data["scope"] == ["api:calls:read:basic", "api:users:read"]
    assert Token.from_json(token.to_json()) == token


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(version=2), "format version 2"),
        (lambda d: d.pop("refresh_token"), "lacks the field 'refresh_token'"),
        (lambda d: d.update(expires_at="tomorrow"), "wrong type"),
        (lambda d: d.update(scope="api:users:read"), "wrong type"),
        (lambda d: d.update(access_token=""), "wrong type"),
    ],
)
def test_malformed_stored_tokens_are_clear_errors(mutate: Any, message: str) -> None:
    data = Token.from_response(_payload(), received_at=NOW).to_dict()
    mutate(data)
    with pytest.raises(TokenStoreError, match=message) as caught:
        Token.from_dict(data, context="customer 'acme'")
    assert "opaque-" not in str(caught.value)
    assert "customer 'acme'" in str(caught.value)


def test_garbage_json_is_a_store_error() -> None:
    with pytest.raises(TokenStoreError, match="not valid JSON"):
        Token.from_json(b"\xff{")
    with pytest.raises(TokenStoreError, match="not an object"):
        Token.from_json("[1, 2]")


def test_is_expired_reads_the_clock_when_now_is_not_given() -> None:
    import time

    fresh = Token.from_response(_payload(), received_at=time.time())
    assert not fresh.is_expired()
    assert fresh.is_expired(leeway=3600)
    old = Token.from_response(_payload(), received_at=time.time() - 7200)
    assert old.is_expired()


def test_jwt_exp_already_past_at_receipt_is_skew_not_expiry() -> None:
    """A worker clock ahead of Gong's by the token lifetime sees ``exp`` in the past: trusting
    it would make every new token stale on arrival. ``expires_in`` from receipt wins."""
    skewed = Token.from_response(_payload(access_token=_jwt({"exp": NOW})), received_at=NOW)
    assert skewed.expires_at == NOW + 3600
    assert not skewed.is_expired(leeway=300, now=NOW + 1)
    behind = Token.from_response(_payload(access_token=_jwt({"exp": NOW - 10})), received_at=NOW)
    assert behind.expires_at == NOW + 3600


@pytest.mark.parametrize("expires_in", [float("inf"), float("nan"), 1e300, 2**70, 0, -1])
def test_absurd_lifetimes_are_recognised(expires_in: float) -> None:
    from gong_authlib.token import sane_lifetime

    assert sane_lifetime(expires_in) is None


@pytest.mark.parametrize("expires_in", [1, 60, 86_400, 525_600, "3600", 3600.5])
def test_sane_lifetimes_pass(expires_in: Any) -> None:
    from gong_authlib.token import sane_lifetime

    assert sane_lifetime(expires_in) == float(expires_in)


@pytest.mark.parametrize("text", ["a\r\nb", "a\nb", "a\x00b", "a\x7fb", "a b\tc", "ok\u2028"])
def test_control_characters_in_header_values_are_found(text: str) -> None:
    from gong_authlib.token import unsafe_in_header

    assert unsafe_in_header(text)
    assert not unsafe_in_header("eyJhbGciOi.eyJzdWIiOi.c2ln-_")
