"""The contracts a token store keeps, each one whole: a store cannot half-keep them.

A :class:`TokenStore` is seven contracts, and a fleet depends on every one of them being kept
in the shared backend, not in one process's memory:

=======================  ==============================================  =======================
contract                 what it is for                                  abstract methods
=======================  ==============================================  =======================
:class:`TokenRecords`    one token set per customer and its refresh      ``get`` ``put``
                         lock, so a single-use refresh token is spent    ``delete`` ``customers``
                         once (the lock has a *lease*: a dead holder's   ``location``
                         lock frees itself)                              ``_try_lease``
                                                                         ``_renew_lease``
                                                                         ``_release_lease``
:class:`StatusRecords`   each customer's status (``reauthorization       ``status``
                         required`` after ``invalid_grant``), so no      ``set_status``
                         worker asks Gong again for a revoked customer;  ``newest_issue``
                         and the newest issue time ever stored, so a
                         row written back to an older one is seen
:class:`StateRecords`    OAuth states, taken atomically once, so a       ``_put_state``
                         callback is accepted once across every worker   ``_take_state``
                                                                         ``_purge_states``
:class:`RateBudget`      Gong's per-company rate budget, so every        ``rate_reserve``
                         worker paces by one budget                      ``rate_pause``
                                                                         ``rate_paused_for``
:class:`RefreshIntents`  a refresh token being spent, announced before   ``open_intent``
                         the token call, so no worker presents it again  ``intent``
                         while its new pair is on the way                ``close_intent``
                         (stores/intents.py)                             ``settle``
:class:`StoreIdentity`   the store's identity, so a store emptied or     ``store_identity``
                         replaced is noticed and refilled from memory    ``claim_identity``
                         (stores/identity.py)                            ``restore``
                                                                         ``record_reset``
                                                                         ``reset_record``
                                                                         ``clear_reset``
``WebhookKeyRecords``    each customer's webhook public keys, so every   ``_put_webhook_key``
                         worker verifies Gong's deliveries with the      ``_webhook_key_rows``
                         keys the admin added (several: rotation, rules) ``_delete_webhook_key``
                                                                         ``_webhook_key_owners``
                                                                         ``_reseal_webhook_key``
=======================  ==============================================  =======================

Every method a contract needs is abstract: a backend that implements tokens and leases only
(as a first DynamoDB store would) cannot be constructed, and the error names what it lacks.
Keeping a contract in this process only is right for exactly one store, the in-memory one,
which says so by deriving from :class:`~gong_authlib.stores.process_local.ProcessLocalRateBudget`.
:class:`SteppedRateBudget` serves stores that can run a step atomically (SQLite, PostgreSQL):
they supply ``_rate_update`` and get the three rate methods.

The lease is short (:data:`DEFAULT_LEASE`, seconds) and renewed while the refresh runs
(:meth:`Lease.renew`), so a holder that dies costs its customer's callers seconds; what a short
lease would expose (a store outage after Gong answered outlasting it) the refresh intent
guards. Every store also serves as an OAuth state store
(:class:`~gong_authlib.oauth.state.StateStore`): ``issue`` keeps a state under its hash for
Gong's 10-minute code lifetime, and ``consume`` takes it in one atomic step
(``DELETE … RETURNING``, Redis ``GETDEL``).
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Self, TypeVar

from gong_authlib.clock import Clock, system_clock
from gong_authlib.errors import StateError, TokenStoreError
from gong_authlib.gong.limits import CODE_LIFETIME_SECONDS
from gong_authlib.logs import get_logger
from gong_authlib.safe_text import customer_problem
from gong_authlib.stores.codec import TokenCodec
from gong_authlib.stores.identity import StoreIdentity
from gong_authlib.stores.intents import RefreshIntents
from gong_authlib.stores.status import CustomerStatus, check_status
from gong_authlib.token import Token

# OAuth states, webhook keys, leases and the rate budget's step load with their first use
# (issue 24): a cold start that only reads tokens does not pay for their modules (and
# dataclasses).
if TYPE_CHECKING:
    from gong_authlib.oauth.state import PendingAuthorization
    from gong_authlib.stores.leases import Lease
    from gong_authlib.stores.rate_budget import Budget, RateState, Reservation
    from gong_authlib.stores.webhook_keys import WebhookKey

log = get_logger("stores")
T = TypeVar("T")
# One step of the rate budget: (state, now) -> (new state, answer); see stores/rate_budget.py.
RateStep = Callable[["RateState", float], tuple["RateState", T]]

# Short, and renewed every third of it while a token call runs: a killed holder stalls its
# customer's callers this long at most (the refresh intent, not the lease, covers a store
# outage after Gong answered).
DEFAULT_LEASE = 10.0

# Stores alive in this process: a forked child gets fresh in-process locks (a lock held by a
# parent thread at fork() time would otherwise stay held forever in the child).
_LIVE_STORES: weakref.WeakSet[TokenRecords] = weakref.WeakSet()


def _reset_locks_in_child() -> None:
    for store in list(_LIVE_STORES):
        store._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_locks_in_child)


def check_customer(customer: str) -> str:
    """Customer names are keys in files, Redis and SQL: non-empty text without control chars."""
    problem = customer_problem(customer)
    if problem is not None:
        raise ValueError(problem)
    return customer


class TokenRecords(ABC):
    """Tokens and refresh leases. Implementations must be safe to share across threads."""

    def __init__(self) -> None:
        self._thread_locks: dict[str, threading.Lock] = {}
        self._thread_locks_guard = threading.Lock()
        _LIVE_STORES.add(self)

    def _after_fork_in_child(self) -> None:
        """Forget in-process locks: in the child, no thread holds them."""
        self._thread_locks = {}
        self._thread_locks_guard = threading.Lock()

    @abstractmethod
    def get(self, customer: str) -> Token | None:
        """The customer's token, or None if none is stored. TokenStoreError if unreadable."""

    @abstractmethod
    def put(self, customer: str, token: Token) -> None:
        """Store (replace) the customer's token atomically and durably."""

    @abstractmethod
    def delete(self, customer: str) -> bool:
        """Forget the customer's token; True if there was one."""

    @abstractmethod
    def customers(self) -> list[str]:
        """Every customer with a stored token, sorted."""

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the store is, for messages: never a password."""

    @abstractmethod
    def _try_lease(self, customer: str, owner: str, lease: float) -> bool:
        """Atomically take ``customer``'s lease for ``owner`` if it is free or expired."""

    @abstractmethod
    def _renew_lease(self, customer: str, owner: str, lease: float) -> bool:
        """Atomically push ``owner``'s lease to ``lease`` seconds from now; False if another
        owner holds it now."""

    @abstractmethod
    def _release_lease(self, customer: str, owner: str) -> None:
        """Give the lease back, only if ``owner`` still holds it."""

    def lock(
        self, customer: str, *, lease: float = DEFAULT_LEASE, timeout: float | None = None
    ) -> AbstractContextManager[Lease]:
        """Hold the customer's refresh lock across threads, processes (and machines, for
        shared stores). Waits up to ``timeout`` (default: ``lease``) and raises
        TokenStoreError if it cannot be had: callers must never refresh without it.

        Yields a :class:`Lease` the holder can ``renew()`` while its work runs long.
        Stores implement the atomic primitives; the waiting is the same for all.
        """
        from gong_authlib.stores.leases import leased

        check_customer(customer)
        return leased(
            customer=customer,
            try_acquire=lambda owner: self._try_lease(customer, owner, lease),
            release=lambda owner: self._release_lease(customer, owner),
            lease=lease,
            timeout=timeout,
            store_name=self.location,
            renew=lambda owner, duration: self._renew_lease(customer, owner, duration),
        )

    def thread_lock(self, customer: str) -> threading.Lock:
        """The in-process lock for ``customer``, shared by every GongAuth on this store."""
        with self._thread_locks_guard:
            lock = self._thread_locks.get(customer)
            if lock is None:
                lock = self._thread_locks[customer] = threading.Lock()
            return lock

    def rotate_encryption(self, *, lease: float = DEFAULT_LEASE) -> int:
        """Re-write every token with the newest encryption key; returns how many.

        Each rewrite happens under the customer's refresh lock, so it cannot race a refresh.
        """
        rewritten = 0
        for customer in self.customers():
            with self.thread_lock(customer), self.lock(customer, lease=lease):
                token = self.get(customer)
                if token is not None:
                    self.put(customer, token)
                    rewritten += 1
        self.erase_old_copies()
        return rewritten

    def erase_old_copies(self) -> None:  # noqa: B027 - nothing to do where nothing is kept
        """Have the backend drop the bytes of rows it has replaced or deleted.

        PostgreSQL keeps dead rows in its table files until a vacuum, and SQLite's write-ahead
        log keeps earlier pages until a checkpoint: after a key rotation those copies would
        still hold tokens under the retired key (or in plaintext, after a migration). The
        stores whose files keep them run this after ``rotate_encryption()`` and ``delete()``.
        Backups, replicas and WAL archives are outside its reach.
        """

    def _erase_after_delete(self) -> None:
        """``erase_old_copies()`` after a delete that is already done: a failure (a table
        busy past the statement timeout) is logged, not raised, and the next one retries."""
        try:
            self.erase_old_copies()
        except TokenStoreError as exc:
            log.warning("deleted, but old copies stay on disk for now: %s", exc)

    def close(self) -> None:  # noqa: B027 - optional for stores that hold nothing open
        """Release connections; the store must not be used afterwards."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class StatusRecords(ABC):
    """Customer statuses, kept where every worker sharing the store reads them."""

    @abstractmethod
    def status(self, customer: str) -> CustomerStatus:
        """The customer's status; ``active`` when nothing is recorded (or no token)."""

    @abstractmethod
    def set_status(
        self,
        customer: str,
        state: str,
        *,
        reason: str | None = None,
        since: float | None = None,
    ) -> None:
        """Record ``state`` for a customer whose token is stored (``put`` clears it)."""

    @abstractmethod
    def newest_issue(self, customer: str) -> float | None:
        """The latest ``Token.issued_at`` ever ``put`` for the customer (None: none since it
        was deleted, or since the store kept this).

        A high-water mark kept apart from the token's row and raised atomically with each
        ``put``: a stored token issued before it is a row written back (a rollback, by a
        restore or by someone who can write the store), which nothing in an encrypted row
        can reveal by itself. ``tokens list`` flags it. Someone who rewrites the mark too
        hides the rollback: this is a tripwire, not a guarantee. ``delete`` forgets it.
        """


