"""The API reference pages: a mkdocstrings entry for every public name.

The names come from the ``__all__`` of the public modules, so a name added there is documented
by the next build; each is rendered from where it is defined (its ``__module__``), grouped by
what the reader is doing. A name no group claims lands in "Calling Gong".
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator

PUBLIC_MODULES = (
    "gong_authlib",
    "gong_authlib.testing",
    "gong_authlib.web",
    "gong_authlib.web.flask",
    "gong_authlib.web.starlette",
)

# page -> (title, the defining modules' prefixes it documents)
GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "oauth": (
        "The OAuth client and tokens",
        ("gong_authlib.oauth", "gong_authlib.token", "gong_authlib.secret"),
    ),
    "calling": (
        "Calling Gong",
        ("gong_authlib.transport", "gong_authlib.tokens", "gong_authlib.gong"),
    ),
    "stores": ("Token stores", ("gong_authlib.stores",)),
    "config": ("The integration file", ("gong_authlib.config",)),
    "errors": ("Errors", ("gong_authlib.errors",)),
    "web": ("Web apps", ("gong_authlib.web",)),
    "webhooks": ("Receiving webhooks", ("gong_authlib.webhooks",)),
    "testing": ("Testing", ("gong_authlib.testing",)),
}
CATCH_ALL = "calling"
# Not rendered as an entry: the version is a string, told on the index page.
NOT_RENDERED = frozenset({"__version__"})


def public_names() -> Iterator[tuple[str, str, str]]:
    """``(public module, name, the module defining it)`` for every public name."""
    seen: set[tuple[str, str]] = set()
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            if name in NOT_RENDERED:
                continue
            value = getattr(module, name)
            defined_in = getattr(value, "__module__", None)
            if not isinstance(defined_in, str) or not defined_in.startswith("gong_authlib"):
                defined_in = module_name  # a constant: documented where it is exported
            if (defined_in, name) in seen:
                continue
            seen.add((defined_in, name))
            yield module_name, name, defined_in


def group_of(public_module: str, defined_in: str) -> str:
    if public_module != "gong_authlib":  # testing and web are documented with their module
        return "testing" if public_module.startswith("gong_authlib.testing") else "web"
    for group, (_, prefixes) in GROUPS.items():
        if group in ("web", "testing"):
            continue
        if any(defined_in == p or defined_in.startswith(p + ".") for p in prefixes):
            return group
    return CATCH_ALL


def render(group: str) -> str:
    out = []
    for public_module, name, defined_in in public_names():
        if group_of(public_module, defined_in) != group:
            continue
        # The entry opens with `from {public_module} import {name}` (griffe_docstrings).
        out += [f"::: {defined_in}.{name}", "    options:", "      show_root_heading: true", ""]
    return "\n".join(out)
