"""Control characters: found in text fields (a rule) and escaped wherever text is printed.

An integration file comes from a pull request anyone may open, and reviewers read its values
in a terminal or a rendered comment. C0 and C1 controls (ESC starts terminal commands that
retitle windows, clear screens or hide lines) and the bidirectional overrides that reorder
what is shown ("Trojan Source") must never reach them raw.
"""

from __future__ import annotations

import re

# C0 without tab and newline (allowed in text), DEL, C1, and the bidi embeddings, overrides
# and isolates.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# For a single line of output, tab and newline are escaped too.
_CONTROL_ON_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def first_control(text: str) -> tuple[int, str] | None:
    """The offset and escaped form of the first forbidden character in ``text``, if any."""
    match = _CONTROL.search(text)
    return None if match is None else (match.start(), _escape_one(match))


_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape_one(match: re.Match[str]) -> str:
    if match.group() in _NAMED:
        return _NAMED[match.group()]
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control or bidi character written as ``\\xNN`` / ``\\uNNNN``."""
    pattern = _CONTROL if keep_newlines else _CONTROL_ON_ONE_LINE
    return pattern.sub(_escape_one, text)
