"""`gong-authlib tokens rotate-key` as operators run it, on every shared store kind."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import psycopg
import pytest
import redis
from cryptography.fernet import Fernet

from gong_authlib import open_store
from gong_authlib.errors import TokenStoreError
from gong_authlib.token import Token, fingerprint
from tests.helpers import GOOD_CONFIG, integration_file, run_cli
from tests.servers import PostgresServer, RedisServer

OLD, NEW, OTHER = (Fernet.generate_key().decode() for _ in range(3))


def _token(n: int) -> Token:
    return Token(
        access_token=f"access-{n}",
        refresh_token=f"refresh-{n}",
        expires_at=1_800_000_000.0 + n,
        issued_at=1_799_990_000.0,
        api_base_url="https://us-1.api.gong.io",
        scope=frozenset({"api:users:read"}),
    )


def _store_url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store of ``kind`` that the CLI opens by URL with its default names."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path}/tokens.db"
    if kind == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        url = server.url.rsplit("/", 1)[0] + f"/{1 + uuid.uuid4().int % 63}"
        redis.Redis.from_url(url).flushdb()
        return url
    postgres: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"rotate_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres.dsn(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return postgres.dsn(name)


@pytest.fixture(params=["sqlite", "redis", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = _store_url(request.param, request, tmp_path)
    with open_store(url, encryption_keys=[OLD]) as store:
        store.put("acme", _token(1))
        store.put("globex", _token(2))
    return url


def _rotate(tmp_path: Path, url: str, keys: str, *options: str) -> tuple[int, str, str]:
    text = GOOD_CONFIG.replace("${env:GONG_AUTHLIB_KEY}", "${env:GONG_AUTHLIB_KEYS}")
    config = integration_file(tmp_path, text)
    env = {"GONG_CLIENT_ID": "id", "GONG_CLIENT_SECRET": "s", "GONG_AUTHLIB_KEYS": keys}
    result = run_cli(
        "tokens", "rotate-key", "--config", str(config), "--store", url, *options, env=env
    )
    for key in (OLD, NEW, OTHER):
        assert key not in result.stdout + result.stderr
    return result.returncode, result.stdout, result.stderr


def _readable_with(url: str, *keys: str) -> dict[str, Token | None]:
    """Each customer's token read with only ``keys``, None where they cannot decrypt it."""
    out: dict[str, Token | None] = {}
    with open_store(url, encryption_keys=list(keys)) as store:
        for customer in store.customers():
            try:
                out[customer] = store.get(customer)
            except TokenStoreError:
                out[customer] = None
    return out


def test_rotation_re_encrypts_every_token_with_the_newest_key(
    store_url: str, tmp_path: Path
) -> None:
    code, out, err = _rotate(tmp_path, store_url, f"{NEW}, {OLD}", "--yes")
    assert code == 0, err
    assert "2 stored token(s)" in out
    assert f"sha256:{fingerprint(NEW)} (1 older key(s) kept for reading)" in out
    assert f"Re-encrypted 2 token(s) with key sha256:{fingerprint(NEW)}" in out
    # the old key can be dropped now: the new one alone reads everything
    assert _readable_with(store_url, NEW) == {"acme": _token(1), "globex": _token(2)}
    assert _readable_with(store_url, OLD) == {"acme": None, "globex": None}


def test_a_key_that_cannot_read_every_token_changes_nothing(store_url: str, tmp_path: Path) -> None:
    # The old key dropped too early: the configured keys cannot read what is stored.
    code, out, err = _rotate(tmp_path, store_url, f"{NEW} {OTHER}", "--yes")
    assert code == 1
    assert "refusing to rotate: 2 token(s) cannot be decrypted" in err
    assert "nothing was changed" in err
    assert "acme: the stored token of customer 'acme' cannot be decrypted" in out
    assert _readable_with(store_url, OLD) == {"acme": _token(1), "globex": _token(2)}
    assert _readable_with(store_url, NEW) == {"acme": None, "globex": None}


def test_one_unreadable_token_stops_the_whole_rotation(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/tokens.db"
    with open_store(url, encryption_keys=[OLD]) as store:
        store.put("acme", _token(1))
    with open_store(url, encryption_keys=[NEW]) as store:
        store.put("globex", _token(2))
    code, out, _err = _rotate(tmp_path, url, NEW, "--yes")
    assert code == 1
    assert "1 token(s) cannot be decrypted" in out
    assert "acme:" in out
    assert "globex:" not in out
    assert _readable_with(url, OLD) == {"acme": _token(1), "globex": None}


def test_without_a_terminal_it_needs_yes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/tokens.db"
    with open_store(url, encryption_keys=[OLD]) as store:
        store.put("acme", _token(1))
    code, out, err = _rotate(tmp_path, url, f"{NEW},{OLD}")
    assert code == 2
    assert "1 stored token(s)" in out  # what it would do is shown anyway
    assert "pass --yes" in err
    assert _readable_with(url, OLD) == {"acme": _token(1)}


def test_json_output(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/tokens.db"
    with open_store(url, encryption_keys=[OLD]) as store:
        store.put("acme", _token(1))
    code, out, err = _rotate(tmp_path, url, f"{NEW},{OLD}", "--yes", "--format", "json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["rotated"] == 1
    assert payload["new_key_sha256"] == fingerprint(NEW)
    assert payload["unreadable"] == {}


def test_no_key_configured_is_a_usage_error(tmp_path: Path) -> None:
    config = integration_file(
        tmp_path, GOOD_CONFIG.replace("  encryption_key: ${env:GONG_AUTHLIB_KEY}\n", "")
    )
    result = run_cli(
        "tokens",
        "rotate-key",
        "--config",
        str(config),
        "--yes",
        env={"GONG_CLIENT_ID": "id", "GONG_CLIENT_SECRET": "s"},
    )
    assert result.returncode == 2
    assert "no encryption key configured" in result.stderr
