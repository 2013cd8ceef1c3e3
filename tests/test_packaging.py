"""What users install: a non-editable wheel, and the pre-commit hook through real pre-commit."""

from __future__ import annotations

import email.parser
import json
import os
import subprocess
import sys
import zipfile
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


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m build`` (an sdist, then a wheel built from it) on a clean clone of HEAD
    without tags, as CI and a new contributor see the project; plus a wheel built from the
    tree itself in ``dist/from-tree``.

    A clone, not the working folder: uncommitted files do not reach a release either.
    """
    root = tmp_path_factory.mktemp("release")
    clone = root / "clone"
    head = _run("git", "rev-parse", "HEAD", cwd=REPO_ROOT).strip()
    _run("git", "clone", "-q", "--no-tags", "--no-checkout", REPO_ROOT, clone, cwd=root)
    _run("git", "checkout", "-q", head, cwd=clone)
    assert _run("git", "tag", cwd=clone).strip() == ""
    _run(sys.executable, "-m", "build", "-q", "--outdir", root / "dist", clone, cwd=root)
    _run(
        sys.executable,
        "-m",
        "build",
        "-q",
        "--wheel",
        "--outdir",
        root / "dist" / "from-tree",
        clone,
        cwd=root,
    )
    return root / "dist"


def _only(folder: Path, pattern: str) -> Path:
    [found] = folder.glob(pattern)
    return found


def test_the_distributions_pass_twine_and_check_wheel_contents(dist: Path) -> None:
    bin_dir = Path(sys.executable).parent
    wheel, sdist = _only(dist, "*.whl"), _only(dist, "*.tar.gz")
    out = _run(bin_dir / "twine", "check", "--strict", wheel, sdist, cwd=dist)
    assert out.count("PASSED") == 2
    _run(bin_dir / "check-wheel-contents", wheel, cwd=dist)


def test_the_sdist_builds_the_same_wheel_as_the_tree(dist: Path) -> None:
    from_sdist, from_tree = _only(dist, "*.whl"), _only(dist / "from-tree", "*.whl")
    assert from_sdist.name == from_tree.name

    def contents(wheel: Path) -> dict[str, bytes]:
        with zipfile.ZipFile(wheel) as archive:
            return {name: archive.read(name) for name in archive.namelist()}

    assert contents(from_sdist) == contents(from_tree)


def test_one_version_in_the_metadata_and_on_the_command_line(dist: Path) -> None:
    wheel = _only(dist, "*.whl")
    version = wheel.name.split("-")[1]
    with zipfile.ZipFile(wheel) as archive:
        [metadata] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        headers = email.parser.Parser().parsestr(archive.read(metadata).decode())
        shipped = archive.read("gong_authlib/_version.py").decode()
    assert headers["Version"] == version
    assert f"version = {version!r}" in shipped or f"version = '{version}'" in shipped
    # No tag in the clone: a development version after the fallback base, naming the commit.
    assert ".dev" in version
    labels = {url.split(", ", 1)[0] for url in headers.get_all("Project-URL") or []}
    assert {"Documentation", "Changelog", "Issues"} <= labels


def test_the_wheel_alone_runs_the_demo_and_ships_the_schema(dist: Path, tmp_path: Path) -> None:
    wheel = _only(dist, "*.whl")
    # No pip of its own (ensurepip costs seconds): this session's pip installs into it.
    _run(sys.executable, "-m", "venv", "--without-pip", tmp_path / "venv", cwd=tmp_path)
    bin_dir = tmp_path / "venv" / "bin"
    _run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        bin_dir / "python",
        "install",
        "-q",
        wheel,
        cwd=tmp_path,
    )
    # From a folder with no checkout in sight, the installed copy must be the one found.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    version = _run(bin_dir / "gong-authlib", "--version", cwd=elsewhere).splitlines()[0]
    assert version == f"gong-authlib {wheel.name.split('-')[1]}"
    installed = Path(_run(bin_dir / "gong-authlib", "schema", "--path", cwd=elsewhere).strip())
    assert installed.is_file()
    assert str(installed).startswith(str(tmp_path / "venv"))
    shipped = json.loads(installed.read_text())
    assert shipped == json.loads(
        (REPO_ROOT / "schemas" / "gong-integration.schema.json").read_text()
    )
    printed = json.loads(_run(bin_dir / "gong-authlib", "schema", cwd=elsewhere))
    assert printed == shipped
    demo = _run(bin_dir / "gong-authlib", "demo", "--no-color", cwd=elsewhere)
    assert "ReauthorizationRequired" in demo
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
