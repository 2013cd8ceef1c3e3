"""``gong-authlib api`` request fields, as ``gh api`` reads them.

``-F key=value`` is typed: ``true``, ``false`` and ``null`` are JSON's, whole and decimal
numbers are numbers, ``@FILE`` is the file's text (``@-`` standard input), anything else a
string. ``-f key=value`` is always a string: Gong's ids are 64-bit integers sent as strings,
so ``-f filter[callIds][]=7282…`` is how an id goes in. A key nests with brackets:
``filter[fromDateTime]=…`` is ``{"filter": {"fromDateTime": …}}`` and ``ids[]=1`` appends to a
list. For GET the fields become the query string (flat keys and ``key[]`` lists only).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gong_authlib.cli.outcome import EXIT_USAGE, CommandError

_KEY = re.compile(r"^(?P<name>[^\[\]=]+)(?P<rest>(?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
_INTEGER = re.compile(r"^-?(0|[1-9][0-9]*)$")
_DECIMAL = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$")
_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}

# One field: the key's path (None for ``[]``, append) and its value.
Field = tuple[list[str | None], Any]


def _usage(message: str) -> CommandError:
    return CommandError(message, EXIT_USAGE)


def _key_path(key: str, option: str, text: str) -> list[str | None]:
    match = _KEY.match(key)
    if match is None:
        raise _usage(f"{option} {text!r}: a key is NAME, NAME[sub] or NAME[] (brackets balanced)")
    path: list[str | None] = [match.group("name")]
    path.extend(segment or None for segment in _SEGMENT.findall(match.group("rest")))
    if None in path[:-1]:
        raise _usage(f"{option} {text!r}: [] (append) may only end a key")
    return path


def _typed(value: str, option: str) -> Any:
    if value in _LITERALS:
        return _LITERALS[value]
    if _INTEGER.match(value):
        return int(value)
    if _DECIMAL.match(value):
        return float(value)
    if value.startswith("@"):
        return _read(value[1:], option)
    return value


def _read(name: str, option: str) -> str:
    if name == "-":
        return sys.stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as problem:
        reason = getattr(problem, "strerror", None) or "not UTF-8 text"
        raise _usage(f"{option} @{name}: cannot read it ({reason})") from None


def parse_fields(typed: Iterable[str], raw: Iterable[str]) -> list[Field]:
    """``-F`` (typed) and ``-f`` (string) fields, in the order given per kind."""
    fields: list[Field] = []
    for option, texts, convert in (("-F", typed, True), ("-f", raw, False)):
        for text in texts:
            key, sep, value = text.partition("=")
            if not sep or not key:
                raise _usage(f"{option} expects key=value, not {text!r}")
            path = _key_path(key, option, text)
            fields.append((path, _typed(value, option) if convert else value))
    return fields


def as_body(fields: list[Field]) -> dict[str, Any]:
    """The fields as one JSON object, nested by their keys."""
    body: dict[str, Any] = {}
    for path, value in fields:
        node: Any = body
        for position, segment in enumerate(path):
            last = position == len(path) - 1
            following = None if last else path[position + 1]
            if segment is None:  # NAME[]: append
                node.append(value)
                break
            if last:
                if segment in node:
                    raise _usage(f"field {_shown(path)} is given twice")
                node[segment] = value
                break
            child = node.setdefault(segment, [] if following is None else {})
            if not isinstance(child, list if following is None else dict):
                raise _usage(f"field {_shown(path)} conflicts with another field's type")
            node = child
    return body


def as_query(fields: list[Field]) -> dict[str, Any]:
    """The fields as query parameters: flat keys, ``NAME[]`` repeated; nested keys refused."""
    query: dict[str, Any] = {}
    for path, value in fields:
        if len(path) > 2 or (len(path) == 2 and path[1] is not None):
            raise _usage(
                f"field {_shown(path)} is nested: nested fields go in a JSON body "
                "(give the method, such as POST, or use --input)"
            )
        text = _query_value(value)
        name = str(path[0])
        if len(path) == 2:
            query.setdefault(name, []).append(text)
        elif name in query:
            raise _usage(f"field {name} is given twice; NAME[] makes a list")
        else:
            query[name] = text
    return query


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _shown(path: list[str | None]) -> str:
    return str(path[0]) + "".join(f"[{segment or ''}]" for segment in path[1:])
