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
=========================  =========  ===================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gong_authlib.stores.status import CustomerStatus
    from gong_authlib.token import Token

HEALTH = ("active", "expired", "reauthorization-required", "untrusted-origin", "unreadable")
NEEDS_ATTENTION = frozenset({"reauthorization-required", "untrusted-origin", "unreadable"})
UNREADABLE = "unreadable"


def health(token: Token, status: CustomerStatus, now: float) -> str:
    """The store's status first (it outlives the token's expiry), then the token's expiry."""
    if not status.active:
        return status.state.replace(" ", "-")  # the store says "reauthorization required"
    return "active" if token.expires_at > now else "expired"
