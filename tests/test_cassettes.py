"""Gong's wire format pinned in vcrpy cassettes recorded against FakeGong, secrets scrubbed.

A missing cassette is recorded against a live FakeGong (delete one to re-record); a present
one is replayed with no server at all, so a change to what the client sends fails here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import vcr
import yaml

from gong_authlib import GongOAuthClient, ReauthorizationRequired
from gong_authlib.testing import FakeClock, FakeGong, SecretScrubber, vcr_config
from gong_authlib.token import Token

CASSETTES = Path(__file__).parent / "cassettes"
FLOW = CASSETTES / "exchange-refresh-reuse.yaml"
# Recorded FakeGong origins become this Gong-looking host, so replay needs no trusted origin.
REPLAY_ORIGIN = "https://us-10001.api.gong.io"
REPLAY_CLIENT_ID = "fakegong-client-id"
REDIRECT_URI = "http://127.0.0.1:8765/callback"


def _authorization_scheme(r1: Any, r2: Any) -> None:
    first = r1.headers.get("Authorization", "").split(" ")[0]
    second = r2.headers.get("Authorization", "").split(" ")[0]
    assert first == second, f"Authorization scheme {first!r} != {second!r}"


def _recorder(origins: tuple[str, ...]) -> vcr.VCR:
    scrubber = SecretScrubber()
    config = vcr_config(scrubber)

    def response(recorded: dict[str, Any]) -> dict[str, Any]:
        recorded = scrubber.response(recorded)
        body = recorded["body"].get("string") or b""
        for origin in origins:
            body = body.replace(origin.encode(), REPLAY_ORIGIN.encode())
        recorded["body"]["string"] = body
        return recorded

    config["before_record_response"] = response
    config["match_on"] = ["method", "path", "query", "authorization_scheme"]
    config["record_mode"] = "none" if FLOW.exists() else "once"
    recorder = vcr.VCR(**config)
    recorder.register_matcher("authorization_scheme", _authorization_scheme)
    return recorder


def _flow(client: GongOAuthClient, code: str) -> tuple[Token, Token, list[int]]:
    import requests

    token = client.exchange_code(code, REDIRECT_URI, customer="acme")
    statuses = [
        requests.get(
            token.api_base_url + "/v2/users",
            headers={"Authorization": f"Bearer {token.access_token}"},
            timeout=5,
        ).status_code
    ]
    fresh = client.refresh(token, customer="acme", validity_duration=3600)
    statuses.append(
        requests.get(
            fresh.api_base_url + "/v2/calls",
            headers={"Authorization": f"Bearer {fresh.access_token}"},
            timeout=5,
        ).status_code
    )
    with pytest.raises(ReauthorizationRequired):
        client.refresh(token, customer="acme")
    return token, fresh, statuses


def _record_or_replay() -> tuple[Token, Token, list[int], Any]:
    """Replay the committed cassette; record it first if it is missing."""
    if FLOW.exists():
        client = GongOAuthClient(
            REPLAY_CLIENT_ID,
            "replayed-secret",
            token_url="https://app.gong.io/oauth2/generate-customer-token",
            clock=FakeClock(1_800_000_000),
            backoff_factor=0,
        )
        with _recorder(()).use_cassette(str(FLOW)) as cassette:
            token, fresh, statuses = _flow(client, "any-code-the-browser-brought")
        return token, fresh, statuses, cassette
    with FakeGong(client_id=REPLAY_CLIENT_ID, redirect_uris=[REDIRECT_URI]) as gong:
        gong.add_customer("acme")
        client = gong.oauth_client()
        url, _ = client.authorization_url(["api:users:read", "api:calls:read:basic"], REDIRECT_URI)
        _, code = client.parse_callback(gong.approve(url), redirect_uri=REDIRECT_URI)
        with _recorder(gong.trusted_origins).use_cassette(str(FLOW)) as cassette:
            token, fresh, statuses = _flow(client, code)
        return token, fresh, statuses, cassette


def test_flow_replays_from_the_cassette() -> None:
    _record_or_replay()  # records the cassette if it is missing
    _token, fresh, statuses, cassette = _record_or_replay()  # the second run always replays
    assert cassette.play_count == 5
    assert cassette.all_played
    assert statuses == [200, 200]
    assert fresh.access_token == "SCRUBBED-ACCESS-TOKEN-2"
    assert fresh.refresh_token == "SCRUBBED-REFRESH-TOKEN-2"
    assert fresh.lifetime == pytest.approx(3600, abs=1)


def _recorded() -> list[dict[str, Any]]:
    interactions: list[dict[str, Any]] = yaml.safe_load(FLOW.read_text())["interactions"]
    return interactions


def test_cassette_pins_gongs_token_request_shape() -> None:
    _record_or_replay()
    token_calls = [
        i["request"] for i in _recorded() if "generate-customer-token" in i["request"]["uri"]
    ]
    assert len(token_calls) == 3
    exchange, refresh, reuse = token_calls
    for call in token_calls:
        assert call["method"] == "POST"
        assert call["headers"]["Authorization"] == ["Basic SCRUBBED-CLIENT-CREDENTIALS"]
        assert not call["body"], "Gong reads token parameters from the query string only"
    assert re.search(
        r"\?grant_type=authorization_code&redirect_uri=.+&code=SCRUBBED-CODE-1"
        r"&client_id=fakegong-client-id$",
        exchange["uri"],
    )
    assert refresh["uri"].endswith(
        "?grant_type=refresh_token&refresh_token=SCRUBBED-REFRESH-TOKEN-1&validity_duration=3600"
    )
    assert reuse["uri"].endswith("?grant_type=refresh_token&refresh_token=SCRUBBED-REFRESH-TOKEN-1")


def test_api_calls_carry_bearer_tokens() -> None:
    _record_or_replay()
    api = [i["request"] for i in _recorded() if "/v2/" in i["request"]["uri"]]
    assert [r["headers"]["Authorization"] for r in api] == [
        ["Bearer SCRUBBED-ACCESS-TOKEN-1"],
        ["Bearer SCRUBBED-ACCESS-TOKEN-2"],
    ]


SECRET_LOOKING = [
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),  # a JWT
    re.compile(r"gongfake-(rt|code)-"),  # FakeGong's refresh tokens and codes
    re.compile(r"fakegong-secret-"),  # FakeGong's client secrets
    re.compile(r"(Basic|Bearer) (?!SCRUBBED-)\S+"),
    re.compile(r"(code|refresh_token|access_token|client_secret)=(?!SCRUBBED-)[^&\s'\"]+"),
    re.compile(r'"(access|refresh)_token": "(?!SCRUBBED-)'),
]


def test_no_committed_cassette_holds_a_secret() -> None:
    _record_or_replay()
    cassettes = sorted(CASSETTES.glob("*.yaml"))
    assert cassettes
    for cassette in cassettes:
        text = cassette.read_text()
        for pattern in SECRET_LOOKING:
            assert not pattern.search(text), f"{cassette.name} matches {pattern.pattern}"


def test_scrubber_catches_what_the_patterns_look_for() -> None:
    """The leak patterns above would find these values if the scrubber missed them."""
    scrubber = SecretScrubber()
    raw = '{"access_token": "eyJabcdefghij.eyJklmnopqrs.sig", "refresh_token": "gongfake-rt-x"}'
    assert any(p.search(raw) for p in SECRET_LOOKING)
    recorded = scrubber.response({"headers": {}, "body": {"string": raw.encode()}})
    cleaned = recorded["body"]["string"].decode()
    assert not any(p.search(cleaned) for p in SECRET_LOOKING)
