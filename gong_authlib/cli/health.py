"""A customer's health as ``tokens list``, ``show`` and ``check`` name it.

Light on purpose: the argument parser imports the names for ``--status`` without loading the
stores.

=========================  =========  ===================================================
health                     attention  meaning
=========================  =========  ===================================================
active                     no         a token that works
expired                    no         the access token expired; refreshed on next use
reauthorization-required   yes        Gong refused the refresh token: the customer's admin
                                      must authorize the app again (since when, and why)
untrusted-origin           yes        Gong named an API base URL the client does not trust
unreadable                 yes        the stored entry cannot be read (a wrong key, damage)
rolled-back                yes        the stored token was issued before one the store held
                                      earlier: an older row was written back (a restore,
                                      or someone who can write the store)
=========================  =========  ===================================================

A rollback is judged against the store's high-water mark of issue times
(``TokenStore.newest_issue``) with :data:`ROLLBACK_TOLERANCE`: workers stamp ``issued_at``
with their own clocks, and two refreshes seconds apart on machines whose clocks differ a
little must not look like a rollback. A restored row is hours or days old.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gong_authlib.stores.status import CustomerStatus
    from gong_authlib.token import Token

HEALTH = (
    "active",
    "expired",
    "reauthorization-required",
    "untrusted-origin",
    "unreadable",
    "rolled-back",
)
NEEDS_ATTENTION = frozenset(
    {"reauthorization-required", "untrusted-origin", "unreadable", "rolled-back"}
)
UNREADABLE = "unreadable"
ROLLED_BACK = "rolled-back"
ROLLBACK_TOLERANCE = 300.0  # seconds of clock difference between workers forgiven


def rolled_back(token: Token, newest_issue: float | None) -> bool:
    """True when ``token`` was issued well before the newest one the store ever held."""
    return newest_issue is not None and token.issued_at < newest_issue - ROLLBACK_TOLERANCE


def health(
    token: Token, status: CustomerStatus, now: float, *, newest_issue: float | None = None
) -> str:
    """A rollback first (whatever the row says of itself, it is not the row the store last
    wrote), then the store's status (it outlives the token's expiry), then the expiry."""
    if rolled_back(token, newest_issue):
        return ROLLED_BACK
    if not status.active:
        return status.state.replace(" ", "-")  # the store says "reauthorization required"
    return "active" if token.expires_at > now else "expired"
