"""`gong-authlib tokens …`, `origins apply` and `demo` as real processes."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gong_authlib.stores import SQLiteTokenStore
from gong_authlib.token import Token
from tests.cliflow import CliWorld, authorized_world
from tests.helpers import run_cli


@pytest.fixture
def world(tmp_path: Path) -> Iterator[CliWorld]:
    with authorized_world(tmp_path, "acme", "globex") as world:
        yield world


def _store(world: CliWorld) -> SQLiteTokenStore:
    return SQLiteTokenStore(world.folder / "tokens.db")


def test_list_text_and_json(world: CliWorld) -> None:
    text = world.run(*world.args("tokens", "list"))
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["acme", "globex"]
    assert "active" in lines[0]
    payload = json.loads(world.run(*world.args("tokens", "list", "--format", "json")).stdout)
    assert payload["format_version"] == "2"
    assert [row["customer"] for row in payload["customers"]] == ["acme", "globex"]
    assert payload["customers"][0]["api_base_url"] == world.gong.trusted_origins[0]
    token = _store(world).get("acme")
    assert token is not None
    assert token.access_token not in text.stdout
    assert token.access_token not in json.dumps(payload)


def test_list_keeps_going_past_a_damaged_entry(world: CliWorld) -> None:
    with sqlite3.connect(world.folder / "tokens.db") as db:
        db.execute("UPDATE tokens SET data = 'garbage' WHERE customer = 'acme'")
    result = world.run(*world.args("tokens", "list"))
    assert result.returncode == 1
    assert "acme                 UNREADABLE" in result.stdout
    assert "globex" in result.stdout


def test_show(world: CliWorld) -> None:
    result = world.run(*world.args("tokens", "show", "--customer", "globex", "--format", "json"))
    assert result.returncode == 0
    row = json.loads(result.stdout)
    token = _store(world).get("globex")
    assert token is not None
    assert row["access_token_sha256"] == token.access_fingerprint
    assert row["status"] == "active"
    missing = world.run(*world.args("tokens", "show", "--customer", "nobody"))
    assert missing.returncode == 1
    assert "no token stored for customer 'nobody'" in missing.stderr


def test_forced_refresh(world: CliWorld) -> None:
    before = _store(world).get("acme")
    result = world.run(*world.args("tokens", "refresh", "--customer", "acme"))
    assert result.returncode == 0, result.stderr
    after = _store(world).get("acme")
    assert before is not None
    assert after is not None
    assert after.refresh_token != before.refresh_token
    assert f"sha256:{after.access_fingerprint}" in result.stdout
    assert world.gong.stats.refreshes("acme") == 1


def test_refresh_of_a_revoked_customer_says_to_authorize(world: CliWorld) -> None:
    world.gong.revoke("globex")
    result = world.run(*world.args("tokens", "refresh", "--customer", "globex"))
    assert result.returncode == 1
    assert "gong-authlib authorize --customer globex" in result.stderr


def test_delete_needs_confirmation(world: CliWorld) -> None:
    refused = world.run(*world.args("tokens", "delete", "--customer", "acme"))
    assert refused.returncode == 2
    assert "pass --yes" in refused.stderr
    assert _store(world).get("acme") is not None
    deleted = world.run(*world.args("tokens", "delete", "--customer", "acme", "--yes"))
    assert deleted.returncode == 0
    assert _store(world).get("acme") is None
    again = world.run(*world.args("tokens", "delete", "--customer", "acme", "--yes"))
    assert again.returncode == 1


def test_store_flag_without_integration_file(world: CliWorld, tmp_path: Path) -> None:
    result = run_cli(
        "tokens",
        "list",
        "--config",
        str(tmp_path / "absent.yaml"),
        "--store",
        f"sqlite:///{world.folder}/tokens.db",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("acme")


def test_origins_apply_dry_run_then_send(world: CliWorld) -> None:
    dry = world.run(*world.args("origins", "apply", "--customer", "globex"))
    assert dry.returncode == 0, dry.stderr
    assert '"allowedOrigin": "https://globex.acme.example"' in dry.stdout
    assert "Run again with --yes" in dry.stdout
    assert world.gong.emulator.allowed_origins == {}
    sent = world.run(*world.args("origins", "apply", "--customer", "globex", "--yes"))
    assert sent.returncode == 0, sent.stderr
    assert "integrationId 9007199254740993" in sent.stdout  # 2**53 + 1, exactly
    assert [s["integrationType"] for s in world.gong.emulator.allowed_origins["globex"]] == [
        "EMAIL_COMPOSER",
        "ACCOUNT_PAGES",
    ]
    conflict = world.run(*world.args("origins", "apply", "--customer", "globex", "--yes"))
    assert conflict.returncode == 1
    assert "HTTP 409" in conflict.stderr


def test_origins_apply_refuses_a_customer_that_is_no_subdomain(world: CliWorld) -> None:
    result = world.run(*world.args("origins", "apply", "--customer", "Globex Inc"))
    assert result.returncode == 2
    assert "not a valid sub-domain label" in result.stderr


def test_demo_runs_end_to_end() -> None:
    result = run_cli("demo", "--no-color")
    assert result.returncode == 0, result.stderr
    assert "[3] Authorized customer acme" in result.stdout
    assert "GET /v2/calls -> 200 (history [401])" in result.stdout
    assert "32 x 200, 1 refresh, 0 invalid_grant" in result.stdout
    assert "ReauthorizationRequired: customer 'globex'" in result.stdout
    assert "eyJ" not in result.stdout
    assert "gongfake-rt-" not in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize(
    "command",
    [
        ["validate"],
        ["schema"],
        ["authorize"],
        ["tokens"],
        ["tokens", "list"],
        ["tokens", "refresh"],
        ["origins"],
        ["origins", "apply"],
        ["demo"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.returncode == 0
    assert "usage: gong-authlib" in result.stdout
    assert "examples:\n  gong-authlib" in result.stdout


def test_usage_errors_exit_two() -> None:
    assert run_cli("tokens").returncode == 2
    assert run_cli("tokens", "show").returncode == 2  # --customer missing
    assert run_cli("authorize", "--timeout", "soon", "--customer", "x").returncode == 2


def test_origins_apply_copes_without_integration_id(world: CliWorld) -> None:
    # Production Gong has answered with only {"requestId": ...}.
    world.gong.emulator.answer_integration_id = False
    sent = world.run(*world.args("origins", "apply", "--customer", "globex", "--yes"))
    assert sent.returncode == 0, sent.stderr
    assert "None" not in sent.stdout
    assert "Gong did not return an integrationId" in sent.stdout
    assert "requestId " in sent.stdout


def test_a_malformed_trust_origin_is_a_usage_error(world: CliWorld) -> None:
    result = world.run(
        *world.args("tokens", "refresh", "--customer", "acme", "--trust-origin", "https://a\\@b")
    )
    assert result.returncode == 2
    assert "--trust-origin: trusted_api_origins" in result.stderr
    assert "backslash" in result.stderr
    assert "Traceback" not in result.stderr


ESCAPES = "\x1b]0;pwned\x07\x1b[2J\u202e"


def test_list_and_show_escape_what_the_store_holds(tmp_path: Path) -> None:
    # A store is shared (other tools, older versions, a token answer's fields): what it holds
    # reaches the terminal escaped, and a name the library would refuse does not crash `list`.
    token = Token(
        access_token="access-" + "a" * 20,
        refresh_token="refresh-" + "r" * 20,
        expires_at=time.time() + 3600,
        api_base_url=f"https://acme{ESCAPES}.api.gong.io",
        scope=frozenset({f"api:users:read{ESCAPES}"}),
        extra={f"field{ESCAPES}": 1},
    )
    with SQLiteTokenStore(tmp_path / "tokens.db") as store:
        store.put("acme", token)
    with sqlite3.connect(tmp_path / "tokens.db") as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(tokens)")]
        others = ", ".join(c for c in columns if c != "customer")
        db.execute(
            f"INSERT INTO tokens (customer, {others}) SELECT ?, {others} FROM tokens"  # noqa: S608
            " WHERE customer = 'acme'",
            (f"evil{ESCAPES}",),
        )
    store_url = f"sqlite:///{tmp_path / 'tokens.db'}"
    runs = [
        run_cli("tokens", "list", "--store", store_url, "--format", fmt, cwd=tmp_path)
        for fmt in ("text", "json")
    ] + [
        run_cli("tokens", "show", "--store", store_url, "--customer", "acme", "--format", fmt)
        for fmt in ("text", "json")
    ]
    for result in runs:
        output = result.stdout + result.stderr
        assert "internal error" not in output
        for raw in ("\x1b", "\x07", "\u202e"):
            assert raw not in output, output
    listed, listed_json, shown, _ = runs
    assert listed.returncode == 1  # the unusable name is reported, the others listed
    assert "acme" in listed.stdout
    assert "evil\\x1b]0;pwned\\x07\\x1b[2J\\u202e" in listed.stdout
    assert "UNREADABLE  a customer name cannot contain control characters" in listed.stdout
    assert [row["status"] for row in json.loads(listed_json.stdout)["customers"]] == [
        "active",  # format 2 (issue 15): health names
        "unreadable",
    ]
    assert "https://acme\\x1b]0;pwned" in shown.stdout
