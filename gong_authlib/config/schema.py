"""The integration file's JSON Schema: where it ships, and its errors mapped to positions.

The schema is package data, so a wheel install finds it with :mod:`importlib.resources`; the
repository's top-level ``schemas/`` folder links to the same file, so there is one copy.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from gong_authlib.config.diagnostics import (
    MAX_SUGGESTIONS,
    NodePath,
    did_you_mean,
    format_path,
    quoted,
)
from gong_authlib.config.interpolation import is_secret_field
from gong_authlib.config.yamlsource import YamlDocument
from gong_authlib.errors import Diagnostic

if TYPE_CHECKING:
    from jsonschema import Draft7Validator
    from jsonschema.exceptions import ValidationError

SCHEMA_RESOURCE = "schemas/gong-integration.schema.json"

_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
}


def schema_path() -> Path:
    """Filesystem path of the shipped schema (what ``gong-authlib schema --path`` prints)."""
    return Path(str(resources.files("gong_authlib").joinpath(SCHEMA_RESOURCE)))


@cache
def load_schema() -> dict[str, Any]:
    text = resources.files("gong_authlib").joinpath(SCHEMA_RESOURCE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Draft7Validator:
    # Imported here, not at module level: jsonschema is the heaviest import on the validate
    # path and `gong-authlib schema` does not need it at all.
    from jsonschema import Draft7Validator

    return Draft7Validator(load_schema())


_PYTHON_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (bool, "true or false"),  # before int: bool is a subclass of int
    (dict, "a mapping"),
    (list, "a list"),
    (str, "text"),
    (int, "a whole number"),
    (float, "a number"),
)


def _describe(value: Any) -> str:
    return next(
        (name for kind, name in _PYTHON_TYPE_NAMES if isinstance(value, kind)), "nothing (null)"
    )


def _expected(types: str | list[str]) -> str:
    names = [types] if isinstance(types, str) else types
    return " or ".join(_TYPE_NAMES.get(name, name) for name in names)


def schema_diagnostics(document: YamlDocument) -> list[Diagnostic]:
    """Validate ``document.data`` against the schema; one diagnostic per problem, positioned."""
    found: dict[tuple[str, str, str], Diagnostic] = {}
    for error in _validator().iter_errors(document.data):
        for diagnostic in _translate(document, error):
            # jsonschema reports each missing key of a mapping as its own error, each carrying
            # the whole `required` list: every key once.
            found.setdefault((diagnostic.code, diagnostic.path, diagnostic.message), diagnostic)
    return list(found.values())


class _Failure(NamedTuple):
    """One jsonschema error, reduced to what the messages need."""

    keyword: str
    path: NodePath
    title: str
    schema: dict[str, Any]
    instance: Any
    expected: Any


def _translate(document: YamlDocument, error: ValidationError) -> list[Diagnostic]:
    schema: dict[str, Any] = dict(error.schema) if isinstance(error.schema, Mapping) else {}
    failure = _Failure(
        keyword=str(error.validator),
        path=tuple(error.absolute_path),
        title=str(schema.get("title", "value")),
        schema=schema,
        instance=error.instance,
        expected=error.validator_value,
    )
    return _HANDLERS.get(failure.keyword, _invalid_value)(document, failure)


_Handler = Callable[[YamlDocument, _Failure], list[Diagnostic]]


def _unknown_keys(document: YamlDocument, failure: _Failure) -> list[Diagnostic]:
    allowed = sorted(failure.schema.get("properties", {}))
    out = []
    suggestions_left = MAX_SUGGESTIONS
    for key in failure.instance:
        if key in allowed:
            continue
        suggestion = None
        if suggestions_left > 0:
            suggestions_left -= 1
            suggestion = did_you_mean(key, allowed)
        hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        out.append(
            document.diagnostic(
                "unknown-key",
                f"unknown key {quoted(key)} in {failure.title.lower()}{hint}",
                (*failure.path, key),
                at_key=True,
                suggestion=suggestion,
            )
        )
    return out


def _missing_keys(document: YamlDocument, failure: _Failure) -> list[Diagnostic]:
    return [
        document.diagnostic(
            "missing-key",
            f"{failure.title.lower()} is missing the required key {quoted(key)}"
            + _needs(failure.schema.get("properties", {}).get(key)),
            failure.path,
            at_key=True,
        )
        for key in failure.expected
        if key not in failure.instance
    ]


def _needs(schema: Any) -> str:
    """What a missing mapping must itself hold, so its keys come in this run, not the next."""
    if not isinstance(schema, Mapping) or not schema.get("required"):
        return ""
    keys = [str(key) for key in schema["required"]]
    listed = keys[0] if len(keys) == 1 else ", ".join(keys[:-1]) + " and " + keys[-1]
    return f" (a mapping with {listed})"


def _wrong_type(document: YamlDocument, failure: _Failure) -> list[Diagnostic]:
    message = (
        f"{failure.title} must be {_expected(failure.expected)}, not {_describe(failure.instance)}"
    )
    return [document.diagnostic("wrong-type", message, failure.path)]


def _empty(document: YamlDocument, failure: _Failure) -> list[Diagnostic]:
    return [document.diagnostic("empty-value", f"{failure.title} must not be empty", failure.path)]


def _out_of_range(document: YamlDocument, failure: _Failure) -> list[Diagnostic]:
    bound = "at least" if failure.keyword == "minimum" else "at most"
    message = f"{failure.title} must be {bound} {failure.expected}"
    return [document.diagnostic("out-of-range", message, failure.path)]


def _not_constant(document: YamlDocument, failure: _Failure) -> list[Diagnostic]:
    message = f"{failure.title} must be {failure.expected!r}"
    return [document.diagnostic("invalid-value", message, failure.path)]


def _invalid_value(document: YamlDocument, failure: _Failure) -> list[Diagnostic]:
    shown = "value" if is_secret_field(format_path(failure.path)) else quoted(failure.instance)
    examples = failure.schema.get("examples")
    example = f", for example {examples[0]!r}" if examples else ""
    message = f"{shown} is not a valid {failure.title.lower()}{example}"
    return [document.diagnostic("invalid-value", message, failure.path)]


def _nothing(document: YamlDocument, failure: _Failure) -> list[Diagnostic]:
    return []  # uniqueItems: the rules report each duplicate at its own position


_HANDLERS: dict[str, _Handler] = {
    "additionalProperties": _unknown_keys,
    "required": _missing_keys,
    "type": _wrong_type,
    "minItems": _empty,
    "minLength": _empty,
    "minimum": _out_of_range,
    "maximum": _out_of_range,
    "const": _not_constant,
    "uniqueItems": _nothing,
}