class StateRecords(ABC):
    """OAuth states: issued by one worker, consumed once by whichever receives the callback.

    Records are sealed with the store's codec (``self._codec``; the library's stores set it
    from their ``encryption_keys``), so in an encrypted store a record someone planted or
    altered is refused (:meth:`~gong_authlib.stores.codec.TokenCodec.open_state`). A backend
    that sets no codec keeps states in plaintext, as an unencrypted store does.
    """

    _codec: TokenCodec = TokenCodec()

    def __init__(self) -> None:
        # Judges state expiry; tests put a FakeClock here instead of sleeping.
        self.state_clock: Clock = system_clock
        self.state_lifetime: float = CODE_LIFETIME_SECONDS

    def issue(
        self,
        *,
        customer: str | None,
        redirect_uri: str,
        scopes: tuple[str, ...] = (),
        binding: str = "",
    ) -> str:
        """A new state for an authorize URL, bound to ``redirect_uri``, ``customer`` and
        (for web flows) the browser's nonce hash ``binding``. Expired states are purged."""
        from gong_authlib.oauth.state import PendingAuthorization, new_state, state_key

        if customer is not None:
            check_customer(customer)
        state = new_state()
        now = self.state_clock()
        pending = PendingAuthorization(customer, redirect_uri, tuple(scopes), now, binding)
        self._purge_states(now)
        key = state_key(state)
        self._put_state(
            key, self._codec.seal_state(key, pending.to_bytes()), now + self.state_lifetime
        )
        return state

    def consume(self, state: str, *, redirect_uri: str) -> PendingAuthorization:
        """What ``state`` was issued for; it is gone afterwards, for every process. Raises
        StateError for a missing, unknown, used or expired state or another redirect URI."""
        from gong_authlib.oauth.state import (
            PendingAuthorization,
            check_pending,
            require_state,
            state_key,
            unknown_state,
        )

        key = state_key(require_state(state))
        stored = self._take_state(key)
        if stored is None:
            raise unknown_state()
        try:
            record = self._codec.open_state(key, stored)
        except StateError:
            log.warning(
                "an OAuth state record failed its seal check: refused (someone wrote the "
                "token store without its key, or a key was dropped while the state waited)"
            )
            raise
        return check_pending(
            PendingAuthorization.from_bytes(record),
            now=self.state_clock(),
            lifetime=self.state_lifetime,
            redirect_uri=redirect_uri,
        )

    def purge_states(self) -> int:
        """Forget every expired state; returns how many. ``issue`` does it as it goes."""
        return self._purge_states(self.state_clock())

    @abstractmethod
    def _put_state(self, key: str, data: bytes, expires_at: float) -> None:
        """Keep ``data`` under ``key`` until ``expires_at`` (the store's state clock)."""

    @abstractmethod
    def _take_state(self, key: str) -> bytes | None:
        """Atomically read and delete the state stored under ``key``."""

    @abstractmethod
    def _purge_states(self, now: float) -> int:
        """Delete every state that expired before ``now``; returns how many."""


