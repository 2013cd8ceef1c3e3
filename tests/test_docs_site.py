"""The documentation site's generated pages and the README's shape.

The site itself is built by ``.ci/run`` (``mkdocs build --strict``, then
``docsgen.check_site``); these tests pin what the generators give it, without a build.
"""

from __future__ import annotations

import argparse

import pytest
import yaml

from docsgen import api_reference, cli_reference, config_reference, griffe_docstrings, hooks
from gong_authlib.config.diagnostics import DIAGNOSTIC_CODES
from tests.docs_examples import blocks
from tests.helpers import REPO_ROOT
from tests.reliability import TRIALS_POINTER, Reliability

README_MAX_LINES = 250


def test_the_readme_is_a_door() -> None:
    lines = (REPO_ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES
    # The two commands .ci/run and new users rely on, word for word.
    assert (
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/gong-authlib demo"
    ) in lines
    assert (
        "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' && .venv/bin/python -m pytest"
    ) in lines


def test_a_reliability_run_keeps_the_link_to_the_hand_written_trials() -> None:
    # docs/reliability.md is rewritten by each run; the trials' account must stay reachable.
    rendered = Reliability(rows=[("load", "w", "h", "o")]).render("pytest -m reliability")
    assert TRIALS_POINTER in rendered
    assert TRIALS_POINTER in (REPO_ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    assert (REPO_ROOT / "docs" / "reliability-trials.md").is_file()


def test_the_pre_commit_snippets_name_the_hook_this_repository_defines() -> None:
    hooks_file = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())
    defined = {hook["id"] for hook in hooks_file}
    for page in (REPO_ROOT / "README.md", REPO_ROOT / "docs" / "howto" / "pre-commit-ci.md"):
        snippets = [b for b in blocks(page) if b.language == "yaml" and "repos:" in b.code]
        assert snippets, page
        for snippet in snippets:
            config = yaml.safe_load(snippet.code)
            [repo] = config["repos"]
            assert repo["repo"] == "https://github.com/gong-authlib/gong-authlib"
            assert {hook["id"] for hook in repo["hooks"]} <= defined


def test_the_cli_reference_has_every_command_and_flag() -> None:
    page = hooks.expand("<!-- generated: cli -->")
    found = list(cli_reference.commands())
    names = {command for command, _ in found}
    assert {"gong-authlib tokens check", "gong-authlib demo", "gong-authlib fakegong"} <= names
    for command, parser in found:
        assert f"{{#{cli_reference.anchor(command)}}}" in page
        for action in parser._actions:
            for flag in action.option_strings:
                if not isinstance(action, argparse._HelpAction):
                    assert f"`{flag}" in page, (command, flag)
        if parser.epilog:
            assert parser.epilog.strip() in page


def test_every_diagnostic_code_is_shown_with_a_real_message() -> None:
    page = hooks.expand("<!-- generated: config-codes -->")
    for code in DIAGNOSTIC_CODES:
        found = config_reference.sample(code)
        assert found is not None, f"no sample gives {code}: add tests/data/config/bad/{code}.yaml"
        assert f"[{code}]: {found.message}" in page


def test_every_schema_key_is_in_the_key_table() -> None:
    page = hooks.expand("<!-- generated: config-keys -->")
    paths = [path for path, _, _ in config_reference.schema_keys()]
    assert "integration.scopes" in paths
    assert "token_store.encryption_key" in paths
    for path in paths:
        assert f"| `{path}` |" in page


def test_every_public_name_has_an_api_entry() -> None:
    rendered = {
        group: hooks.expand(f"<!-- generated: api {group} -->") for group in api_reference.GROUPS
    }
    names = list(api_reference.public_names())
    assert {"GongAuth", "GongOAuthClient", "TokenStore", "FakeGong", "ConnectFlow"} <= {
        name for _, name, _ in names
    }
    for public_module, name, defined_in in names:
        group = api_reference.group_of(public_module, defined_in)
        assert f"::: {defined_in}.{name}\n" in rendered[group]
        line = griffe_docstrings.import_lines()[f"{defined_in}.{name}"]
        assert line == f"from {public_module} import {name}"
    for group in api_reference.GROUPS:
        assert (REPO_ROOT / "docs" / "reference" / "api" / f"{group}.md").is_file()


def test_an_unknown_marker_fails_the_build() -> None:
    with pytest.raises(ValueError, match="unknown generated section"):
        hooks.expand("<!-- generated: api nosuchgroup -->")


def test_sphinx_roles_in_docstrings_render_as_code() -> None:
    text = "A :class:`~gong_authlib.FakeClock`, :meth:`missing_scope` and :mod:`gong_authlib.web`."
    assert griffe_docstrings.plain(text) == "A `FakeClock`, `missing_scope` and `gong_authlib.web`."
