"""Binding an authorization to the browser that started it (login-CSRF protection).

Whoever holds a valid state can otherwise finish a flow with a code for *their own* Gong
company. So the flow's starter gives the browser a random nonce in a cookie and issues the
state bound to the nonce's SHA-256; the callback is accepted only from the browser that
brings the nonce whose hash the state carries. Used by the web helpers
(:mod:`gong_authlib.web`) and by the command line's loopback callback server.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

NONCE_BYTES = 32
_NONCE = re.compile(r"[A-Za-z0-9_-]{43}")  # fullmatch: "$" would let a trailing newline in


def new_nonce() -> str:
    return secrets.token_urlsafe(NONCE_BYTES)


def is_nonce(value: str | None) -> bool:
    """Whether ``value`` has the shape of a nonce (anything else is no cookie at all)."""
    return bool(value) and _NONCE.fullmatch(value or "") is not None


def browser_binding(nonce: str) -> str:
    """What a state is bound to: the SHA-256 of the browser's nonce (never the nonce)."""
    return hashlib.sha256(nonce.encode()).hexdigest()


def binding_matches(binding: str, nonce: str | None) -> bool:
    """Whether ``nonce`` (the browser's cookie) is the one ``binding`` was made from."""
    if not binding or nonce is None or not is_nonce(nonce):
        return False
    return hmac.compare_digest(binding.encode(), browser_binding(nonce).encode())


def path_covers(path: str, prefix: str) -> bool:
    """Whether a cookie with ``Path=prefix`` is sent to ``path`` (RFC 6265, 5.1.4)."""
    return path == prefix or path.startswith(prefix if prefix.endswith("/") else prefix + "/")


@dataclass(frozen=True, slots=True)
class FlowCookie:
    """The nonce cookie to set on the starting browser; every attribute is already decided."""

    name: str
    value: str
    max_age: int
    path: str
    secure: bool
    httponly: bool = True
    samesite: str = "Lax"

    def header(self) -> str:
        """The ``Set-Cookie`` header value, for frameworks without a cookie helper."""
        parts = [
            f"{self.name}={self.value}",
            f"Max-Age={self.max_age}",
            f"Path={self.path}",
            f"SameSite={self.samesite}",
        ]
        if self.httponly:
            parts.append("HttpOnly")
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts)

    def __repr__(self) -> str:  # the nonce is a credential of the flow
        return f"FlowCookie(name={self.name!r}, path={self.path!r}, secure={self.secure})"
