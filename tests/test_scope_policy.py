"""The scope policy: real new scopes pass, typos of known ones fail, strict mode for the wary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gong_authlib import ConfigError, load_config
from gong_authlib.config.scope_policy import judge_scope
from gong_authlib.gong.scopes import KNOWN_SCOPES
from tests.helpers import GOOD_CONFIG, integration_file, run_cli

ENVIRON = {"GONG_CLIENT_ID": "i", "GONG_CLIENT_SECRET": "s", "GONG_AUTHLIB_KEY": "k"}


@pytest.mark.parametrize(
    ("scope", "kind", "suggestion"),
    [
        ("api:coaching:read", "known", None),  # Gong's OpenAPI, GET /v2/coaching
        ("api:ai-briefer:read", "known", None),  # Gong's own 401 text
        ("api:calls:read", "typo", "api:calls:read:basic"),  # the common truncation
        ("api:calls:read:media", "typo", "api:calls:read:media-url"),
        ("api:user:read", "typo", "api:users:read"),
        ("api:users:raed", "typo", "api:users:read"),
        ("api:calls:read:transcripts", "typo", "api:calls:read:transcript"),
        ("api:coaching:write", "unknown", "api:coaching:read"),  # a new verb
        ("api:logs:write", "unknown", "api:logs:read"),  # two edits from api:flows:write
        ("api:brand-new:read", "unknown", None),
        ("API:users:read", "malformed", "api:users:read"),
        ("calls:read", "malformed", None),
        ("api:users:" + "r" * 200, "malformed", None),  # shaped like a scope, but absurd
        ("api:calls", "malformed", "api:calls:create"),  # a truncation: the first it prefixes
    ],
)
def test_judge_scope(scope: str, kind: str, suggestion: str | None) -> None:
    verdict = judge_scope(scope, frozenset(KNOWN_SCOPES))
    assert (verdict.kind, verdict.suggestion) == (kind, suggestion)


def _file(folder: Path, *scopes: str, validation: str = "") -> Path:
    extra = "".join(f"    - {scope}\n" for scope in scopes)
    text = GOOD_CONFIG.replace("    - api:users:read\n", "    - api:users:read\n" + extra)
    assert text != GOOD_CONFIG or not scopes
    return integration_file(folder, text + validation)


def _validate(path: Path, *options: str) -> tuple[int, list[dict[str, object]]]:
    result = run_cli("validate", "--format", "json", *options, str(path))
    assert result.stderr == ""
    return result.returncode, json.loads(result.stdout)["diagnostics"]


def test_real_gong_scopes_are_valid(tmp_path: Path) -> None:
    path = _file(tmp_path, "api:coaching:read", "api:ai-briefer:read")
    assert _validate(path) == (0, [])


def test_a_well_formed_new_scope_is_a_warning_that_passes(tmp_path: Path) -> None:
    path = _file(tmp_path, "api:coaching:write")
    code, [finding] = _validate(path)
    assert code == 0
    assert (finding["severity"], finding["code"]) == ("warning", "unknown-scope")
    assert finding["suggestion"] == "api:coaching:read"
    assert "validation.extra_scopes" in str(finding["message"])
    text = run_cli("validate", str(path))
    assert text.returncode == 0
    assert "warning[unknown-scope]: scope 'api:coaching:write' is unknown" in text.stdout
    # the application still loads it: a new scope does not stop the app
    config = load_config(path, environ=ENVIRON)
    assert "api:coaching:write" in config.integration.scopes


@pytest.mark.parametrize(
    ("scope", "suggestion"),
    [("api:user:read", "api:users:read"), ("api:calls:read", "api:calls:read:basic")],
)
def test_a_near_miss_typo_is_an_error(tmp_path: Path, scope: str, suggestion: str) -> None:
    path = _file(tmp_path, scope)
    code, [finding] = _validate(path)
    assert code == 1
    assert (finding["severity"], finding["code"]) == ("error", "scope-typo")
    assert finding["suggestion"] == suggestion
    assert finding["line"] == 13
    # listed as an extra scope, it is accepted as what the author meant
    assert _validate(path, "--extra-scope", scope) == (0, [])


def test_strict_scopes_flag_makes_unknown_scopes_errors(tmp_path: Path) -> None:
    path = _file(tmp_path, "api:brand-new:read")
    code, [finding] = _validate(path, "--strict-scopes")
    assert code == 1
    assert (finding["severity"], finding["code"]) == ("error", "unknown-scope")
    assert _validate(path, "--strict-scopes", "--extra-scope", "api:brand-new:read") == (0, [])


def test_strict_scopes_in_the_file(tmp_path: Path) -> None:
    path = _file(tmp_path, "api:brand-new:read", validation="validation:\n  strict_scopes: true\n")
    code, [finding] = _validate(path)
    assert code == 1
    assert finding["severity"] == "error"
    assert "strict_scopes is on" in str(finding["message"])
    with pytest.raises(ConfigError, match="unknown-scope"):
        load_config(path, environ=ENVIRON)


def test_strict_scopes_must_be_a_boolean(tmp_path: Path) -> None:
    path = _file(tmp_path, validation="validation:\n  strict_scopes: yes please\n")
    code, [finding] = _validate(path)
    assert code == 1
    assert finding["code"] == "wrong-type"
