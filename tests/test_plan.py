"""`gong-authlib plan`: each kind of change with its consequence, against files and git refs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gong_authlib.config.plan import diff
from tests.helpers import GOOD_CONFIG as GOOD
from tests.helpers import integration_file, run_cli

GIT = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@e.x",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@e.x",
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    integration_file(tmp_path, name="old.yaml")
    return tmp_path


def _plan(folder: Path, new_text: str, *extra: str) -> dict[str, Any]:
    (folder / "new.yaml").write_text(new_text)
    result = run_cli(
        "plan",
        str(folder / "new.yaml"),
        "--against",
        str(folder / "old.yaml"),
        "--format",
        "json",
        *extra,
    )
    assert result.returncode == 0, result.stderr
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


CASES = [
    (
        "scope added",
        ("    - api:users:read\n", "    - api:users:read\n    - api:calls:read:extensive\n"),
        ("add", "integration.scopes", "must authorize the app again"),
    ),
    (
        "scope removed",
        ("    - api:users:read\n", ""),
        ("remove", "integration.scopes", "keep the scope until"),
    ),
    (
        "redirect URI added",
        ("  redirect_uris:\n", "  redirect_uris:\n    - https://app.acme.example/cb2\n"),
        ("add", "integration.redirect_uris", "register it in Gong before"),
    ),
    (
        "redirect URI removed",
        ("    - https://app.acme.example/oauth/gong/callback\n", ""),
        ("remove", "integration.redirect_uris", "in flight"),
    ),
    (
        "name changed",
        ("  name: Acme Call Notes", "  name: Acme Notes"),
        ("change", "integration.name", "cosmetic"),
    ),
    (
        "logo changed",
        ("    small: assets/logo-small.png", "    small: assets/logo-large.png"),
        ("change", "integration.logos.small", "approval screen"),
    ),
    (
        "link changed",
        (
            "help_article: https://help.acme.example/gong",
            "help_article: https://help.acme.example/g",
        ),
        ("change", "integration.links.help_article", "listing"),
    ),
    (
        "iframe toggled",
        ("    enabled: true", "    enabled: false"),
        ("change", "integration.iframe.enabled", "on or off"),
    ),
    (
        "origin added",
        (
            "      - https://app.acme.example\n",
            "      - https://app.acme.example\n      - https://eu.acme.example\n",
        ),
        ("add", "integration.iframe.allowed_origins", "Allowed origins"),
    ),
    (
        "customer origins added",
        (
            "      - https://app.acme.example\n",
            "      - https://app.acme.example\n    customer_origins:\n"
            "      template: https://{customer}.acme.example\n      integration_types: [DIALER]\n",
        ),
        ("add", "integration.iframe.customer_origins.template", "origins apply"),
    ),
    (
        "contact added",
        (
            "    - integrations@acme.example\n",
            "    - integrations@acme.example\n    - ops@acme.example\n",
        ),
        ("add", "integration.contacts", "Gong may contact"),
    ),
    (
        "store moved",
        ("  url: sqlite:///tokens.db", "  url: sqlite:///other.db"),
        ("change", "token_store.url", "local"),
    ),
]


@pytest.mark.parametrize(("name", "edit", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_kind_of_change(
    folder: Path, name: str, edit: tuple[str, str], expected: tuple[str, str, str]
) -> None:
    assert edit[0] in GOOD, name
    payload = _plan(folder, GOOD.replace(*edit))
    action, path, consequence = expected
    [change] = [c for c in payload["changes"] if c["path"] == path and c["action"] == action]
    assert consequence in change["consequence"]
    assert payload["summary"][action] >= 1


def test_no_changes(folder: Path) -> None:
    payload = _plan(folder, GOOD)
    assert payload["changes"] == []
    assert payload["summary"] == {"add": 0, "change": 0, "remove": 0}
    text = run_cli("plan", str(folder / "new.yaml"), "--against", str(folder / "old.yaml"))
    assert text.stdout.startswith("No changes")


def test_detailed_exitcode(folder: Path) -> None:
    (folder / "new.yaml").write_text(GOOD)
    args = ["plan", str(folder / "new.yaml"), "--against", str(folder / "old.yaml")]
    assert run_cli(*args, "--detailed-exitcode").returncode == 0
    (folder / "new.yaml").write_text(GOOD.replace("  name: Acme Call Notes", "  name: X"))
    assert run_cli(*args, "--detailed-exitcode").returncode == 2
    assert run_cli(*args).returncode == 0


def test_text_output_like_terraform(folder: Path) -> None:
    (folder / "new.yaml").write_text(
        GOOD.replace("    - api:users:read\n", "    - api:calls:read:extensive\n")
    )
    result = run_cli("plan", str(folder / "new.yaml"), "--against", str(folder / "old.yaml"))
    lines = result.stdout.splitlines()
    assert '  + integration.scopes: "api:calls:read:extensive"' in lines
    assert '  - integration.scopes: "api:users:read"' in lines
    assert "Plan: 1 to add, 0 to change, 1 to remove." in lines
    assert any("authorize the app again" in line for line in lines)
    assert "In Gong:" in lines


def test_secrets_are_shown_as_sensitive(folder: Path) -> None:
    payload = _plan(folder, GOOD.replace("${env:GONG_CLIENT_SECRET}", "${env:OTHER_SECRET}"))
    [change] = payload["changes"]
    assert (change["path"], change["old"], change["new"]) == (
        "oauth.client_secret",
        "(sensitive)",
        "(sensitive)",
    )
    markdown = run_cli(
        "plan",
        str(folder / "new.yaml"),
        "--against",
        str(folder / "old.yaml"),
        "--format",
        "markdown",
    )
    assert "OTHER_SECRET" not in markdown.stdout
    assert "| ~ | `oauth.client_secret` | `(sensitive)` | `(sensitive)` |" in markdown.stdout


def test_an_invalid_side_stops_the_plan_with_positions(folder: Path) -> None:
    (folder / "new.yaml").write_text(
        GOOD.replace("    - api:users:read\n", "    - api:userz:read\n")
    )
    result = run_cli("plan", str(folder / "new.yaml"), "--against", str(folder / "old.yaml"))
    assert result.returncode == 1
    assert f"{folder / 'new.yaml'}:12:7" in result.stderr
    assert "The plan stops here" in result.stderr


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        env={**GIT, "PATH": "/usr/bin:/bin"},
    )


def test_against_git_refs(folder: Path) -> None:
    _git(folder, "init", "-q")
    (folder / "gong-integration.yaml").write_text(GOOD)
    _git(folder, "add", ".")
    _git(folder, "commit", "-qm", "first")
    (folder / "gong-integration.yaml").write_text(
        GOOD.replace("  name: Acme Call Notes", "  name: B")
    )
    result = run_cli("plan", str(folder / "gong-integration.yaml"), "--format", "json")
    assert result.returncode == 0, result.stderr
    changes = json.loads(result.stdout)["changes"]
    assert [(c["path"], c["old"], c["new"]) for c in changes] == [
        ("integration.name", "Acme Call Notes", "B")
    ]
    _git(folder, "commit", "-qam", "second")
    against_first = run_cli(
        "plan", str(folder / "gong-integration.yaml"), "--against", "HEAD~1", "--format", "json"
    )
    assert json.loads(against_first.stdout)["against"] == "HEAD~1:gong-integration.yaml"
    assert len(json.loads(against_first.stdout)["changes"]) == 1
    bad = run_cli("plan", str(folder / "gong-integration.yaml"), "--against", "no-such-ref")
    assert bad.returncode == 2
    assert "no such git revision or file" in bad.stderr


def test_a_file_new_in_git_is_a_plan_to_create(folder: Path) -> None:
    _git(folder, "init", "-q")
    (folder / "README").write_text("x")
    _git(folder, "add", "README")
    _git(folder, "commit", "-qm", "first")
    (folder / "gong-integration.yaml").write_text(GOOD)
    result = run_cli("plan", str(folder / "gong-integration.yaml"), "--format", "json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["creating"] is True
    assert {c["action"] for c in payload["changes"]} == {"add"}
    assert "Create Integration" in payload["steps"][0]


def test_outside_git_needs_against(folder: Path) -> None:
    result = run_cli("plan", str(folder / "old.yaml"))
    assert result.returncode == 2
    assert "not in a git repository" in result.stderr


def test_diff_of_whole_sections() -> None:
    plan = diff(
        {"integration": {"name": "a"}}, {"integration": {"name": "a", "iframe": {"enabled": True}}}
    )
    assert [(c.action, c.path) for c in plan.changes] == [("add", "integration.iframe.enabled")]


ENVIRONMENTS = (
    GOOD
    + """environments:
  developer:
    integration:
      redirect_uris: [http://127.0.0.1:9999/callback]
      contacts: [dev@acme.example]
    oauth:
      client_id: ${env:GONG_DEV_CLIENT_ID}
"""
)


def test_environment_plan_compares_merged_results(folder: Path) -> None:
    (folder / "old.yaml").write_text(ENVIRONMENTS)
    changed = ENVIRONMENTS.replace("contacts: [dev@acme.example]", "contacts: [qa@acme.example]")
    base = _plan(folder, changed)
    assert base["changes"] == []  # the base file did not change
    developer = _plan(folder, changed, "--env", "developer")
    assert [(c["action"], c["path"]) for c in developer["changes"]] == [
        ("remove", "integration.contacts"),
        ("add", "integration.contacts"),
    ]
    assert developer["environment"] == "developer"
