"""The rules a hostile-input review found missing: clear-text OAuth endpoints, endpoints off
Gong, partial literal secrets, passwords in store URL queries, control characters."""

from __future__ import annotations

from pathlib import Path

import pytest

from gong_authlib import validate_file
from tests.helpers import GOOD_CONFIG, integration_file, run_cli

SECRET = "hunter2"


def _findings(tmp_path: Path, old: str, new: str, extra: str = "") -> set[tuple[str, str, str]]:
    assert old in GOOD_CONFIG
    path = integration_file(tmp_path, GOOD_CONFIG.replace(old, new, 1) + extra)
    found = validate_file(path)
    for diagnostic in found:
        assert SECRET not in diagnostic.message
    return {(d.code, d.severity, d.path) for d in found}


OAUTH = "  validity_duration: 86400\n"


@pytest.mark.parametrize("key", ["token_url", "authorize_url"])
def test_http_oauth_endpoint_is_insecure(tmp_path: Path, key: str) -> None:
    found = _findings(tmp_path, OAUTH, OAUTH + f"  {key}: http://app.gong.io/oauth2/x\n")
    assert found == {("insecure-url", "error", f"oauth.{key}")}


def test_loopback_http_oauth_endpoint_is_fine(tmp_path: Path) -> None:
    new = OAUTH + "  token_url: http://127.0.0.1:8080/oauth2/generate-customer-token\n"
    assert _findings(tmp_path, OAUTH, new) == set()


def test_oauth_endpoint_off_gong_is_a_warning(tmp_path: Path) -> None:
    new = OAUTH + "  authorize_url: https://attacker.example/oauth2/authorize\n"
    assert _findings(tmp_path, OAUTH, new) == {
        ("untrusted-endpoint", "warning", "oauth.authorize_url")
    }
    both = OAUTH + "  authorize_url: http://attacker.example/oauth2/authorize\n"
    assert _findings(tmp_path, OAUTH, both) == {
        ("untrusted-endpoint", "warning", "oauth.authorize_url"),
        ("insecure-url", "error", "oauth.authorize_url"),
    }


def test_allowed_oauth_hosts(tmp_path: Path) -> None:
    new = OAUTH + "  token_url: https://gong-proxy.acme.example/oauth2/token\n"
    allowed = "validation:\n  allowed_oauth_hosts: [acme.example]\n"
    assert _findings(tmp_path, OAUTH, new, allowed) == set()
    assert _findings(tmp_path, OAUTH, OAUTH + "  token_url: https://eu.app.gong.io/t\n") == set()
    lookalike = OAUTH + "  token_url: https://app.gong.io.attacker.example/t\n"
    assert ("untrusted-endpoint", "warning", "oauth.token_url") in _findings(
        tmp_path, OAUTH, lookalike
    )


@pytest.mark.parametrize(
    "value", [f"{SECRET}${{env:EMPTY}}", f"${{env:A}}{SECRET}", "${env:A}-${env:B}"]
)
def test_literal_text_mixed_with_a_reference_in_the_client_secret(
    tmp_path: Path, value: str
) -> None:
    found = _findings(tmp_path, "${env:GONG_CLIENT_SECRET}", value)
    assert found == {("literal-secret", "error", "oauth.client_secret")}


def test_literal_text_mixed_with_a_reference_in_an_encryption_key(tmp_path: Path) -> None:
    found = _findings(tmp_path, "${env:GONG_AUTHLIB_KEY}", "x${env:GONG_AUTHLIB_KEY}")
    assert found == {("literal-secret", "error", "token_store.encryption_key")}


