"""`plan --detailed-exitcode` in CI: 0 no changes, 2 changes, 1 for every error.

CI checkouts are often shallow (actions/checkout fetches one commit by default), so the base
ref is missing; that must read as an error (1), never as "changes present" (2).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import GOOD_CONFIG as GOOD
from tests.helpers import integration_file, run_cli

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@e.x",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@e.x",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "PATH": "/usr/bin:/bin",
}
FILE = "gong-integration.yaml"


def _git(folder: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True, env=GIT_ENV)


@pytest.fixture
def shallow_clone(tmp_path: Path) -> Path:
    """A clone of depth 1 of a repository with two commits on main and a second branch."""
    origin = tmp_path / "origin"
    origin.mkdir()
    _git(origin, "init", "-q", "-b", "main")
    integration_file(origin, GOOD)
    _git(origin, "add", ".")
    _git(origin, "commit", "-qm", "first")
    _git(origin, "branch", "release")
    (origin / FILE).write_text(GOOD.replace("  name: Acme Call Notes", "  name: B"))
    _git(origin, "commit", "-qam", "second")
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin}", str(clone))
    return clone


@pytest.mark.parametrize("ref", ["HEAD~1", "origin/release", "no-such-ref"])
def test_a_ref_missing_from_a_shallow_clone_is_an_error(shallow_clone: Path, ref: str) -> None:
    result = run_cli("plan", "--detailed-exitcode", "--against", ref, str(shallow_clone / FILE))
    assert result.returncode == 1, result.stderr
    assert f"--against {ref}: no such git revision or file" in result.stderr
    assert "shallow clone" in result.stderr
    assert "fetch-depth: 0" in result.stderr
    assert result.stdout == ""


def test_the_refs_that_are_there_still_plan(shallow_clone: Path) -> None:
    args = ["plan", "--detailed-exitcode", str(shallow_clone / FILE)]
    assert run_cli(*args, "--against", "origin/main").returncode == 0
    (shallow_clone / FILE).write_text(GOOD.replace("  name: Acme Call Notes", "  name: C"))
    changed = run_cli(*args, "--against", "origin/main")
    assert changed.returncode == 2, changed.stderr
    assert "Plan: 0 to add, 1 to change, 0 to remove." in changed.stdout


def test_without_detailed_exitcode_a_missing_ref_stays_a_usage_error(
    shallow_clone: Path,
) -> None:
    result = run_cli("plan", "--against", "HEAD~1", str(shallow_clone / FILE))
    assert result.returncode == 2


@pytest.mark.parametrize(
    "case",
    ["not in git", "bad option", "missing file", "invalid file", "unknown environment"],
)
def test_every_error_exits_1_under_detailed_exitcode(tmp_path: Path, case: str) -> None:
    integration_file(tmp_path, GOOD, name="old.yaml")
    new = integration_file(tmp_path, GOOD, name="new.yaml")
    args = ["plan", "--detailed-exitcode", str(new), "--against", str(tmp_path / "old.yaml")]
    if case == "not in git":
        args = ["plan", "--detailed-exitcode", str(new)]
    elif case == "bad option":
        args += ["--format", "xml"]
    elif case == "missing file":
        args[2] = str(tmp_path / "absent.yaml")
    elif case == "invalid file":
        new.write_text(GOOD.replace("  name: Acme Call Notes\n", ""))
    else:
        args += ["--env", "nowhere"]
    result = run_cli(*args)
    assert result.returncode == 1, (case, result.stderr)
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr
