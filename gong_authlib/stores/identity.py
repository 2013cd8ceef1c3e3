"""A store's identity record: how a worker notices that its store was emptied or replaced.

Redis restarted without persistence, a database restored from an old dump, a store URL
pointed elsewhere: the tokens are gone, yet every worker may still hold its customers' newest
pairs in memory. Each store object claims an identity on first use (written if absent) and
remembers what it saw. A customer missing from a store whose identity is still the one seen
was deleted on purpose; a customer missing from a store whose identity is gone (or another)
was lost with the store, and a worker holding the pair puts it back
(:meth:`StoreIdentity.restore`) and records the reset for ``gong-authlib tokens check``.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass

from gong_authlib.token import Token


@dataclass(frozen=True, slots=True)
class StoreReset:
    """A worker found the store emptied or replaced (``when``: POSIX seconds), and put back
    the pairs it held (``detail`` names what)."""

    when: float
    detail: str


def reset_to_text(reset: StoreReset) -> str:
    """How stores that keep text (a meta row, a Redis key) keep a reset record."""
    return json.dumps({"when": reset.when, "detail": reset.detail})


def reset_from_text(text: str | bytes | None) -> StoreReset | None:
    if text is None:
        return None
    try:
        data = json.loads(text)
        return StoreReset(float(data["when"]), str(data["detail"]))
    except (ValueError, TypeError, KeyError):
        return StoreReset(0.0, "a reset record this version cannot read")


def new_identity() -> str:
    import uuid  # here, not at import: uuid loads platform, about 2 ms of every cold start

    return uuid.uuid4().hex


class StoreIdentity(ABC):
    """The identity record and the reset record, kept in the shared backend."""

    _identity_seen: str | None = None

    @abstractmethod
    def store_identity(self) -> str | None:
        """The identity recorded in the store, or None if there is none (emptied or new)."""

    @abstractmethod
    def claim_identity(self, candidate: str) -> str:
        """Record ``candidate`` as the store's identity unless one is recorded; return the
        one recorded now (atomically: of two claims, one wins and both see it)."""

    @abstractmethod
    def restore(self, customer: str, token: Token) -> bool:
        """Store ``token`` only if no token is stored for the customer; True if written."""

    @abstractmethod
    def record_reset(self, reset: StoreReset) -> None:
        """Keep ``reset`` (the latest one stands) until :meth:`clear_reset`."""

    @abstractmethod
    def reset_record(self) -> StoreReset | None:
        """The reset recorded, or None."""

    @abstractmethod
    def clear_reset(self) -> None:
        """Forget the reset record (an operator has seen it)."""

    def identity_seen(self) -> str:
        """The identity this store object saw on first use, claimed then if absent."""
        seen = self._identity_seen
        if seen is None:
            seen = self._identity_seen = self.claim_identity(new_identity())
        return seen

    def was_reset(self) -> bool:
        """True if the identity seen on first use is no longer the store's (emptied or
        replaced since)."""
        seen = self._identity_seen
        return seen is not None and self.store_identity() != seen

    def reclaim_identity(self) -> str:
        """After a reset: claim (or adopt) the store's new identity as the one seen."""
        self._identity_seen = self.claim_identity(new_identity())
        return self._identity_seen
