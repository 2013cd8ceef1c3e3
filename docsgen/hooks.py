"""mkdocs hook: fill the generated sections of the pages at build time.

A page asks for a section with a marker on a line of its own:
``<!-- generated: cli -->``, ``<!-- generated: config-keys -->``,
``<!-- generated: config-codes -->``, ``<!-- generated: api GROUP -->``.
An unknown marker fails the build, so a typo cannot leave a page empty.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

# mkdocs loads this file by path; the generators live beside it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from docsgen import api_reference, cli_reference, config_reference

MARKER = re.compile(r"^<!-- generated: ([a-z-]+)(?: ([a-z-]+))? -->$", re.MULTILINE)


def expand(markdown: str) -> str:
    """``markdown`` with every marker replaced by its generated section."""

    def section(match: re.Match[str]) -> str:
        kind, argument = match.group(1), match.group(2)
        if kind == "cli":
            return cli_reference.render()
        if kind == "config-keys":
            return config_reference.render_keys()
        if kind == "config-codes":
            return config_reference.render_codes()
        if kind == "api" and argument in api_reference.GROUPS:
            return api_reference.render(argument)
        raise ValueError(f"unknown generated section: {match.group(0)}")

    return MARKER.sub(section, markdown)


def on_page_markdown(markdown: str, **_: Any) -> str:
    return expand(markdown)
