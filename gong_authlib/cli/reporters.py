"""Output formats for diagnostics: text for people, JSON for tools, GitHub annotations for CI."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import IO

from gong_authlib.config.diagnostics import Diagnostic
from gong_authlib.config.interpolation import is_secret_field

JSON_FORMAT_VERSION = "1"

_RED, _YELLOW, _BLUE, _BOLD, _RESET = "\x1b[31m", "\x1b[33m", "\x1b[34m", "\x1b[1m", "\x1b[0m"


def use_color(stream: IO[str], *, no_color: bool) -> bool:
    """Colour only for a terminal, never when ``--no-color`` or ``NO_COLOR`` says otherwise."""
    if no_color or os.environ.get("NO_COLOR"):
        return False
    return hasattr(stream, "isatty") and stream.isatty()


def _snippet(diagnostic: Diagnostic, source: str | None, paint: dict[str, str]) -> list[str]:
    if not source or not diagnostic.line:
        return []
    lines = source.splitlines()
    if diagnostic.line > len(lines):
        return []
    text = lines[diagnostic.line - 1].replace("\t", " ")
    if is_secret_field(diagnostic.path) and diagnostic.column:
        # The line may hold a literal secret: show the key, never the value.
        text = text[: diagnostic.column - 1] + "<redacted>"
    width = len(str(diagnostic.line))
    gutter = " " * width
    start = max(diagnostic.column, 1)
    length = max(diagnostic.end_column - start, 1) if diagnostic.end_column else 1
    if is_secret_field(diagnostic.path):
        length = len("<redacted>") if diagnostic.column else 1
    caret = " " * (start - 1) + "^" * length
    blue, reset = paint["blue"], paint["reset"]
    return [
        f"{gutter} {blue}|{reset}",
        f"{blue}{diagnostic.line} |{reset} {text}",
        f"{gutter} {blue}|{reset} {paint[diagnostic.severity]}{caret}{reset}",
    ]


def render_text(
    diagnostics: Sequence[Diagnostic],
    sources: dict[str, str],
    files_checked: int,
    *,
    color: bool,
) -> str:
    paint = {
        "error": _RED + _BOLD if color else "",
        "warning": _YELLOW + _BOLD if color else "",
        "blue": _BLUE if color else "",
        "bold": _BOLD if color else "",
        "reset": _RESET if color else "",
    }
    out: list[str] = []
    for d in diagnostics:
        head = f"{paint[d.severity]}{d.severity}[{d.code}]{paint['reset']}"
        out.append(f"{head}{paint['bold']}: {d.message}{paint['reset']}")
        out.append(f"  {paint['blue']}-->{paint['reset']} {d.location()}")
        out.extend("  " + line for line in _snippet(d, sources.get(d.file), paint))
        if d.suggestion:
            out.append(f"  = help: did you mean {d.suggestion!r}?")
        out.append("")
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
    payload = {
        "format_version": JSON_FORMAT_VERSION,
        "valid": not any(d.is_error for d in diagnostics),
        "files_checked": files_checked,
        "error_count": sum(d.is_error for d in diagnostics),
        "warning_count": sum(not d.is_error for d in diagnostics),
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
            for d in diagnostics
        ],
    }
    return json.dumps(payload, indent=2) + "\n"


def _github_escape(text: str, *, property_value: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(diagnostics: Sequence[Diagnostic]) -> str:
    out = []
    for d in diagnostics:
        props = [f"file={_github_escape(d.file, property_value=True)}"]
        if d.line:
            props += [f"line={d.line}", f"col={d.column}"]
        props.append(f"title={_github_escape(d.code, property_value=True)}")
        out.append(f"::{d.severity} {','.join(props)}::{_github_escape(d.message)}\n")
    return "".join(out)


def write(text: str, stream: IO[str] = sys.stdout) -> None:
    stream.write(text)
    stream.flush()
