"""How long a client secret Gong refused (``invalid_client``) stays unused, in this process.

A secret whose grace period ended is refused on every token call, for every customer and every
worker: asking again at each request would hammer Gong with calls that cannot succeed. After a
refusal, the token endpoint is not called with that same secret for a while (30 s, doubling up
to 15 min); requests meanwhile raise ``ClientCredentialsRejected`` at once. Keyed by the token
URL, the client ID and the secret's fingerprint (:data:`SecretKey`), across every client object
in the process: a fixed secret (a new fingerprint) is tried at once.

This is the fallback when no token store is known (a bare ``GongOAuthClient``); where one is,
the pause is also kept there for every worker (:mod:`gong_authlib.tokens.secret_pause`), and a
pause read from the store is adopted here (:func:`adopt`) so the doubling carries on.
"""

from __future__ import annotations

import threading

FIRST_PAUSE = 30.0
LONGEST_PAUSE = 900.0

# (token URL, client ID, the secret's fingerprint): never the secret itself.
SecretKey = tuple[str, str, str]


class _Refusal:
    # A plain slotted class: a dataclass's generated methods (unused here) cost every cold
    # start a compile at import (issue 24).
    __slots__ = ("pause", "until")

    def __init__(self, until: float, pause: float) -> None:
        self.until = until
        self.pause = pause


_refusals: dict[SecretKey, _Refusal] = {}
_guard = threading.Lock()


def paused_until(key: SecretKey, now: float) -> float | None:
    """When ``key``'s secret may be tried again, or None if it may be now."""
    with _guard:
        refusal = _refusals.get(key)
    return refusal.until if refusal is not None and now < refusal.until else None


def refused(key: SecretKey, now: float) -> float:
    """Record a refusal of ``key``'s secret; returns when it may be tried again."""
    with _guard:
        previous = _refusals.get(key)
        pause = FIRST_PAUSE if previous is None else min(previous.pause * 2, LONGEST_PAUSE)
        _refusals[key] = _Refusal(now + pause, pause)
        return now + pause


def adopt(key: SecretKey, now: float, until: float) -> None:
    """Another worker's pause, read from the store: keep it here too, so this process neither
    asks the store again until it ends nor starts its own doubling over from 30 s."""
    with _guard:
        previous = _refusals.get(key)
        if previous is None or previous.until < until:
            pause = max(previous.pause if previous else 0.0, min(until - now, LONGEST_PAUSE))
            _refusals[key] = _Refusal(until, pause)


def accepted(key: SecretKey) -> None:
    """Gong took the secret: forget its refusals."""
    if key in _refusals:
        with _guard:
            _refusals.pop(key, None)
