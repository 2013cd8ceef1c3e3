"""``gong-authlib api`` request fields, as ``gh api`` reads them.

``-F key=value`` is typed: ``true``, ``false`` and ``null`` are JSON's, whole and decimal
numbers are numbers, ``@FILE`` is the file's text (``@-`` standard input), anything else a
string. ``-f key=value`` is always a string: Gong's ids are 64-bit integers sent as strings,
so ``-f filter[callIds][]=7282…`` is how an id goes in. A key nests with brackets:
``filter[fromDateTime]=…`` is ``{"filter": {"fromDateTime": …}}`` and ``ids[]=1`` appends to a
list. For GET the fields become the query string (flat keys and ``key[]`` lists only).
"""

from __future__ import annotations

import json
import math
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
# Gong's bodies nest a few levels (filter, contentSelector); deeper is a mistake or an attack,
# and past Python's recursion limit JSON cannot even be encoded.
MAX_KEY_DEPTH = 32
MAX_INPUT_DEPTH = 64
_SHOWN = 60  # characters of an argument quoted back in a message

# One field: the key's path (None for ``[]``, append) and its value.
Field = tuple[list[str | None], Any]


def _usage(message: str) -> CommandError:
    return CommandError(message, EXIT_USAGE)


def _brief(text: str) -> str:
    """``text`` quoted for a message, cut short: an argument may be megabytes long."""
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "…")


def _key_path(key: str, option: str, text: str) -> list[str | None]:
    match = _KEY.match(key)
    if match is None:
        raise _usage(
            f"{option} {_brief(text)}: a key is NAME, NAME[sub] or NAME[] (brackets balanced)"
        )
    path: list[str | None] = [match.group("name")]
    path.extend(segment or None for segment in _SEGMENT.findall(match.group("rest")))
    if len(path) > MAX_KEY_DEPTH:
        raise _usage(
            f"{option} {_brief(text)}: the key is nested deeper than {MAX_KEY_DEPTH} levels"
        )
    if None in path[:-1]:
        raise _usage(f"{option} {_brief(text)}: [] (append) may only end a key")
    return path


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _typed(value: str, option: str, text: str) -> Any:
    if value in _LITERALS:
        return _LITERALS[value]
    if _INTEGER.match(value):
        try:
            return int(value)
        except ValueError:  # past Python's limit on digits converted (4300)
            raise _usage(
                f"{option} {_brief(text)}: the number has too many digits; -f sends it as a string"
            ) from None
    if _DECIMAL.match(value):
        number = float(value)
        if not math.isfinite(number):  # 1e400: JSON has no infinity
            raise _usage(f"{option} {_brief(text)}: the number is too large for JSON")
        return number
    if value.startswith("@"):
        return _read(value[1:], option)
    return value


def _read(name: str, option: str) -> str:
    try:
        return sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as problem:
        reason = getattr(problem, "strerror", None) or "not UTF-8 text"
        raise _usage(f"{option} @{name}: cannot read it ({reason})") from None


def parse_fields(typed: Iterable[str], raw: Iterable[str]) -> list[Field]:
    """``-F`` (typed) and ``-f`` (string) fields, in the order given per kind."""
    fields: list[Field] = []
    for option, texts, convert in (("-F", typed, True), ("-f", raw, False)):
        for text in texts:
            if not _is_utf8(text):  # bytes the shell passed that are not UTF-8
                raise _usage(f"{option} {_brief(text)}: not UTF-8 text")
            key, sep, value = text.partition("=")
            if not sep or not key:
                raise _usage(f"{option} expects key=value, not {_brief(text)}")
            path = _key_path(key, option, text)
            fields.append((path, _typed(value, option, text) if convert else value))
    return fields


def _not_json_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {_brief(text)[1:-1]} is too large for JSON")
    return number


def load_json_body(text: str) -> Any:
    """``--input``'s JSON, as strict as the body it becomes: no NaN or Infinity (which
    Python's json reads but no JSON parser must), no number too large for a float, and no
    deeper than :data:`MAX_INPUT_DEPTH`. ValueError says what is wrong."""
    try:
        value = json.loads(text, parse_constant=_not_json_constant, parse_float=_finite)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_INPUT_DEPTH} levels") from None
    if _depth_over(value, MAX_INPUT_DEPTH):
        raise ValueError(f"nested deeper than {MAX_INPUT_DEPTH} levels")
    return value


def _depth_over(value: Any, limit: int) -> bool:
    """True if ``value``'s lists and objects nest deeper than ``limit`` (no recursion)."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        node, level = pending.pop()
        if not isinstance(node, (dict, list)):
            continue
        if level > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        pending.extend((child, level + 1) for child in children)
    return False


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