class RateBudget(ABC):
    """Gong's rate budget per company, shared by every worker on the store.

    Its pause also keeps the back-off of a client secret Gong refused, under a key that is
    no customer's (:mod:`gong_authlib.tokens.secret_pause`).
    """

    @abstractmethod
    def rate_reserve(
        self, customer: str, budget: Budget, *, now: float | None = None
    ) -> Reservation:
        """Atomically reserve ``customer``'s next call slot under ``budget``. ``now`` is the
        caller's clock; None means the store's own (the server's, for shared stores)."""

    @abstractmethod
    def rate_pause(self, customer: str, seconds: float, *, now: float | None = None) -> None:
        """Atomically make every worker wait ``seconds`` before ``customer``'s next call."""

    @abstractmethod
    def rate_paused_for(self, customer: str, *, now: float | None = None) -> float:
        """Seconds left of ``customer``'s pause (0 when none)."""


class SteppedRateBudget(RateBudget):
    """The rate budget for stores that can run one pure step atomically (``_rate_update``)."""

    def rate_reserve(
        self, customer: str, budget: Budget, *, now: float | None = None
    ) -> Reservation:
        from gong_authlib.stores.rate_budget import Reservation, reserve

        check_customer(customer)
        if now is not None:  # the caller's clock rules; nothing to correct
            return self._rate_update(customer, now, lambda state, at: reserve(state, at, budget))
        decided: list[float] = []

        def step(state: RateState, at: float) -> tuple[RateState, Reservation]:
            decided.append(time.monotonic())
            return reserve(state, at, budget)

        reservation = self._rate_update(customer, None, step)
        if reservation.refused is not None or not decided:
            return reservation
        # The wait was measured when the store read its clock; the write, the commit and the
        # way back took time since, which the caller must not spend again: a call sent late
        # squeezes the next ones into Gong's window.
        spent = time.monotonic() - decided[-1]
        return Reservation(max(0.0, reservation.wait - spent))

    def rate_pause(self, customer: str, seconds: float, *, now: float | None = None) -> None:
        from gong_authlib.stores.rate_budget import pause

        check_customer(customer)
        self._rate_update(customer, now, lambda state, at: (pause(state, at, seconds), None))

    def rate_paused_for(self, customer: str, *, now: float | None = None) -> float:
        from gong_authlib.stores.rate_budget import paused_for

        check_customer(customer)
        return self._rate_update(customer, now, lambda state, at: (state, paused_for(state, at)))

    @abstractmethod
    def _rate_update(self, customer: str, now: float | None, step: RateStep[T]) -> T:
        """Run ``step`` on ``customer``'s rate state atomically and keep the state it returns
        (``now`` None: the store's own clock)."""


