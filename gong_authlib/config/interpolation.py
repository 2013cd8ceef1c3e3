"""``${env:NAME}`` references: where they may stand, how they are checked and resolved.

Validation only checks the references' shape, so pre-commit passes on a machine without the
secrets; :func:`gong_authlib.load_config` resolves them and names any variable that is unset.
Resolved values are wrapped in :class:`~gong_authlib.secret.Secret` and never printed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Sections whose strings may hold references; elsewhere a reference is almost surely a
# mistake, and plan output could not show the value.
INTERPOLATED_SECTIONS = frozenset({"oauth", "token_store"})

# Fields whose value may be a secret (or, for URLs, contain one): never echoed in messages,
# snippets or plans.
SECRET_FIELDS = frozenset({"oauth.client_secret", "token_store.url", "token_store.encryption_key"})


def is_secret_field(dotted_path: str) -> bool:
    """True for ``oauth.client_secret`` and the like, including list items below them, and
    for the same fields overridden under ``environments.NAME.`` (a name may hold dots)."""
    field = dotted_path.split("[", 1)[0]
    if field.startswith("environments."):
        return any(field.endswith(f".{secret}") for secret in SECRET_FIELDS)
    return field in SECRET_FIELDS


REFERENCE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
_ANY_OPENING = re.compile(r"\$\{")


def malformed_reference(value: str) -> str | None:
    """The first ``${…}`` that is not a well-formed env reference, or None if all are."""
    position = 0
    while (match := _ANY_OPENING.search(value, position)) is not None:
        well_formed = REFERENCE.match(value, match.start())
        if well_formed is None:
            end = value.find("}", match.start())
            return value[match.start() : end + 1 if end >= 0 else len(value)]
        position = well_formed.end()
    return None


def has_reference(value: str) -> bool:
    return REFERENCE.search(value) is not None


def referenced_names(value: str) -> list[str]:
    return REFERENCE.findall(value)


def resolve(value: str, environ: Mapping[str, str]) -> str:
    """Replace each reference with its variable's value; KeyError names the first unset one."""
    return REFERENCE.sub(lambda match: environ[match.group(1)], value)
