"""Diagnostics: one finding about an integration file, with where it is and what to do."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from gong_authlib.errors import Diagnostic

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


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def sort_key(diagnostic: Diagnostic) -> tuple[str, int, int, str]:
    return (diagnostic.file, diagnostic.line, diagnostic.column, diagnostic.code)


# "Did you mean" compares names of a few dozen characters; a longer word is no typo of one.
MAX_SUGGESTION_LENGTH = 100
# A rule looks for a suggestion for at most this many findings in one document: each costs a
# comparison with every candidate (about a millisecond), and the reporters show only the first
# 20 findings of a code. Unbounded, a file of near-miss scopes checked once per environment
# took minutes.
MAX_SUGGESTIONS = 50


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


def distance_within(a: str, b: str, limit: int) -> int | None:
    """Levenshtein distance of ``a`` and ``b`` if it is at most ``limit``, else None.

    Only the band of cells within ``limit`` of the diagonal can lead to such a distance, and
    a row whose every cell exceeds it ends the search: about ``len(a) * (2 * limit + 1)``
    steps instead of ``len(a) * len(b)``.
    """
    if abs(len(a) - len(b)) > limit:
        return None
    too_far = limit + 1
    previous = [j if j <= limit else too_far for j in range(len(b) + 1)]
    for i in range(1, len(a) + 1):
        low, high = max(1, i - limit), min(len(b), i + limit)
        current = [too_far] * (len(b) + 1)
        current[0] = i if i <= limit else too_far
        for j in range(low, high + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        if min(current[max(0, low - 1) : high + 1]) > limit:
            return None
        previous = current
    return previous[-1] if previous[-1] <= limit else None


def did_you_mean(word: str, candidates: Sequence[str], *, max_distance: int = 2) -> str | None:
    """The closest candidate within ``max_distance`` edits, or a candidate ``word`` prefixes.

    Terraform's rule (distance below 3) catches typos; the prefix rule catches the common Gong
    mistake of a truncated scope such as ``api:calls:read`` for ``api:calls:read:basic``.
    Only candidates whose length is within ``max_distance`` of the word's can be that close,
    so the others are never compared; the rest are compared in a band around the diagonal
    that stops once no cell is close enough; and words over ``MAX_SUGGESTION_LENGTH`` get no
    suggestion: the work stays proportional to the candidates, whatever the file holds.
    """
    if len(word) > MAX_SUGGESTION_LENGTH:
        return None
    return _closest(word, tuple(candidates), max_distance)


# Each environment's merged result repeats the base file's findings: their suggestions are
# worked out once.
@lru_cache(maxsize=1024)
def _closest(word: str, candidates: tuple[str, ...], max_distance: int) -> str | None:
    best: tuple[int, str] | None = None
    for candidate in candidates:
        distance = distance_within(word, candidate, max_distance)
        if distance is not None and (best is None or distance < best[0]):
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
        "scope-typo",
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