class WebhookKeyRecords(ABC):
    """Each customer's webhook public keys, for verifying Gong's signed deliveries.

    Several per customer: whether Gong's key is per company or per automation rule is not
    settled, and a key is rotated by adding the new one before removing the old. Keys are
    named by their fingerprint (:mod:`gong_authlib.stores.webhook_keys`) and belong to the
    customer, not to its token: ``delete(customer)`` leaves them.

    A key is public, but whoever adds one can sign deliveries that will be accepted: in an
    encrypted store each key is sealed with the store's keys together with its customer and
    fingerprint (as OAuth states are, :meth:`TokenCodec.seal_state`), so a key planted or
    moved by someone who can write the store without its encryption key is ignored (and
    logged). ``rotate_encryption()`` re-seals them with the newest key.
    """

    _codec: TokenCodec = TokenCodec()

    def add_webhook_key(
        self, customer: str, public_key: str | bytes, *, added_at: float | None = None
    ) -> WebhookKey:
        """Keep ``public_key`` (as Gong shows it, or PEM) for ``customer``; the stored key.

        Adding a key that is already there changes nothing. KeyProblem (a ValueError) for
        text that is not an RSA public key of 2048 bits or more.
        """
        from gong_authlib.stores.webhook_keys import WebhookKey

        check_customer(customer)
        key = WebhookKey.parse(public_key, added_at=time.time() if added_at is None else added_at)
        if self._put_webhook_key(
            customer, key.fingerprint, self._sealed_webhook_key(customer, key), key.added_at
        ):
            return key
        return next(k for k in self.webhook_keys(customer) if k.fingerprint == key.fingerprint)

    def webhook_keys(self, customer: str) -> list[WebhookKey]:
        """``customer``'s keys, oldest first (an empty list when it has none)."""
        check_customer(customer)
        opened = (
            self._webhook_key_from_row(customer, *row) for row in self._webhook_key_rows(customer)
        )
        return sorted(
            (key for key in opened if key is not None), key=lambda k: (k.added_at, k.fingerprint)
        )

    def remove_webhook_key(self, customer: str, fingerprint: str) -> bool:
        """Forget the key named ``fingerprint`` (with or without ``sha256:``); True if it was
        there."""
        from gong_authlib.stores.webhook_keys import normal_fingerprint

        check_customer(customer)
        return self._delete_webhook_key(customer, normal_fingerprint(fingerprint))

    def webhook_key_customers(self) -> list[str]:
        """Every customer with at least one stored key, sorted."""
        return sorted(self._webhook_key_owners())

    def reseal_webhook_keys(self) -> int:
        """Seal every readable key again with the newest encryption key; returns how many."""
        resealed = 0
        for customer in self.webhook_key_customers():
            for key in self.webhook_keys(customer):
                sealed = self._sealed_webhook_key(customer, key)
                # Only rewrites a row still there: a key removed meanwhile stays removed.
                resealed += self._reseal_webhook_key(customer, key.fingerprint, sealed)
        return resealed

    @staticmethod
    def _webhook_seal_name(customer: str, fingerprint: str) -> str:
        # The fingerprint has a fixed form without spaces, so the name is unambiguous.
        return f"webhook-key {fingerprint} {customer}"

    def _sealed_webhook_key(self, customer: str, key: WebhookKey) -> str:
        name = self._webhook_seal_name(customer, key.fingerprint)
        return self._codec.seal_state(name, key.public_key.encode("ascii")).decode("ascii")

    def _webhook_key_from_row(
        self, customer: str, fingerprint: str, stored: str, added_at: float
    ) -> WebhookKey | None:
        """The key a row holds, or None (logged) for one this store did not seal for
        ``customer`` under ``fingerprint``: never used to verify anything."""
        from gong_authlib.stores.webhook_keys import WebhookKey, key_fingerprint

        try:
            text = self._codec.open_state(
                self._webhook_seal_name(customer, fingerprint), stored.encode()
            )
            key = WebhookKey(fingerprint, text.decode("ascii"), added_at)
            if key_fingerprint(key.der) == fingerprint:
                return key
        except (StateError, ValueError):  # not sealed by our keys; not text; not base64
            pass
        log.warning(
            "a webhook key stored for customer %r (%s) was not written by this store (planted, "
            "moved, or sealed with a key no longer configured): ignored",
            customer,
            fingerprint,
        )
        return None

    @abstractmethod
    def _put_webhook_key(
        self, customer: str, fingerprint: str, stored: str, added_at: float
    ) -> bool:
        """Atomically add the row unless ``customer`` has one for ``fingerprint``; True if it
        was added."""

    @abstractmethod
    def _reseal_webhook_key(self, customer: str, fingerprint: str, stored: str) -> bool:
        """Atomically replace the stored text of ``customer``'s row for ``fingerprint`` if the
        row exists (never creating one); True if it did."""

    @abstractmethod
    def _webhook_key_rows(self, customer: str) -> list[tuple[str, str, float]]:
        """``(fingerprint, stored text, added_at)`` of every row of ``customer``'s, any order."""

    @abstractmethod
    def _delete_webhook_key(self, customer: str, fingerprint: str) -> bool:
        """Delete ``customer``'s row for ``fingerprint``; True if there was one."""

    @abstractmethod
    def _webhook_key_owners(self) -> list[str]:
        """Every customer with at least one stored key."""


