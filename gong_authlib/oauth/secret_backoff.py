"""How long a client secret Gong refused (``invalid_client``) stays unused.

A secret whose grace period ended is refused on every token call, for every customer and every
worker: asking again at each request would hammer Gong with calls that cannot succeed. After a
refusal, the token endpoint is not called with that same secret for a while (30 s, doubling up
to 15 min); requests meanwhile raise ``ClientCredentialsRejected`` at once. Keyed by the token
URL, the client ID and the secret's fingerprint, across every client object in the process: a
fixed secret (a new fingerprint) is tried at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

FIRST_PAUSE = 30.0
LONGEST_PAUSE = 900.0


@dataclass
class _Refusal:
    until: float
    pause: float


_refusals: dict[tuple[str, str, str], _Refusal] = {}
_guard = threading.Lock()


def paused_until(key: tuple[str, str, str], now: float) -> float | None:
    """When ``key``'s secret may be tried again, or None if it may be now."""
    with _guard:
        refusal = _refusals.get(key)
    return refusal.until if refusal is not None and now < refusal.until else None


def refused(key: tuple[str, str, str], now: float) -> float:
    """Record a refusal of ``key``'s secret; returns when it may be tried again."""
    with _guard:
        previous = _refusals.get(key)
        pause = FIRST_PAUSE if previous is None else min(previous.pause * 2, LONGEST_PAUSE)
        _refusals[key] = _Refusal(now + pause, pause)
        return now + pause


def accepted(key: tuple[str, str, str]) -> None:
    """Gong took the secret: forget its refusals."""
    if key in _refusals:
        with _guard:
            _refusals.pop(key, None)
