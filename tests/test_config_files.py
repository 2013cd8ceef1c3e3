"""Each file under tests/data/config/bad declares the diagnostics it must produce, exactly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gong_authlib import Diagnostic, validate_file
from gong_authlib.config.validate import check_document
from gong_authlib.config.yamlsource import read_source
from tests.helpers import CONFIG_DATA, REPO_ROOT

BAD_FILES = sorted((CONFIG_DATA / "bad").glob("*.yaml"))
_EXPECT = re.compile(r"^# expect: (.+)$", re.MULTILINE)


def _expected(path: Path) -> set[tuple[str, int, int]]:
    match = _EXPECT.search(path.read_text("utf-8", errors="replace"))
    assert match, f"{path.name} has no '# expect:' line"
    found = set()
    for item in match.group(1).split(","):
        code, position = item.split()
        line, column = position.split(":")
        found.add((code, int(line), int(column)))
    return found


def test_there_is_a_bad_file_per_rule() -> None:
    assert len(BAD_FILES) >= 30


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.stem)
def test_bad_file_gets_exactly_its_diagnostics(path: Path) -> None:
    diagnostics = validate_file(path)
    got = {(d.code, d.line, d.column) for d in diagnostics}
    assert got == _expected(path)
    assert path.stem in {d.code for d in diagnostics}, "the file is named after its rule"
    assert all(d.file == str(path) for d in diagnostics)


@pytest.mark.parametrize(
    "path", [CONFIG_DATA / "good.yaml", REPO_ROOT / "config.example.yaml"], ids=["good", "example"]
)
def test_good_files_have_no_diagnostics(path: Path) -> None:
    assert validate_file(path) == []


def test_diagnostic_paths_name_the_node() -> None:
    [diagnostic] = validate_file(CONFIG_DATA / "bad" / "scope-typo.yaml")
    assert diagnostic.path == "integration.scopes[1]"
    assert diagnostic.suggestion == "api:calls:read:basic"
    assert diagnostic.severity == "error"


def test_warning_alone_is_not_an_error() -> None:
    [diagnostic] = validate_file(CONFIG_DATA / "bad" / "url-outside-domains.yaml")
    assert diagnostic.severity == "warning"
    assert not diagnostic.is_error


def test_extra_scopes_accept_a_scope_gong_added(tmp_path: Path) -> None:
    text = (
        (CONFIG_DATA / "good.yaml")
        .read_text()
        .replace("    - api:users:read\n", "    - api:users:read\n    - api:brand-new:read\n")
    )
    target = tmp_path / "assets"
    target.mkdir()
    for logo in (CONFIG_DATA / "assets").glob("logo-*.png"):
        (target / logo.name).write_bytes(logo.read_bytes())
    config = tmp_path / "gong-integration.yaml"
    config.write_text(text)
    assert [d.code for d in validate_file(config)] == ["unknown-scope"]
    assert validate_file(config, extra_scopes=["api:brand-new:read"]) == []
    config.write_text(text + "validation:\n  extra_scopes: [api:brand-new:read]\n")
    assert validate_file(config) == []


def test_every_problem_is_reported_not_only_the_first() -> None:
    text = (CONFIG_DATA / "bad" / "scope-typo.yaml").read_text()
    many = text.replace("integrations@acme.example", "nobody").replace(
        "https://help.acme.example/gong", "http://help.acme.example/gong"
    )
    path = CONFIG_DATA / "bad" / "scope-typo.yaml"
    codes = {d.code for d in _validate_text(path.parent, many)}
    assert {"scope-typo", "invalid-email", "insecure-url"} <= codes


def _validate_text(folder: Path, text: str) -> list[Diagnostic]:
    return check_document(read_source(text.encode(), "mem.yaml"), base_dir=folder)
