"""Docs that cannot lie: every ```python block of the README and the docs pages runs.

The blocks of one page run in order in one fresh interpreter, as a reader following the page
would (a page may set up FakeGong in its first block), in a temporary folder with nothing but
127.0.0.1 to talk to. A failure names the page and the line of the block.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gong_authlib.config.diagnostics import distance_within
from tests.docs_examples import Block, blocks, pages
from tests.helpers import REPO_ROOT

# Runs each block under the page's name and line, so a traceback points into the page.
RUNNER = """
import json, sys
namespace = {"__name__": "__main__"}
for block in json.load(sys.stdin):
    code = "\\n" * (block["line"] - 1) + block["code"]
    exec(compile(code, block["page"], "exec"), namespace)
"""


def _runnable(page: Path) -> list[Block]:
    return [b for b in blocks(page) if b.language == "python"]


PAGES = [p for p in pages() if _runnable(p)]


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(REPO_ROOT)) for p in PAGES])
def test_python_examples_run(page: Path, tmp_path: Path) -> None:
    payload = [
        {"page": str(b.page.relative_to(REPO_ROOT)), "line": b.line, "code": b.code}
        for b in _runnable(page)
    ]
    result = subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=json.dumps(payload),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]


def test_the_collector_finds_blocks_in_admonitions_and_snippets(tmp_path: Path) -> None:
    page = REPO_ROOT / "docs" / "howto" / "calling-gong.md"
    found = _runnable(page)
    # The FakeGong setup comes from the snippet, indented inside its admonition.
    assert found[0].page == REPO_ROOT / "docs" / "snippets" / "fakegong-setup.md"
    assert found[0].code.startswith("from gong_authlib import open_store")
    assert len(found) >= 2


def test_no_python_block_hides_under_a_misspelt_fence() -> None:
    # ```pyhton or ```py would show an example that never runs.
    for page in pages():
        for block in blocks(page):
            if block.language == "python":
                continue
            where = (block.page, block.line, block.language)
            assert distance_within(block.language.lower(), "python", 2) is None, where
            assert not block.language.lower().startswith("py"), where
