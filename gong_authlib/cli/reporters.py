"""Output formats for diagnostics: text for people, JSON for tools, GitHub annotations for CI."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import IO

from gong_authlib.config.diagnostics import quoted
from gong_authlib.config.interpolation import is_secret_field
from gong_authlib.errors import Diagnostic
from gong_authlib.safe_text import escape_controls

JSON_FORMAT_VERSION = "1"

_RED, _YELLOW, _BLUE, _BOLD, _RESET = "\x1b[31m", "\x1b[33m", "\x1b[34m", "\x1b[1m", "\x1b[0m"


def use_color(stream: IO[str], *, no_color: bool) -> bool:
    """Colour only for a terminal, never when ``--no-color`` or ``NO_COLOR`` says otherwise."""
    if no_color or os.environ.get("NO_COLOR"):
        return False
    return hasattr(stream, "isatty") and stream.isatty()


# At most this many findings of one code per file are shown; the rest are counted.
MAX_PER_CODE = 20
# A snippet shows at most this many characters of its line, around the column.
SNIPPET_WIDTH = 100
_SNIPPET_LEFT = 30


Omitted = list[tuple[str, str, int]]  # (file, code, count)


def bounded(diagnostics: Sequence[Diagnostic]) -> tuple[list[Diagnostic], Omitted]:
    """The first ``MAX_PER_CODE`` findings of each code in each file, and counts of the rest."""
    shown: list[Diagnostic] = []
    counts: dict[tuple[str, str], int] = {}
    for diagnostic in diagnostics:
        key = (diagnostic.file, diagnostic.code)
        counts[key] = counts.get(key, 0) + 1
        if counts[key] <= MAX_PER_CODE:
            shown.append(diagnostic)
    omitted = [(file, code, n - MAX_PER_CODE) for (file, code), n in counts.items()]
    return shown, [entry for entry in omitted if entry[2] > 0]


def omitted_line(file: str, code: str, count: int) -> str:
    return (
        f"{count:,} more {code} finding{'s' if count != 1 else ''} in {file} not shown "
        f"(at most {MAX_PER_CODE} of one code per file)"
    )


def _window(text: str, start: int, length: int) -> tuple[str, int, int]:
    """A piece of ``text`` at most SNIPPET_WIDTH wide around ``start`` (0-based), escaped.

    Returns the piece and the caret's offset and length in it.
    """
    left = max(0, start - _SNIPPET_LEFT) if len(text) > SNIPPET_WIDTH else 0
    right = min(len(text), left + SNIPPET_WIDTH)
    before = ("…" if left else "") + escape_controls(text[left:start])
    marked = escape_controls(text[start : min(start + length, right)])
    after = escape_controls(text[start + length : right]) + ("…" if right < len(text) else "")
    return before + marked + after, len(before), max(len(marked), 1)


def _snippet(diagnostic: Diagnostic, lines: Sequence[str], paint: dict[str, str]) -> list[str]:
    if not diagnostic.line or diagnostic.line > len(lines):
        return []
    text = lines[diagnostic.line - 1].replace("\t", " ")
    start = max(diagnostic.column, 1) - 1
    length = max(diagnostic.end_column - 1 - start, 1) if diagnostic.end_column else 1
    if is_secret_field(diagnostic.path):
        # The line may hold a literal secret: show the key, never the value.
        if diagnostic.column:
            text = text[:start] + "<redacted>"
            length = len("<redacted>")
        else:
            text, length = "", 1
    shown, offset, width = _window(text, start, length)
    gutter = " " * len(str(diagnostic.line))
    caret = " " * offset + "^" * width
    blue, reset = paint["blue"], paint["reset"]
    return [
        f"{gutter} {blue}|{reset}",
        f"{blue}{diagnostic.line} |{reset} {shown}",
        f"{gutter} {blue}|{reset} {paint[diagnostic.severity]}{caret}{reset}",
    ]


def render_text(
    diagnostics: Sequence[Diagnostic],
    sources: dict[str, str],
    files_checked: int,
    *,
    color: bool,
    with_summary: bool = True,
) -> str:
    """The findings as rustc-style text; ``with_summary`` adds validate's "N files checked"
    line (other commands that fail to load the file say what failed instead)."""
    paint = {
        "error": _RED + _BOLD if color else "",
        "warning": _YELLOW + _BOLD if color else "",
        "blue": _BLUE if color else "",
        "bold": _BOLD if color else "",
        "reset": _RESET if color else "",
    }
    shown, omitted = bounded(diagnostics)
    line_index: dict[str, list[str]] = {}  # each file split once, whatever the findings
    out: list[str] = []
    for d in shown:
        if d.file not in line_index:
            line_index[d.file] = sources.get(d.file, "").splitlines()
        head = f"{paint[d.severity]}{d.severity}[{d.code}]{paint['reset']}"
        message = escape_controls(d.message)
        out.append(f"{head}{paint['bold']}: {message}{paint['reset']}")
        out.append(f"  {paint['blue']}-->{paint['reset']} {escape_controls(d.location())}")
        out.extend("  " + line for line in _snippet(d, line_index[d.file], paint))
        if d.suggestion:
            out.append(f"  = help: did you mean {quoted(d.suggestion)}?")
        out.append("")
    out.extend(escape_controls(omitted_line(*entry)) for entry in omitted)
    if with_summary:
        out.append(summary(diagnostics, files_checked))
    return "\n".join(out) + "\n"


def summary(diagnostics: Sequence[Diagnostic], files_checked: int) -> str:
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors
    files = f"{files_checked} file{'s' if files_checked != 1 else ''}"
    if not diagnostics:
        return f"{files} checked: valid."
    return (
        f"{files} checked: {errors} error{'s' if errors != 1 else ''}, "
        f"{warnings} warning{'s' if warnings != 1 else ''}."
    )


def render_json(diagnostics: Sequence[Diagnostic], files_checked: int) -> str:
    # json.dumps escapes every control and non-ASCII character (ensure_ascii).
    shown, omitted = bounded(diagnostics)
    payload = {
        "format_version": JSON_FORMAT_VERSION,
        "valid": not any(d.is_error for d in diagnostics),
        "files_checked": files_checked,
        "error_count": sum(d.is_error for d in diagnostics),
        "warning_count": sum(not d.is_error for d in diagnostics),
        "omitted": [{"file": f, "code": c, "count": n} for f, c, n in omitted],
        "diagnostics": [
            {
                "severity": d.severity,
                "code": d.code,
                "message": d.message,
                "file": d.file,
                "path": d.path,
                "line": d.line,
                "column": d.column,
                "suggestion": d.suggestion,
            }
            for d in shown
        ],
    }
    return json.dumps(payload, indent=2) + "\n"


def _github_escape(text: str, *, property_value: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    text = escape_controls(text)
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(diagnostics: Sequence[Diagnostic]) -> str:
    shown, omitted = bounded(diagnostics)
    out = []
    for d in shown:
        props = [f"file={_github_escape(d.file, property_value=True)}"]
        if d.line:
            props += [f"line={d.line}", f"col={d.column}"]
        props.append(f"title={_github_escape(d.code, property_value=True)}")
        out.append(f"::{d.severity} {','.join(props)}::{_github_escape(d.message)}\n")
    for file, code, count in omitted:
        where = f"file={_github_escape(file, property_value=True)},title=more {code}"
        out.append(f"::notice {where}::{_github_escape(omitted_line(file, code, count))}\n")
    return "".join(out)


def write(text: str, stream: IO[str] | None = None) -> None:
    # sys.stdout read at each call, not bound at import: a caller (or a test) may have
    # redirected it after this module was first imported.
    stream = sys.stdout if stream is None else stream
    stream.write(text)
    stream.flush()
