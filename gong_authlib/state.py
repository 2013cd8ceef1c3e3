"""OAuth ``state``: random, bound to one customer and redirect URI, single-use, short-lived.

Gong's authorization code lives 10 minutes, so a state older than that can only belong to a
flow that cannot finish: it expires with the code. States are kept under a hash of their
value and compared with :func:`hmac.compare_digest`, so neither lookup nor comparison leaks
timing about a guess.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from typing import Protocol

from gong_authlib.clock import Clock, system_clock
from gong_authlib.errors import StateError

CODE_LIFETIME_SECONDS = 600  # Gong: "The code is valid for 10 minutes"
STATE_BYTES = 32  # 256 bits from the OS's CSPRNG


@dataclass(frozen=True, slots=True)
class PendingAuthorization:
    """What a state was issued for, returned when the callback brings it back."""

    customer: str | None
    redirect_uri: str
    scopes: tuple[str, ...]
    issued_at: float


class StateStore(Protocol):
    """Where issued states wait for their callback. Implement it to share states between
    the process that builds the authorize URL and the one that receives the callback."""

    def issue(self, *, customer: str | None, redirect_uri: str, scopes: tuple[str, ...]) -> str: ...

    def consume(self, state: str, *, redirect_uri: str) -> PendingAuthorization: ...


def _key(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


class MemoryStateStore:
    """The default :class:`StateStore`: a dict in this process, safe across threads."""

    def __init__(
        self, *, lifetime: float = CODE_LIFETIME_SECONDS, clock: Clock = system_clock
    ) -> None:
        self._lifetime = lifetime
        self._clock = clock
        self._pending: dict[str, tuple[str, PendingAuthorization]] = {}
        self._lock = threading.Lock()

    def issue(
        self, *, customer: str | None, redirect_uri: str, scopes: tuple[str, ...] = ()
    ) -> str:
        state = secrets.token_urlsafe(STATE_BYTES)
        now = self._clock()
        pending = PendingAuthorization(customer, redirect_uri, tuple(scopes), now)
        with self._lock:
            self._drop_expired(now)
            self._pending[_key(state)] = (state, pending)
        return state

    def consume(self, state: str, *, redirect_uri: str) -> PendingAuthorization:
        """Return what ``state`` was issued for and forget it; StateError if it is not valid."""
        if not state:
            raise StateError("the callback carries no state: refusing it (possible CSRF)")
        with self._lock:
            entry = self._pending.pop(_key(state), None)
        if entry is None or not hmac.compare_digest(entry[0].encode(), state.encode()):
            raise StateError(
                "the callback's state was not issued here or was already used (possible CSRF)"
            )
        pending = entry[1]
        if self._clock() - pending.issued_at > self._lifetime:
            raise StateError(
                "the authorization took longer than Gong's 10-minute code lifetime; start again"
            )
        if not hmac.compare_digest(pending.redirect_uri.encode(), redirect_uri.encode()):
            raise StateError("the callback arrived at a redirect URI the state was not issued for")
        return pending

    def _drop_expired(self, now: float) -> None:
        stale = [k for k, (_, p) in self._pending.items() if now - p.issued_at > self._lifetime]
        for key in stale:
            del self._pending[key]