_CONTRACTS: tuple[tuple[str, type[ABC]], ...] = (
    ("tokens and leases", TokenRecords),
    ("customer statuses", StatusRecords),
    ("OAuth states", StateRecords),
    ("the rate budget", RateBudget),
    ("the rate budget", SteppedRateBudget),
    ("refresh intents", RefreshIntents),
    ("the store identity", StoreIdentity),
    ("webhook keys", WebhookKeyRecords),
)


def _unkept_contracts(cls: type) -> list[str]:
    missing = set(getattr(cls, "__abstractmethods__", ()))
    unkept: dict[str, list[str]] = {}
    for label, contract in _CONTRACTS:
        names = sorted(missing & set(getattr(contract, "__abstractmethods__", ())))
        if names:
            unkept.setdefault(label, []).extend(name for name in names if name not in unkept)
    return [f"{label} ({', '.join(sorted(set(names)))})" for label, names in unkept.items()]


class TokenStore(
    TokenRecords,
    StatusRecords,
    StateRecords,
    RateBudget,
    RefreshIntents,
    StoreIdentity,
    WebhookKeyRecords,
):
    """Where customers' tokens live: every contract of this module, kept whole.

    Subclass it and implement every abstract method in the shared backend. A class that
    leaves one out cannot be constructed: the ``TypeError`` names each contract it lacks.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        unkept = _unkept_contracts(cls)
        if unkept:
            raise TypeError(
                f"{cls.__name__} does not keep {'; '.join(unkept)}. A token store keeps every "
                "contract of gong_authlib.stores.contracts in its shared backend, or workers "
                "sharing it would each keep their own (a revoked customer asked again, the "
                "rate budget spent once per process)."
            )
        return super().__new__(cls)

    def __init__(self) -> None:
        TokenRecords.__init__(self)
        StateRecords.__init__(self)

    def rotate_encryption(self, *, lease: float = DEFAULT_LEASE) -> int:
        """Re-write every token with the newest encryption key (returns how many), then
        re-seal the customers' webhook keys with it."""
        rewritten = TokenRecords.rotate_encryption(self, lease=lease)
        self.reseal_webhook_keys()
        return rewritten

    def get_with_status(self, customer: str) -> tuple[Token | None, CustomerStatus]:
        """The token and the status together (one round trip in stores that can)."""
        return self.get(customer), self.status(customer)

    def statuses(self) -> dict[str, CustomerStatus]:
        """Every customer with a stored token, and its status."""
        return {customer: self.status(customer) for customer in self.customers()}

    def customers_with_status(self, state: str) -> list[str]:
        """The customers in ``state``, sorted (``tokens list`` shows them)."""
        check_status(state)
        return sorted(name for name, status in self.statuses().items() if status.state == state)