@pytest.mark.parametrize(
    ("url", "flagged"),
    [
        (f"postgresql://db.acme.example/app?password={SECRET}", True),
        (f"postgresql://db.acme.example/app?sslmode=require&PASSWORD={SECRET}", True),
        (f"postgresql://app:{SECRET}@${{env:DB_HOST}}/app", True),
        ("postgresql://db.acme.example/app?password=${env:DB_PASSWORD}", False),
        ("postgresql://app:${env:DB_PASSWORD}@db.acme.example/app", False),
        ("${env:DATABASE_URL}", False),
    ],
)
def test_passwords_in_store_urls(tmp_path: Path, url: str, flagged: bool) -> None:
    text = GOOD_CONFIG
    start = text.index("token_store:\n")
    line = next(x for x in text[start:].splitlines() if x.strip().startswith("url:"))
    found = _findings(tmp_path, line, f"  url: {url}")
    assert (("literal-secret", "error", "token_store.url") in found) is flagged


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('"Acme \\e]0;pwned\\a\\e[2J"', "integration.name"),
        ('"Acme \\u202eetoN llaC"', "integration.name"),
        ('"Acme \\x85 notes"', "integration.name"),
    ],
)
def test_control_characters_in_text(tmp_path: Path, text: str, where: str) -> None:
    found = _findings(tmp_path, "  name: Acme Call Notes\n", f"  name: {text}\n")
    assert found == {("control-character", "error", where)}


def test_control_character_in_a_key_and_a_list(tmp_path: Path) -> None:
    found = _findings(
        tmp_path, "    - integrations@acme.example\n", '    - "ops\\e[8m@acme.example"\n'
    )
    assert ("control-character", "error", "integration.contacts[0]") in found


def test_newlines_and_tabs_in_a_description_are_fine(tmp_path: Path) -> None:
    old = "  description: Copies the notes of every Gong call into the matching Acme account.\n"
    new = '  description: "Copies notes.\\n\\tIndented line."\n'
    assert _findings(tmp_path, old, new) == set()


ESCAPES = '"Acme \\e]0;pwned\\a\\e[2J\\u202e"'


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_plan_never_prints_raw_control_characters(tmp_path: Path, fmt: str) -> None:
    old = integration_file(tmp_path, GOOD_CONFIG, name="old.yaml")
    new = integration_file(
        tmp_path, GOOD_CONFIG.replace("  name: Acme Call Notes\n", f"  name: {ESCAPES}\n")
    )
    result = run_cli("plan", "--format", fmt, "--against", old.name, new.name, cwd=tmp_path)
    assert result.returncode == 1
    assert "control-character" in result.stderr
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in result.stdout + result.stderr


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_validate_reporters_never_print_raw_control_characters(tmp_path: Path, fmt: str) -> None:
    path = integration_file(
        tmp_path, GOOD_CONFIG.replace("  name: Acme Call Notes\n", f"  name: {ESCAPES}\n")
    )
    nasty = tmp_path / "a\x1b[2Jb.yaml"
    nasty.write_text(path.read_text())
    result = run_cli("validate", "--format", fmt, path.name, nasty.name, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.count("control-character") >= 2
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in result.stdout + result.stderr


def test_plan_values_are_shown_on_one_line_with_escapes() -> None:
    from gong_authlib.config.plan import show

    assert show("integration.name", "a\x1b]0;x\x07\nb\u202e") == '"a\\x1b]0;x\\x07\\nb\\u202e"'


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("token_store:\n      url", f'"redis://:{SECRET}@cache.acme.example/0\\e"'),
        ("token_store:\n      encryption_key", f'"{SECRET}\\u202e"'),
        ("oauth:\n      client_secret", f"[{SECRET}]"),
    ],
    ids=["store-url", "encryption-key", "client-secret"],
)
@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_secret_fields_in_an_environment_are_never_echoed(
    tmp_path: Path, field: str, value: str, fmt: str
) -> None:
    # Findings on the environments section itself (control characters, schema) name the raw
    # path `environments.prod.…`: it is as secret as the base file's field.
    path = integration_file(
        tmp_path, GOOD_CONFIG + f"environments:\n  prod:\n    {field}: {value}\n"
    )
    result = run_cli("validate", "--format", fmt, path.name, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert SECRET not in result.stdout + result.stderr
