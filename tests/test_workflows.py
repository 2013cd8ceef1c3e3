"""The GitHub workflows: valid against check-jsonschema's vendored GitHub workflow schema, and
saying what the project promises (the README's test command on every supported Python with
Redis and PostgreSQL; a release built once and published by trusted publishing, no token)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
README_TEST_COMMAND = (
    "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' && .venv/bin/python -m pytest"
)


def _load(name: str) -> dict[Any, Any]:
    loaded = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.mark.parametrize("name", ["ci.yml", "release.yml"])
def test_the_workflow_is_valid_against_the_github_workflow_schema(name: str) -> None:
    check = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(check), "--builtin-schema", "vendor.github-workflows", str(WORKFLOWS / name)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  test:\n    runs-on: ubuntu-24.04\n    stepz: []\n")
    check = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(check), "--builtin-schema", "vendor.github-workflows", str(broken)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 1


def test_ci_runs_the_readme_test_command_on_every_supported_python() -> None:
    assert README_TEST_COMMAND in (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    job = _load("ci.yml")["jobs"]["test"]
    assert job["strategy"]["matrix"]["python"] == ["3.11", "3.12", "3.13"]
    assert {"redis", "postgres"} <= set(job["services"])
    assert job["services"]["redis"]["image"].startswith("redis:")
    assert job["services"]["postgres"]["image"].startswith("postgres:")
    assert README_TEST_COMMAND in [step.get("run") for step in job["steps"]]


def test_release_builds_once_and_publishes_by_trusted_publishing() -> None:
    workflow = _load("release.yml")
    text = (WORKFLOWS / "release.yml").read_text(encoding="utf-8")
    build, publish = workflow["jobs"]["build"], workflow["jobs"]["publish"]
    assert publish["needs"] == "build"
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    uses = [step.get("uses", "") for step in publish["steps"]]
    assert any(u.startswith("pypa/gh-action-pypi-publish@") for u in uses)
    # Publishes the files the build job checked, and builds nothing itself.
    assert not any("build" in str(step.get("run", "")) for step in publish["steps"])
    assert any("python -m build" in str(step.get("run", "")) for step in build["steps"])
    assert any("twine check --strict" in str(step.get("run", "")) for step in build["steps"])
    # No stored token: nothing passes a password or reads a secret.
    assert "secrets." not in text
    assert all("with" not in step or "password" not in step["with"] for step in publish["steps"])
