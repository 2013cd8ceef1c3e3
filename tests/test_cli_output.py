"""Global output options through real processes: -v/--verbose, -q/--quiet, --version."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gong_authlib.stores import SQLiteTokenStore
from tests.cliflow import CliWorld, authorized_world
from tests.helpers import run_cli


@pytest.fixture
def world(tmp_path: Path) -> Iterator[CliWorld]:
    with authorized_world(tmp_path, "acme") as world:
        yield world


def _secrets(world: CliWorld) -> list[str]:
    with SQLiteTokenStore(world.folder / "tokens.db") as store:
        token = store.get("acme")
    assert token is not None
    return [token.access_token, token.refresh_token, world.gong.client_secret]


@pytest.mark.parametrize("where", ["before", "after"], ids=["-v before the command", "-v after it"])
def test_verbose_shows_the_refresh_and_no_secret(world: CliWorld, where: str) -> None:
    before = _secrets(world)
    command = ["tokens", "refresh", "--customer", "acme"]
    args = ["-v", *world.args(*command)] if where == "before" else world.args(*command, "-v")
    result = world.run(*args)
    assert result.returncode == 0, result.stderr
    # the logger names may move between modules; the level and the package may not
    assert re.search(r"INFO    gong_authlib\.\w+: refreshing customer acme", result.stderr)
    assert re.search(r"INFO    gong_authlib\.\w+: refreshed customer acme", result.stderr)
    assert "DEBUG" not in result.stderr
    for secret in before + _secrets(world):
        assert secret not in result.stdout + result.stderr


def test_very_verbose_shows_the_wire_redacted(world: CliWorld) -> None:
    before = _secrets(world)
    result = world.run("-vv", *world.args("tokens", "refresh", "--customer", "acme"))
    assert result.returncode == 0, result.stderr
    assert "DEBUG   urllib3.connectionpool:" in result.stderr
    assert "refresh_token=<redacted>" in result.stderr
    for secret in before + _secrets(world):
        assert secret not in result.stdout + result.stderr


def test_logs_never_mix_into_json_output(world: CliWorld) -> None:
    result = world.run(
        *world.args("tokens", "refresh", "--customer", "acme", "--format", "json"), "-vv"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["customer"] == "acme"
    assert "refreshing customer acme" in result.stderr


def test_default_shows_warnings_and_quiet_hides_them(world: CliWorld) -> None:
    world.gong.revoke("acme")  # the refresh is rejected: a warning, then the command's error
    default = world.run(*world.args("tokens", "refresh", "--customer", "acme"))
    assert default.returncode == 1
    assert "gong-authlib: WARNING: customer acme must authorize the app again" in default.stderr
    assert "INFO" not in default.stderr
    quiet = world.run("--quiet", *world.args("tokens", "refresh", "--customer", "acme"))
    assert quiet.returncode == 1
    assert "WARNING" not in quiet.stderr
    assert "gong-authlib authorize --customer acme" in quiet.stderr  # the error itself stays


def test_verbose_and_quiet_together_are_a_usage_error() -> None:
    result = run_cli("-v", "validate", "--quiet", "config.example.yaml")
    assert result.returncode == 2
    assert "-v/--verbose and -q/--quiet contradict each other" in result.stderr


def test_version_names_the_packages_a_bug_report_needs() -> None:
    result = run_cli("--version")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("gong-authlib 0.")
    names = [line.split()[0] for line in lines[1:]]
    for name in ("requests", "httpx", "authlib", "urllib3", "redis", "psycopg", "Python"):
        assert name in names
    assert "not installed" not in result.stdout  # the dev install has every extra


def test_main_in_process_leaves_logging_as_it_found_it(capsys: pytest.CaptureFixture[str]) -> None:
    # The fuzzer and embedding applications call main() in-process, many times over.
    from gong_authlib.cli import main

    root, ours, wire = (logging.getLogger(n) for n in ("", "gong_authlib", "urllib3"))
    before = (list(root.handlers), root.level, ours.level, wire.level)
    for options in (["-vv"], ["--quiet"], []):
        assert main([*options, "schema", "--path"]) == 0
    assert (list(root.handlers), root.level, ours.level, wire.level) == before
    assert capsys.readouterr().out.count("gong-integration.schema.json") == 3


def test_output_goes_to_the_stdout_of_the_moment_not_of_the_first_import() -> None:
    # The CLI's modules load lazily, so the first import can happen under a redirect (a test's,
    # an embedding app's) that is closed by the next call: output must follow sys.stdout.
    script = (
        "import contextlib, io\n"
        "from gong_authlib.cli import main\n"
        "first = io.StringIO()\n"
        "with contextlib.redirect_stdout(first):\n"
        "    assert main(['schema', '--path']) == 0\n"
        "first.close()\n"
        "second = io.StringIO()\n"
        "with contextlib.redirect_stdout(second):\n"
        "    assert main(['schema', '--path']) == 0\n"
        "assert second.getvalue().endswith('.json\\n'), second.getvalue()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
