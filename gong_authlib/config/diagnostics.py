"""Diagnostics: one finding about an integration file, with where it is and what to do."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]

# A path from the document root: keys are strings, list positions are integers.
NodePath = tuple[str | int, ...]


def format_path(path: NodePath) -> str:
    """Render ``("integration", "scopes", 2)`` as ``integration.scopes[2]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


@dataclass(frozen=True)
class Diagnostic:
    """One finding. ``line`` and ``column`` are 1-based; 0 means "the whole file"."""

    severity: Severity
    code: str
    message: str
    path: str = ""
    line: int = 0
    column: int = 0
    end_column: int = 0
    file: str = ""
    suggestion: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def location(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def sort_key(diagnostic: Diagnostic) -> tuple[str, int, int, str]:
    return (diagnostic.file, diagnostic.line, diagnostic.column, diagnostic.code)


# "Did you mean" compares names of a few dozen characters; a longer word is no typo of one.
MAX_SUGGESTION_LENGTH = 100


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, enough for "did you mean" on short names."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def did_you_mean(word: str, candidates: Sequence[str], *, max_distance: int = 2) -> str | None:
    """The closest candidate within ``max_distance`` edits, or a candidate ``word`` prefixes.

    Terraform's rule (distance below 3) catches typos; the prefix rule catches the common Gong
    mistake of a truncated scope such as ``api:calls:read`` for ``api:calls:read:basic``.
    Only candidates whose length is within ``max_distance`` of the word's can be that close,
    so the others are never compared, and words over ``MAX_SUGGESTION_LENGTH`` get no
    suggestion: the work stays proportional to the candidates, whatever the file holds.
    """
    if len(word) > MAX_SUGGESTION_LENGTH:
        return None
    best: tuple[int, str] | None = None
    for candidate in candidates:
        if abs(len(candidate) - len(word)) > max_distance:
            continue
        distance = edit_distance(word, candidate)
        if distance <= max_distance and (best is None or distance < best[0]):
            best = (distance, candidate)
    if best is not None:
        return best[1]
    prefixed = sorted(c for c in candidates if c.startswith(word + ":"))
    return prefixed[0] if prefixed else None


# Values quoted in messages are cut to this many characters: a message names the value, the
# snippet shows where it is.
MAX_QUOTED = 80


def quoted(value: object, limit: int = MAX_QUOTED) -> str:
    """``repr(value)`` cut to ``limit`` characters; control characters come out escaped."""
    if not isinstance(value, str):
        text = repr(value)
        return text if len(text) <= limit else text[:limit] + "…"
    if len(value) > limit:
        return repr(value[:limit]) + f"… ({len(value):,} characters)"
    return repr(value)


# Every code the validator can emit: a stable contract for tools reading --format json.
DIAGNOSTIC_CODES = frozenset(
    {
        # reading and YAML structure
        "unreadable-file",
        "file-too-large",
        "binary-file",
        "encoding",
        "tab-indent",
        "yaml-syntax",
        "empty-file",
        "multiple-documents",
        "duplicate-key",
        "invalid-key",
        "yaml-anchor",
        "yaml-alias",
        "yaml-merge",
        "yaml-tag",
        "too-deep",
        # the JSON Schema
        "unknown-key",
        "missing-key",
        "wrong-type",
        "empty-value",
        "out-of-range",
        "invalid-value",
        # Gong's rules
        "unknown-scope",
        "duplicate-scope",
        "duplicate-item",
        "insecure-url",
        "invalid-url",
        "redirect-uri-fragment",
        "origin-not-bare",
        "iframe-missing-url",
        "missing-redirect-uri",
        "url-outside-domains",
        "invalid-email",
        "logo-missing",
        "logo-not-image",
        "literal-secret",
        "bad-interpolation",
        "interpolation-not-allowed",
        "untrusted-endpoint",
        "control-character",
        "unknown-environment",
        "too-many-environments",
        # load_config only
        "env-unset",
    }
)
