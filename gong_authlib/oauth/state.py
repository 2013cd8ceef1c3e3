"""OAuth ``state``: random, bound to one customer and redirect URI, single-use, short-lived.

Gong's authorization code lives 10 minutes, so a state older than that can only belong to a
flow that cannot finish: it expires with the code. States are kept under a hash of their
value (a store never holds a usable state), and compared with :func:`hmac.compare_digest`
where the value itself is kept, so neither lookup nor comparison leaks timing about a guess.

Every :class:`~gong_authlib.TokenStore` is also a :class:`StateStore` (SQLite, Redis,
PostgreSQL and memory), so the worker that receives a callback need not be the one that
issued its state. :class:`MemoryStateStore` keeps them in one process only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
import threading
from dataclasses import dataclass
from typing import Protocol

from gong_authlib.clock import Clock, system_clock
from gong_authlib.errors import StateError
from gong_authlib.gong.limits import CODE_LIFETIME_SECONDS

STATE_BYTES = 32  # 256 bits from the OS's CSPRNG


@dataclass(frozen=True, slots=True)
class PendingAuthorization:
    """What a state was issued for, returned when the callback brings it back.

    ``binding`` is the hash of the nonce the starting browser holds in a cookie (empty when
    the flow is not bound to a browser, as for the command line).
    """

    customer: str | None
    redirect_uri: str
    scopes: tuple[str, ...]
    issued_at: float
    binding: str = ""

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "customer": self.customer,
                "redirect_uri": self.redirect_uri,
                "scopes": list(self.scopes),
                "issued_at": self.issued_at,
                "binding": self.binding,
            },
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_bytes(cls, raw: bytes | str) -> PendingAuthorization:
        """The record as :meth:`to_bytes` wrote it; StateError for anything else. Every field
        is checked for its type: a record of another shape (an issue time that is not a
        finite number would never expire) comes from a writer other than this library."""
        damaged = StateError("a stored OAuth state is damaged; start the authorization again")
        try:
            data = json.loads(raw)
            customer, redirect_uri = data["customer"], data["redirect_uri"]
            scopes, issued_at = data["scopes"], data["issued_at"]
            binding = data.get("binding", "")
        except (ValueError, KeyError, TypeError, AttributeError):
            raise damaged from None
        if not (
            (customer is None or isinstance(customer, str))
            and isinstance(redirect_uri, str)
            and isinstance(scopes, list)
            and all(isinstance(scope, str) for scope in scopes)
            and isinstance(issued_at, int | float)
            and not isinstance(issued_at, bool)
            and math.isfinite(issued_at)
            and isinstance(binding, str)
        ):
            raise damaged
        return cls(customer, redirect_uri, tuple(scopes), float(issued_at), binding)


class StateStore(Protocol):
    """Where issued states wait for their callback. Implement it to share states between
    the process that builds the authorize URL and the one that receives the callback
    (every TokenStore already does)."""

    def issue(
        self,
        *,
        customer: str | None,
        redirect_uri: str,
        scopes: tuple[str, ...] = (),
        binding: str = "",
    ) -> str: ...

    def consume(self, state: str, *, redirect_uri: str) -> PendingAuthorization: ...


def new_state() -> str:
    return secrets.token_urlsafe(STATE_BYTES)


def state_key(state: str) -> str:
    """What a store keys a state by: its SHA-256, so a leaked store holds no usable state."""
    return hashlib.sha256(state.encode()).hexdigest()


def require_state(state: str) -> str:
    if not state:
        raise StateError("the callback carries no state: refusing it (possible CSRF)")
    return state


def unknown_state() -> StateError:
    return StateError(
        "the callback's state was not issued here or was already used (possible CSRF)"
    )


def check_pending(
    pending: PendingAuthorization, *, now: float, lifetime: float, redirect_uri: str
) -> PendingAuthorization:
    """The checks every store makes on a consumed state: age, then redirect URI."""
    if now - pending.issued_at > lifetime:
        raise StateError(
            "the authorization took longer than Gong's 10-minute code lifetime; start again"
        )
    if not hmac.compare_digest(pending.redirect_uri.encode(), redirect_uri.encode()):
        raise StateError("the callback arrived at a redirect URI the state was not issued for")
    return pending


class MemoryStateStore:
    """A :class:`StateStore` in this process only, safe across threads. Fine for one process
    (the command line); a web app with several workers passes its TokenStore instead."""

    def __init__(
        self, *, lifetime: float = CODE_LIFETIME_SECONDS, clock: Clock = system_clock
    ) -> None:
        self._lifetime = lifetime
        self._clock = clock
        self._pending: dict[str, tuple[str, PendingAuthorization]] = {}
        self._lock = threading.Lock()

    def issue(
        self,
        *,
        customer: str | None,
        redirect_uri: str,
        scopes: tuple[str, ...] = (),
        binding: str = "",
    ) -> str:
        state = new_state()
        now = self._clock()
        pending = PendingAuthorization(customer, redirect_uri, tuple(scopes), now, binding)
        with self._lock:
            self._drop_expired(now)
            self._pending[state_key(state)] = (state, pending)
        return state

    def consume(self, state: str, *, redirect_uri: str) -> PendingAuthorization:
        """Return what ``state`` was issued for and forget it; StateError if it is not valid."""
        require_state(state)
        with self._lock:
            entry = self._pending.pop(state_key(state), None)
        if entry is None or not hmac.compare_digest(entry[0].encode(), state.encode()):
            raise unknown_state()
        return check_pending(
            entry[1], now=self._clock(), lifetime=self._lifetime, redirect_uri=redirect_uri
        )

    def _drop_expired(self, now: float) -> None:
        stale = [k for k, (_, p) in self._pending.items() if now - p.issued_at > self._lifetime]
        for key in stale:
            del self._pending[key]
