"""Public names that load their module on first use (PEP 562), for a package's ``__init__``.

``gong_authlib`` and ``gong_authlib.stores`` both re-export names that live in submodules. Loading
those submodules eagerly would make ``import gong_authlib`` pay for authlib, every store backend
and both transports, and the validate path (run by pre-commit on every commit) would pay too. So
each package keeps a table of name -> defining module and gets its ``__getattr__`` and
``__dir__`` from :func:`lazy_names`; type checkers read the package's ``TYPE_CHECKING`` imports
instead, and ``tests/test_layout.py`` keeps the table, those imports and ``__all__`` in step.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(
    package: str, table: Mapping[str, str], *, extras: Mapping[str, str] | None = None
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``(__getattr__, __dir__)`` pair for ``package``, resolving names through ``table``.

    ``extras`` maps an optional dependency's import name to the extra that installs it, so a
    missing driver reads ``pip install 'gong-authlib[redis]'`` rather than a bare import error.
    """
    needs = dict(extras or {})

    def attribute(name: str) -> Any:
        module_name = table.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            extra = needs.get(error.name or "")
            if extra is None:
                raise
            message = f"{name} needs {error.name}: pip install 'gong-authlib[{extra}]'"
            raise ModuleNotFoundError(message, name=error.name) from error
        value = getattr(module, name)
        setattr(sys.modules[package], name, value)  # later lookups skip __getattr__
        return value

    def listing() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(table))

    return attribute, listing
