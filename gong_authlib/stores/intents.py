"""In-flight refresh intents: a refresh token being spent is announced before Gong is asked.

Gong's refresh tokens are single-use. Between the token call leaving and the new pair being
stored, the store still holds a refresh token that may already be spent. A lease keeps other
workers out while its holder is alive and reaching the store; an outage that outlasts the
lease does not. So the holder first records an intent on the customer's row (who, which
refresh token by its fingerprint, and until when), and:

* a worker that gets the lock and finds another's open intent for the refresh token it would
  present does not present it: it waits for the owner's write, and presents it only once the
  intent's deadline has passed (the owner died, or never reached the store again);
* the owner's new pair is written with :meth:`RefreshIntents.settle`: in one round trip, and
  only while an intent for the token it spent is still recorded (a new authorization, a
  ``delete`` or another settled refresh clears it, and then the pair is not written over
  them);
* ``put`` and ``delete`` clear the intent: a new authorization supersedes any refresh in
  flight.

The deadline is POSIX seconds on the writer's clock: workers whose clocks disagree by more
than the margin between lease and deadline judge it differently (the default leaves tens of
seconds).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from gong_authlib.token import Token


@dataclass(frozen=True, slots=True)
class RefreshIntent:
    """Who is spending which refresh token (``spent``: its SHA-256 fingerprint), until when."""

    owner: str
    spent: str
    deadline: float

    def is_open(self, now: float) -> bool:
        return now < self.deadline


class RefreshIntents(ABC):
    """Refresh intents, kept on the customer's record where every worker reads them."""

    @abstractmethod
    def open_intent(self, customer: str, intent: RefreshIntent) -> bool:
        """Record ``intent`` on the customer's stored token (replacing any); False if no
        token is stored."""

    @abstractmethod
    def intent(self, customer: str) -> RefreshIntent | None:
        """The intent recorded for the customer, open or not; None when there is none."""

    @abstractmethod
    def close_intent(self, customer: str, owner: str) -> None:
        """Clear the customer's intent if ``owner`` recorded it (a refresh that granted
        nothing)."""

    @abstractmethod
    def settle(self, customer: str, token: Token, *, spent: str) -> bool:
        """Store ``token`` only if an intent for the refresh token ``spent`` is recorded;
        clear it and the status with the write. One atomic round trip. False (nothing
        written) when the store moved on: a new authorization, a delete, another settle."""
