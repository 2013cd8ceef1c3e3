"""The messages a new user met (issue 23, item 5): each says what happened and what to do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gong_authlib import (
    ConfigError,
    GongAuthError,
    OriginMismatch,
    Token,
    TokenNotFound,
    TokenStoreError,
    gong_session,
    load_config,
    open_store,
    validate_file,
)
from gong_authlib.stores import MemoryTokenStore, SQLiteTokenStore
from gong_authlib.testing import FakeGong
from gong_authlib.web import ConnectFlow
from tests.authflow import authorize_into
from tests.helpers import GOOD_CONFIG, integration_file, run_cli
from tests.servers import PostgresServer, RedisServer

ENVIRON = {"GONG_CLIENT_ID": "id", "GONG_CLIENT_SECRET": "s", "GONG_AUTHLIB_KEY": ""}


def test_a_scope_typo_suggests_the_scope_not_extra_scopes(tmp_path: Path) -> None:
    text = GOOD_CONFIG.replace("    - api:users:read\n", "    - api:user:read\n")
    [typo] = validate_file(integration_file(tmp_path, text))
    assert typo.code == "scope-typo"
    assert "did you mean 'api:users:read'?" in typo.message
    assert "extra_scopes" not in typo.message
    new = GOOD_CONFIG.replace("    - api:users:read\n", "    - api:brand-new:read\n")
    [unknown] = validate_file(integration_file(tmp_path, new))
    assert "validation.extra_scopes" in unknown.message


def test_every_missing_key_is_reported_in_one_run(tmp_path: Path) -> None:
    text = GOOD_CONFIG.replace(
        "  links:\n"
        "    privacy_policy: https://acme.example/privacy\n"
        "    terms_and_conditions: https://acme.example/terms\n"
        "    help_article: https://help.acme.example/gong\n"
        "    authorization_start: https://app.acme.example/integrations/gong\n",
        "",
    ).replace("  contacts:\n    - integrations@acme.example\n", "")
    found = validate_file(integration_file(tmp_path, text))
    assert {d.code for d in found} == {"missing-key"}
    messages = " | ".join(d.message for d in found)
    assert "'links'" in messages
    assert "'contacts'" in messages
    # The keys the missing section needs come with it, not one run later.
    links = next(d for d in found if "'links'" in d.message)
    for key in ("privacy_policy", "terms_and_conditions", "help_article"):
        assert key in links.message


def test_a_partial_section_lists_all_its_missing_keys_at_once(tmp_path: Path) -> None:
    text = GOOD_CONFIG.replace("    help_article: https://help.acme.example/gong\n", "").replace(
        "    privacy_policy: https://acme.example/privacy\n", ""
    )
    found = validate_file(integration_file(tmp_path, text))
    assert sorted(d.message.split("'")[1] for d in found) == ["help_article", "privacy_policy"]


def test_connect_flow_refuses_an_unlisted_redirect_uri_as_a_config_error(
    tmp_path: Path,
) -> None:
    config = load_config(integration_file(tmp_path), environ=ENVIRON)
    with pytest.raises(ConfigError) as caught:
        ConnectFlow.from_config(
            config, MemoryTokenStore(), redirect_uri="https://app.acme.example/elsewhere"
        )
    assert isinstance(caught.value, GongAuthError)
    message = str(caught.value)
    assert "'https://app.acme.example/elsewhere' is not one of" in message
    assert "https://app.acme.example/oauth/gong/callback" in message  # the ones it may be


def test_token_not_found_says_how_to_connect_from_an_app_and_a_terminal() -> None:
    with FakeGong() as gong:
        gong.add_customer("acme")
        session = gong_session(gong.oauth_client(), MemoryTokenStore(), "initech")
        with pytest.raises(TokenNotFound) as caught:
            session.get("/v2/users")
    message = str(caught.value)
    assert caught.value.customer == "initech"
    assert "no token is stored for customer 'initech'" in message
    assert "ConnectFlow" in message  # in a web app: the connect page
    assert "gong-authlib authorize --customer initech" in message  # from a terminal


def test_an_origin_refusal_quotes_the_customer_cleanly() -> None:
    with FakeGong() as gong:
        gong.add_customer("acme")
        store = MemoryTokenStore()
        authorize_into(gong, store, "acme")
        session = gong_session(gong.oauth_client(), store, "acme", rate_limit=None)
        with pytest.raises(OriginMismatch) as caught:
            session.get("https://evil.example/v2/users")
    message = str(caught.value)
    assert "''s" not in message
    assert "refusing to send the token of customer 'acme' to https://evil.example" in message


def test_tokens_list_needs_no_client_secret(tmp_path: Path) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    text = GOOD_CONFIG.replace("  encryption_key: ${env:GONG_AUTHLIB_KEY}\n", "")
    config = integration_file(folder, text)
    with SQLiteTokenStore(folder / "tokens.db") as store:
        store.put("acme", Token("a", "r", time.time() + 3600, "https://us-1.api.gong.io"))
    for command in (["list"], ["check"], ["show", "--customer", "acme"]):
        result = _cli_without_gong_variables("tokens", *command, "--config", str(config))
        assert result.returncode == 0, result.stderr
        assert "acme" in result.stdout or "1 customer(s), none needs attention" in result.stdout
    # A command that does call Gong still needs the secret, and says so without the summary
    # line of `validate` ("1 file checked").
    refresh = _cli_without_gong_variables(
        "tokens", "refresh", "--customer", "acme", "--config", str(config)
    )
    assert refresh.returncode == 1
    assert "GONG_CLIENT_SECRET is not set" in refresh.stderr
    assert "file checked" not in refresh.stderr
    assert "cannot use the integration file" in refresh.stderr


def _cli_without_gong_variables(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONG_")}
    return subprocess.run(
        [sys.executable, "-m", "gong_authlib", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_demo_help_says_two_customers() -> None:
    result = run_cli("demo", "--help")
    assert result.returncode == 0
    assert "authorize two customers" in " ".join(result.stdout.split())


def test_tokens_check_help_tells_its_own_exit_codes() -> None:
    result = run_cli("tokens", "check", "--help")
    text = " ".join(result.stdout.split())
    assert "1 a customer needs attention" in text
    assert "0 every customer is" in text


def test_a_redis_database_index_out_of_range_fails_at_open(redis_server: RedisServer) -> None:
    url = redis_server.url.rsplit("/", 1)[0] + "/99"
    started = time.monotonic()
    with pytest.raises(TokenStoreError) as caught:
        open_store(url)
    message = str(caught.value)
    assert "database 99" in message
    assert "does not exist" in message or "out of range" in message
    assert "running and reachable" not in message
    assert time.monotonic() - started < 3


def test_a_missing_postgres_database_fails_at_open_with_the_cause(
    postgres_server: PostgresServer,
) -> None:
    started = time.monotonic()
    with pytest.raises(TokenStoreError) as caught:
        open_store(postgres_server.dsn("no_such_db"))
    message = str(caught.value)
    assert 'database "no_such_db" does not exist' in message
    assert "PoolTimeout" not in message
    assert time.monotonic() - started < 3  # not the pool's 5-second wait
    assert json.dumps(message)  # one printable line
