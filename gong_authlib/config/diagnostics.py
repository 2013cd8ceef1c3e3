"""Diagnostics: one finding about an integration file, with where it is and what to do."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from types import MappingProxyType

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


def warnings_as_errors(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """``validate --strict``: every warning counts as an error (a CI gate)."""
    return [d if d.is_error else replace(d, severity="error") for d in diagnostics]


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


# Every code the validator can emit, with what it means: a stable contract for tools reading
# --format json, and the one list the docs' rule reference and the tests read.
DIAGNOSTIC_CODES: Mapping[str, str] = MappingProxyType(
    {
        # reading and YAML structure
        "unreadable-file": "the file cannot be read (missing, a directory, no permission)",
        "file-too-large": "larger than integration files may be",
        "binary-file": "a NUL byte: not a text file",
        "encoding": "not valid UTF-8",
        "tab-indent": "a tab in indentation, which YAML forbids",
        "yaml-syntax": "not valid YAML",
        "empty-file": "nothing in the file",
        "multiple-documents": "more than one YAML document",
        "duplicate-key": "the same key twice in one mapping",
        "invalid-key": "a key that is not a plain string",
        "yaml-anchor": "an anchor (&name): refused in untrusted YAML",
        "yaml-alias": "an alias (*name): refused in untrusted YAML",
        "yaml-merge": "a merge key (<<): refused in untrusted YAML",
        "yaml-tag": "an explicit tag (!tag): refused in untrusted YAML",
        "too-deep": "nested deeper than any integration file needs",
        # the JSON Schema
        "unknown-key": "a key the schema does not know (did you mean …)",
        "missing-key": "a required key is absent",
        "wrong-type": "a value of the wrong type",
        "empty-value": "an empty string or list where a value is needed",
        "out-of-range": "a number or length outside its bounds",
        "invalid-value": "a value outside its allowed set or pattern",
        # Gong's rules (config/rules.py)
        "unknown-scope": (
            "a well-formed scope this release does not know (an error with strict_scopes, or "
            "when not scope-shaped)"
        ),
        "scope-typo": "a near-miss of a known scope (did you mean …)",
        "duplicate-scope": "the same scope twice",
        "duplicate-item": (
            "the same redirect URI, contact, domain, origin or trusted IP (however written) twice"
        ),
        "insecure-url": (
            "http where Gong needs https (loopback redirects excepted), or an http OAuth "
            "endpoint that is not loopback"
        ),
        "invalid-url": "not an absolute URL with a host",
        "redirect-uri-fragment": "an OAuth redirect URI with a #fragment",
        "localhost-redirect": (
            "a loopback redirect URI naming localhost instead of 127.0.0.1, which another "
            "local user can race on ::1"
        ),
        "origin-not-bare": "an allowed origin that is more than scheme://host[:port]",
        "iframe-missing-url": "iFrame enabled without the URL it needs",
        "missing-redirect-uri": "OAuth configured but no redirect URI",
        "url-outside-domains": "a URL whose host is not under the declared domains",
        "invalid-email": "a contact that is not an email address",
        "missing-trusted-ips": (
            "no integration.trusted_ips, or one of its two lists empty: Gong requires them "
            "for OAuth integrations (an error under validate --strict)"
        ),
        "invalid-ip": (
            "a trusted IP entry that is not an address, a CIDR block or a first-last range"
        ),
        "private-ip": "a trusted IP that is private, loopback or link-local: Gong never sees it",
        "broad-ip-range": (
            "a trusted IP entry wider than a /16 (IPv4) or /32 (IPv6), such as 0.0.0.0/0"
        ),
        "logo-missing": "the logo file does not exist",
        "logo-not-image": "the logo file is not a PNG, JPEG, GIF, WebP or SVG",
        "unencrypted-shared-store": (
            "a Redis or PostgreSQL token store without encryption_key: whoever can write it "
            "can read every token and connect their own Gong company to any customer"
        ),
        "literal-secret": (
            "a secret written in the file instead of ${env:NAME} (also beside a reference, or "
            "as a URL's password)"
        ),
        "bad-interpolation": "a ${…} that is not ${env:NAME}",
        "interpolation-not-allowed": "${env:…} outside the oauth and token_store sections",
        "untrusted-endpoint": (
            "an OAuth endpoint off gong.io not listed as allowed, or a trusted API origin "
            "that is neither Gong's nor loopback"
        ),
        "control-character": "a C0/C1 control or bidi override in a text or a key",
        "unknown-environment": "an environment that is not defined",
        "too-many-environments": "more environments than a file may define",
        # load_config only
        "env-unset": "an ${env:NAME} whose variable is not set",
    }
)
