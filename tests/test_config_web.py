"""The integration file for web apps: endpoints from the environment, trusted API origins,
``oauth_client(state_store=...)`` and ``open_store()``."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.fernet import Fernet

from gong_authlib import ConfigError, SQLiteTokenStore, load_config, validate_file
from gong_authlib.stores import MemoryTokenStore
from tests.helpers import GOOD_CONFIG, integration_file

KEY = Fernet.generate_key().decode()
ENV = {
    "GONG_CLIENT_ID": "client-123",
    "GONG_CLIENT_SECRET": "s3cr3t-value-never-shown",
    "GONG_AUTHLIB_KEY": KEY,
    "GONG_AUTHORIZE_URL": "http://127.0.0.1:9100/oauth2/authorize",
    "GONG_TOKEN_URL": "http://127.0.0.1:9100/oauth2/generate-customer-token",
    "FAKEGONG_ACME": "http://127.0.0.1:9101",
}


def write(folder: Path, **oauth: Any) -> Path:
    data = yaml.safe_load(GOOD_CONFIG)
    data["oauth"].update(oauth)
    return integration_file(folder, yaml.safe_dump(data, sort_keys=False))


def test_endpoints_and_trusted_origins_may_come_from_the_environment(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        authorize_url="${env:GONG_AUTHORIZE_URL}",
        token_url="${env:GONG_TOKEN_URL}",
        trusted_api_origins=["${env:FAKEGONG_ACME}", "http://localhost:9102"],
    )
    assert [d for d in validate_file(path) if d.is_error] == []
    config = load_config(path, environ=ENV)
    client = config.oauth_client(trusted_api_origins=("http://127.0.0.1:9103",))
    assert client.authorize_url == ENV["GONG_AUTHORIZE_URL"]
    assert client.token_url == ENV["GONG_TOKEN_URL"]
    assert client.trusted_api_origins == {
        "http://127.0.0.1:9101",
        "http://localhost:9102",
        "http://127.0.0.1:9103",
    }


@pytest.mark.parametrize(
    ("origin", "code", "severity"),
    [
        ("http://fakegong.internal:9101", "insecure-url", "error"),
        ("https://api.example.com", "untrusted-endpoint", "warning"),
        ("https://127.0.0.1:9101/v2", "origin-not-bare", "error"),
        ("not a url", "wrong-type", "error"),
    ],
)
def test_suspicious_trusted_origins_are_flagged(
    tmp_path: Path, origin: str, code: str, severity: str
) -> None:
    path = write(tmp_path, trusted_api_origins=["https://us-1.api.gong.io", origin])
    findings = [d for d in validate_file(path) if d.path.startswith("oauth.trusted_api_origins")]
    assert findings, origin
    if code != "wrong-type":  # the schema's own code for a pattern mismatch varies
        assert [(d.code, d.severity, d.path) for d in findings] == [
            (code, severity, "oauth.trusted_api_origins[1]")
        ]
        assert findings[0].line > 0


def test_oauth_client_takes_a_token_store_as_its_state_store(tmp_path: Path) -> None:
    config = load_config(write(tmp_path), environ=ENV)
    with config.open_store() as store:
        issuing = config.oauth_client(state_store=store)
        receiving = config.oauth_client(state_store=store)  # another worker
        redirect = config.integration.redirect_uris[0]
        _, state = issuing.authorization_url(["api:users:read"], redirect, customer="acme")
        pending, code = receiving.parse_callback(
            f"{redirect}?code=c0de&state={state}", redirect_uri=redirect
        )
        assert (pending.customer, code) == ("acme", "c0de")


def test_open_store_uses_the_file_store_and_its_keys(tmp_path: Path) -> None:
    config = load_config(write(tmp_path), environ=ENV)
    store = config.open_store()
    assert isinstance(store, SQLiteTokenStore)
    assert store.path == tmp_path / "tokens.db"
    from tests.test_contract_tokens import make_token

    with store:
        store.put("acme", make_token(1))
    with sqlite3.connect(tmp_path / "tokens.db") as db:
        (raw,) = db.execute("SELECT data FROM tokens").fetchone()
    assert bytes(raw).startswith(b"gAAAAA")  # encrypted with the file's key
    assert isinstance(config.open_store("memory://"), MemoryTokenStore)


@pytest.mark.parametrize(
    ("origin", "code"),
    [
        ("http://fakegong.internal:9101", "insecure-url"),
        ("https://127.0.0.1:9101/v2", "origin-not-bare"),
        ("not a url", "invalid-url"),
    ],
)
def test_a_trusted_origin_from_the_environment_is_checked_when_loaded(
    tmp_path: Path, origin: str, code: str
) -> None:
    # validate cannot see through ${env:…}; loading must make the same checks on the value,
    # or a bearer token could be sent in clear to whatever the variable names.
    path = write(tmp_path, trusted_api_origins=["${env:FAKEGONG_ACME}"])
    assert [d for d in validate_file(path) if d.is_error] == []
    with pytest.raises(ConfigError, match=code) as caught:
        load_config(path, environ={**ENV, "FAKEGONG_ACME": origin})
    assert "oauth.trusted_api_origins[0]" in str(caught.value.diagnostics[0].path)
    assert ENV["GONG_CLIENT_SECRET"] not in str(caught.value)


@pytest.mark.parametrize("key", ["authorize_url", "token_url"])
def test_oauth_endpoints_off_loopback_must_be_https_literal_or_from_the_environment(
    tmp_path: Path, key: str
) -> None:
    # The token URL receives the client secret (HTTP Basic), codes and refresh tokens.
    clear = "http://gong-proxy.example.com/oauth2/x"
    path = write(tmp_path, **{key: clear})
    findings = [(d.code, d.severity, d.path) for d in validate_file(path)]
    assert ("insecure-url", "error", f"oauth.{key}") in findings
    path = write(tmp_path, **{key: "https://gong-proxy.example.com/oauth2/x"})
    findings = [(d.code, d.severity, d.path) for d in validate_file(path)]
    assert findings == [("untrusted-endpoint", "warning", f"oauth.{key}")]
    path = write(tmp_path, **{key: "${env:ENDPOINT}"})
    assert [d for d in validate_file(path) if d.is_error] == []
    with pytest.raises(ConfigError, match="insecure-url"):
        load_config(path, environ={**ENV, "ENDPOINT": clear})
    loaded = load_config(path, environ={**ENV, "ENDPOINT": "http://127.0.0.1:9100/oauth2/x"})
    assert loaded.oauth is not None
