"""What a store knows about a customer beyond its token: active, or why not.

``reauthorization required`` means Gong answered ``invalid_grant`` (with when and Gong's
reason); ``untrusted origin`` means the token's base URL is not trusted by the client that
refreshed it. Every store records statuses for every process sharing it, so after one
``invalid_grant`` no worker asks Gong again until a new token is ``put``, which clears it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

ACTIVE = "active"
REAUTHORIZATION_REQUIRED = "reauthorization required"
UNTRUSTED_ORIGIN = "untrusted origin"
STATUSES = (ACTIVE, REAUTHORIZATION_REQUIRED, UNTRUSTED_ORIGIN)
# Gong's reason text is kept, but bounded: it is printed by `tokens list`.
MAX_REASON_LENGTH = 500


@dataclass(frozen=True, slots=True)
class CustomerStatus:
    """What the store knows about a customer beyond its token.

    ``state`` is one of :data:`STATUSES`; ``since`` (POSIX seconds) and ``reason`` (Gong's
    words for ``invalid_grant``, or why an origin is untrusted) accompany the others.
    """

    state: str = ACTIVE
    since: float | None = None
    reason: str | None = None

    @property
    def active(self) -> bool:
        return self.state == ACTIVE


ACTIVE_STATUS = CustomerStatus()


def check_status(state: str) -> str:
    if state not in STATUSES:
        raise ValueError(f"unknown customer status {state!r}; one of {', '.join(STATUSES)}")
    return state


def status_from_row(state: str | None, since: float | None, reason: str | None) -> CustomerStatus:
    """A status from what a store kept: nothing recorded means ``active``."""
    if not state or state == ACTIVE:
        return ACTIVE_STATUS
    return CustomerStatus(state, since, reason)


def new_status(state: str, reason: str | None, since: float | None) -> CustomerStatus:
    """The status a ``set_status`` call records (checked, timestamped, reason bounded)."""
    if check_status(state) == ACTIVE:
        return ACTIVE_STATUS
    short = (
        reason
        if reason is None or len(reason) <= MAX_REASON_LENGTH
        else reason[:MAX_REASON_LENGTH] + "…"
    )
    return CustomerStatus(state, time.time() if since is None else since, short)
