"""Fenced code blocks of the README and the docs pages, for tests/test_docs_examples.py.

A block fenced ```python is an example a reader will copy, so it runs; ```console, ```text,
```yaml and the rest are shown only. Blocks may sit indented inside an admonition, and a
``--8<-- "docs/snippets/NAME.md"`` line (pymdownx.snippets) brings its file's blocks in, as
the site shows them.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import REPO_ROOT

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```+|~~~+)[ \t]*(?P<info>[^\n`]*)$")
SNIPPET = re.compile(r"""^(?P<indent>[ \t]*)--8<--[ \t]+["'](?P<path>[^"']+)["'][ \t]*$""")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # 1-based line of the block's first code line
    language: str
    code: str


def _lines(page: Path) -> list[tuple[Path, int, str]]:
    """The page's lines with snippets inlined, each with the file and line it came from."""
    out = []
    for number, text in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        included = SNIPPET.match(text)
        if included:
            for origin, origin_line, inner in _lines(REPO_ROOT / included["path"]):
                out.append((origin, origin_line, included["indent"] + inner))
        else:
            out.append((page, number, text))
    return out


def blocks(page: Path) -> list[Block]:
    found: list[Block] = []
    lines = _lines(page)
    index = 0
    while index < len(lines):
        origin, number, text = lines[index]
        opening = FENCE.match(text)
        index += 1
        if not opening:
            continue
        body: list[str] = []
        while index < len(lines):
            inner = lines[index][2]
            index += 1
            closing = FENCE.match(inner)
            if closing and closing["fence"] == opening["fence"] and not closing["info"].strip():
                break
            body.append(inner)
        language = opening["info"].strip().split(" ")[0]
        code = textwrap.dedent("\n".join(body))
        found.append(Block(origin, number + 1, language, code))
    return found


def pages() -> list[Path]:
    """The README and every docs page, snippets excluded (their pages include them)."""
    docs = sorted(p for p in (REPO_ROOT / "docs").rglob("*.md") if "snippets" not in p.parts)
    return [REPO_ROOT / "README.md", *docs]
