"""Environments: named overrides (``environments: {developer: {...}}``) merged over the file.

Mappings merge key by key; lists and values replace. A merged environment is checked like a
whole file, and each finding points at the line that produced the value: the override's own
line when the environment set it, the base file's line otherwise.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any, NamedTuple

from gong_authlib.config.diagnostics import NodePath
from gong_authlib.config.yamlsource import YamlDocument

SECTION = "environments"


def environment_names(data: Any) -> list[str]:
    environments = data.get(SECTION) if isinstance(data, dict) else None
    return [str(name) for name in environments] if isinstance(environments, dict) else []


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base.get(key), value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(override)


def _rebased(
    spans: dict[NodePath, Any], name: str, base: dict[NodePath, Any]
) -> dict[NodePath, Any]:
    merged = {path: span for path, span in base.items() if not path or path[0] != SECTION}
    prefix = (SECTION, name)
    for path, span in spans.items():
        if path[:2] == prefix and len(path) > 2:
            merged[path[2:]] = span
    return merged


class _Spans(NamedTuple):
    """Where a document's values and keys are: node path -> span in the file."""

    values: dict[NodePath, Any]
    keys: dict[NodePath, Any]


def merged_documents(document: YamlDocument, names: list[str]) -> Iterator[YamlDocument]:
    """``merged_document`` for each name, with the spans split by environment in one pass.

    Rebasing each environment over all spans would be quadratic in a file of many
    environments; grouping them first keeps it linear.
    """
    data = document.data if isinstance(document.data, dict) else {}
    environments = data.get(SECTION)
    environments = environments if isinstance(environments, dict) else {}
    base = {key: value for key, value in data.items() if key != SECTION}
    wanted = set(names)
    base_spans = _Spans({}, {})
    by_environment = {name: _Spans({}, {}) for name in names}
    for kind in ("values", "keys"):
        spans = document.value_spans if kind == "values" else document.key_spans
        for path, span in spans.items():
            if not path or path[0] != SECTION:
                getattr(base_spans, kind)[path] = span
            elif len(path) > 2 and path[1] in wanted:
                getattr(by_environment[str(path[1])], kind)[path[2:]] = span
    for name in names:
        override = environments.get(name)
        own = by_environment[name]
        yield YamlDocument(
            file=document.file,
            text=document.text,
            data=_merge(base, override if isinstance(override, dict) else {}),
            value_spans={**base_spans.values, **own.values},
            key_spans={**base_spans.keys, **own.keys},
        )


def first_environments(document: YamlDocument, count: int) -> YamlDocument:
    """``document`` with only its first ``count`` environments (the rest are not checked)."""
    data = document.data
    if not isinstance(data, dict) or not isinstance(data.get(SECTION), dict):
        return document
    kept = dict(list(data[SECTION].items())[:count])
    return YamlDocument(
        file=document.file,
        text=document.text,
        data={**data, SECTION: kept},
        value_spans=document.value_spans,
        key_spans=document.key_spans,
        diagnostics=document.diagnostics,
    )


def merged_document(document: YamlDocument, name: str) -> YamlDocument:
    """``document`` as environment ``name`` sees it; KeyError if there is no such one."""
    data = document.data if isinstance(document.data, dict) else {}
    environments = data.get(SECTION)
    if not isinstance(environments, dict) or name not in environments:
        raise KeyError(name)
    override = environments[name] if isinstance(environments[name], dict) else {}
    base = {key: value for key, value in data.items() if key != SECTION}
    return YamlDocument(
        file=document.file,
        text=document.text,
        data=_merge(base, override),
        value_spans=_rebased(document.value_spans, name, document.value_spans),
        key_spans=_rebased(document.key_spans, name, document.key_spans),
    )


def without_environments(document: YamlDocument) -> YamlDocument:
    """The base file alone, as plan compares it when no environment is named."""
    data = document.data
    if isinstance(data, dict):
        data = {key: value for key, value in data.items() if key != SECTION}
    return YamlDocument(
        file=document.file,
        text=document.text,
        data=data,
        value_spans=document.value_spans,
        key_spans=document.key_spans,
        diagnostics=document.diagnostics,
    )
