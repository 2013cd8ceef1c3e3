"""`gong-authlib validate` and `schema` as users run them: real processes, real exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import CONFIG_DATA, REPO_ROOT, run_cli

BAD = CONFIG_DATA / "bad"


def test_valid_file_exits_zero() -> None:
    result = run_cli("validate", "config.example.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 file checked: valid." in result.stdout


def test_findings_exit_one_with_terraform_like_text() -> None:
    result = run_cli("validate", str(BAD / "scope-typo.yaml"))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("error[scope-typo]: scope 'api:calls:read' is not a Gong scope")
    assert lines[1] == f"  --> {BAD / 'scope-typo.yaml'}:12:7"
    assert lines[3] == "  12 |     - api:calls:read"
    assert lines[4] == "     |       ^^^^^^^^^^^^^^"
    assert "= help: did you mean 'api:calls:read:basic'?" in result.stdout
    assert "\x1b[" not in result.stdout, "no colour when stdout is not a terminal"


def test_warnings_alone_exit_zero() -> None:
    result = run_cli("validate", str(BAD / "url-outside-domains.yaml"))
    assert result.returncode == 0
    assert "warning[url-outside-domains]" in result.stdout


def test_all_files_are_reported() -> None:
    result = run_cli(
        "validate",
        "--format",
        "json",
        str(BAD / "duplicate-key.yaml"),
        str(BAD / "literal-secret.yaml"),
        "config.example.yaml",
    )
    assert result.returncode == 1
    payload = json.loads(result.stdout)
    assert payload["format_version"] == "1"
    assert payload["files_checked"] == 3
    assert payload["valid"] is False
    assert [d["code"] for d in payload["diagnostics"]] == ["duplicate-key", "literal-secret"]
    first = payload["diagnostics"][0]
    assert set(first) == {
        "severity",
        "code",
        "message",
        "file",
        "path",
        "line",
        "column",
        "suggestion",
    }
    assert (first["line"], first["column"], first["path"]) == (6, 3, "integration.name")


def test_json_carries_the_suggestion() -> None:
    result = run_cli("validate", "--format", "json", str(BAD / "unknown-key.yaml"))
    unknown = next(
        d for d in json.loads(result.stdout)["diagnostics"] if d["code"] == "unknown-key"
    )
    assert unknown["suggestion"] == "short_description"


def test_github_annotations() -> None:
    result = run_cli("validate", "--format", "github", str(BAD / "insecure-url.yaml"))
    assert result.returncode == 1
    assert result.stdout.startswith(
        f"::error file={BAD / 'insecure-url.yaml'},line=19,col=19,title=insecure-url::"
    )


def test_literal_secret_never_printed_in_any_format() -> None:
    secret = "9f8e7d6c5b4a"
    assert secret in (BAD / "literal-secret.yaml").read_text()
    for fmt in ("text", "json", "github"):
        result = run_cli("validate", "--format", fmt, str(BAD / "literal-secret.yaml"))
        assert result.returncode == 1
        assert "literal-secret" in result.stdout
        assert secret not in result.stdout + result.stderr


def test_extra_scope_flag() -> None:
    path = str(BAD / "scope-typo.yaml")
    assert run_cli("validate", path).returncode == 1
    assert run_cli("validate", "--extra-scope", "api:calls:read", path).returncode == 0


def test_missing_file_is_a_finding_not_a_traceback(tmp_path: Path) -> None:
    result = run_cli("validate", str(tmp_path / "nope.yaml"))
    assert result.returncode == 1
    assert "error[unreadable-file]: file not found" in result.stdout
    assert "Traceback" not in result.stderr


def test_binary_and_non_utf8_files(tmp_path: Path) -> None:
    binary = tmp_path / "logo.gong.yaml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    latin = tmp_path / "latin.gong.yaml"
    latin.write_bytes(b"version: 1\nname: caf\xe9\n")
    result = run_cli("validate", "--format", "json", str(binary), str(latin))
    assert result.returncode == 1
    codes = [(d["code"], d["line"], d["column"]) for d in json.loads(result.stdout)["diagnostics"]]
    # Files are reported in the order given; the NUL follows two newlines of the PNG header.
    assert codes == [("binary-file", 3, 1), ("encoding", 2, 10)]


def test_usage_errors_exit_two() -> None:
    assert run_cli("validate").returncode == 2
    result = run_cli("validate", "--format", "xml", "config.example.yaml")
    assert result.returncode == 2
    assert "invalid choice: 'xml'" in result.stderr
    assert run_cli("no-such-command").returncode == 2
    assert run_cli().returncode == 2


def test_help_has_examples() -> None:
    result = run_cli("validate", "--help")
    assert result.returncode == 0
    assert "gong-authlib validate gong-integration.yaml" in result.stdout


def test_schema_command_prints_the_schema_and_its_path() -> None:
    text = run_cli("schema")
    assert text.returncode == 0
    assert json.loads(text.stdout)["title"] == "Gong integration"
    path = run_cli("schema", "--path")
    assert (
        Path(path.stdout.strip()).resolve()
        == (REPO_ROOT / "schemas" / "gong-integration.schema.json").resolve()
    )
