"""Is a delivery's URL the one its JWT was signed for?

Gong signs the destination URL as the rule's author typed it (``webhook_url``); the app sees
the URL it is reached at. They are the same URL when scheme, host (case-insensitive) and port
(the scheme's default port spelled or not), path (trailing slash ignored, percent-encoding
normalized as RFC 3986 6.2.2 says) and, when the signed URL has one, query (the same
parameters and values, in any order) agree. A fragment never reaches a server. The point is
to refuse a delivery signed for another customer's URL (or another app's) replayed here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile("%([0-9A-Fa-f]{2})")


def _normal_escapes(text: str) -> str:
    """Percent-escapes of unreserved characters decoded, the others in upper case."""

    def one(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    return _ESCAPE.sub(one, text)


def _path(path: str) -> str:
    return _normal_escapes(path).rstrip("/") or "/"


def url_difference(signed: str, actual: str) -> str | None:
    """None when ``actual`` is the URL ``signed`` names, else which part differs (never the
    URLs themselves: a URL key in a query is a secret)."""
    try:
        want, got = urlsplit(signed.strip()), urlsplit(actual.strip())
        want_port = want.port or _DEFAULT_PORTS.get(want.scheme.lower())
        got_port = got.port or _DEFAULT_PORTS.get(got.scheme.lower())
    except ValueError:
        return "a URL that cannot be parsed"
    checks: tuple[tuple[str, Callable[[], bool]], ...] = (
        ("the scheme", lambda: want.scheme.lower() == got.scheme.lower()),
        # No host never matches: a signed URL without one names no receiver.
        ("the host", lambda: bool(want.hostname) and want.hostname == got.hostname),
        ("the port", lambda: want_port == got_port),
        ("the path", lambda: _path(want.path) == _path(got.path)),
        # A signed URL without a query says nothing about the query.
        ("the query", lambda: not want.query or _query(want.query) == _query(got.query)),
    )
    return next((name for name, same in checks if not same()), None)


def _query(query: str) -> list[tuple[str, str]]:
    return sorted(parse_qsl(_normal_escapes(query), keep_blank_values=True))
