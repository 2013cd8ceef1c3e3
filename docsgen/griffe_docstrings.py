"""Griffe extensions that shape the docstrings for the API reference.

- :class:`SphinxRolesAsCode`: the docstrings cross-reference with ``:class:`~a.b.Name``` and
  the like (what Python's own tools read); mkdocstrings renders Markdown, where a role would
  show as text, so ``:role:`~a.b.Name``` becomes ```Name``` and ``:role:`a.b.Name``` becomes
  ```a.b.Name```.
- :class:`ImportLine`: each public name's entry opens with the import a user writes
  (``from gong_authlib import GongAuth``), not the internal module it is defined in.
"""

from __future__ import annotations

import re
import sys
from functools import cache
from pathlib import Path
from typing import Any

import griffe

# mkdocstrings loads this file by path, like mkdocs loads the hook: the package is beside it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from docsgen import api_reference

ROLE = re.compile(r":(?:py:)?(?:class|meth|func|mod|attr|exc|data|obj|const):`(~?)([^`]+)`")


def plain(docstring: str) -> str:
    def code(match: re.Match[str]) -> str:
        target = match.group(2)
        return f"`{target.rsplit('.', 1)[-1] if match.group(1) else target}`"

    return ROLE.sub(code, docstring)


@cache
def import_lines() -> dict[str, str]:
    """Defining path -> how a user imports it, for every public name."""
    return {
        f"{defined_in}.{name}": f"from {public_module} import {name}"
        for public_module, name, defined_in in api_reference.public_names()
    }


class SphinxRolesAsCode(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **_: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = plain(obj.docstring.value)


class ImportLine(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **_: Any) -> None:
        line = import_lines().get(obj.path)
        if line is None:
            return
        text = obj.docstring.value if obj.docstring is not None else ""
        obj.docstring = griffe.Docstring(f"`{line}`\n\n{text}", parent=obj)
