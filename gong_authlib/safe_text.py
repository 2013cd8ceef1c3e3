"""Text from outside that becomes keys and output: control characters and customer names.

An integration file comes from a pull request anyone may open, and reviewers read its values
in a terminal or a rendered comment. C0 and C1 controls (ESC starts terminal commands that
retitle windows, clear screens or hide lines) and the bidirectional overrides that reorder
what is shown ("Trojan Source") must never reach them raw.

A customer name is a key in files, Redis and SQL, and is printed: it is checked here, apart
from the stores, so the command-line parser can check ``--customer`` without importing them.
"""

from __future__ import annotations

import functools
import re


@functools.cache
def _controls(one_line: bool) -> re.Pattern[str]:
    """C0 without tab and newline (allowed in text), DEL, C1, and the bidi embeddings,
    overrides and isolates; for a single line of output, tab and newline too. Compiled at
    first use: every cold start would pay for it at import (issue 24)."""
    if one_line:
        return re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
    return re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def first_control(text: str) -> tuple[int, str] | None:
    """The offset and escaped form of the first forbidden character in ``text``, if any."""
    match = _controls(False).search(text)
    return None if match is None else (match.start(), _escape_one(match))


_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape_one(match: re.Match[str]) -> str:
    if match.group() in _NAMED:
        return _NAMED[match.group()]
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control or bidi character written as ``\\xNN`` / ``\\uNNNN``."""
    return _controls(not keep_newlines).sub(_escape_one, text)


MAX_CUSTOMER_LENGTH = 200


def customer_problem(name: object) -> str | None:
    """Why ``name`` cannot be a customer name, or None if it can."""
    if not isinstance(name, str) or not name or len(name) > MAX_CUSTOMER_LENGTH:
        return f"a customer name is 1 to {MAX_CUSTOMER_LENGTH} characters of text"
    if any(ord(ch) < 32 for ch in name) or first_control(name) is not None:
        return "a customer name cannot contain control characters"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "a customer name must be valid Unicode text (it holds a lone surrogate)"
    return None
