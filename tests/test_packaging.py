"""What users install: a non-editable wheel, and the pre-commit hook through real pre-commit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import CONFIG_DATA, REPO_ROOT, integration_file

pytestmark = pytest.mark.slow


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_wheel_install_ships_the_schema(tmp_path: Path) -> None:
    _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "-q",
        "-w",
        tmp_path / "dist",
        REPO_ROOT,
        cwd=tmp_path,
    )
    [wheel] = (tmp_path / "dist").glob("gong_authlib-*.whl")
    _run(sys.executable, "-m", "venv", tmp_path / "venv", cwd=tmp_path)
    bin_dir = tmp_path / "venv" / "bin"
    _run(bin_dir / "python", "-m", "pip", "install", "-q", wheel, cwd=tmp_path)
    # From a folder with no checkout in sight, the installed copy must be the one found.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    installed = Path(_run(bin_dir / "gong-authlib", "schema", "--path", cwd=elsewhere).strip())
    assert installed.is_file()
    assert str(installed).startswith(str(tmp_path / "venv"))
    shipped = json.loads(installed.read_text())
    assert shipped == json.loads(
        (REPO_ROOT / "schemas" / "gong-integration.schema.json").read_text()
    )
    integration_file(elsewhere)
    out = _run(bin_dir / "gong-authlib", "validate", "gong-integration.yaml", cwd=elsewhere)
    assert "valid" in out


def test_pre_commit_hook_through_real_pre_commit(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    integration_file(project)
    bad = (CONFIG_DATA / "bad" / "scope-typo.yaml").read_text().replace("../assets/", "assets/")
    (project / "broken.gong.yaml").write_text(bad)
    (project / "other.yaml").write_text("not: [an integration file\n")
    git_env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    _run("git", "init", "-q", cwd=project)
    _run("git", "add", ".", cwd=project, env=git_env)
    pre_commit = Path(sys.executable).parent / "pre-commit"
    env = {**os.environ, **git_env, "PRE_COMMIT_HOME": str(tmp_path / "cache")}

    def try_repo(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                str(pre_commit),
                "try-repo",
                str(REPO_ROOT),
                "gong-authlib-validate",
                "--files",
                *files,
            ],
            cwd=project,
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=900,
        )

    good = try_repo("gong-integration.yaml", "other.yaml")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout
    broken = try_repo("gong-integration.yaml", "broken.gong.yaml", "other.yaml")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "error[scope-typo]" in broken.stdout
    assert "broken.gong.yaml:12:7" in broken.stdout
    # other.yaml does not match the hook's `files` pattern, so its syntax error is not reported.
    assert "other.yaml" not in broken.stdout.split("- hook id")[-1]
