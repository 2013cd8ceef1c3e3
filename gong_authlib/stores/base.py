"""The TokenStore interface every store implements, and the refresh-lock contract.

A store keeps one token set per customer and a per-customer *refresh lock*. The lock is what
makes refreshes happen once: GongAuth refreshes only while holding it, so two workers never
spend the same single-use refresh token. The lock has a *lease*: if its holder dies (``kill
-9``, a lost machine), the lock frees itself when the lease runs out, and others carry on.
The lease must outlast a refresh's worst case (connect and read timeouts, retries), or be
renewed while the refresh runs (:meth:`Lease.renew`); the default of 120 seconds does for the
default client timeouts.

Every store also records each customer's *status* (:class:`CustomerStatus`): ``active``,
``reauthorization required`` (Gong answered ``invalid_grant``: with when and Gong's reason)
or ``untrusted origin`` (the token's base URL is not trusted by the client that refreshed
it). GongAuth reads it on the stale path only, so after one ``invalid_grant`` no process asks
Gong again until a new token is ``put``, which clears it.

Every store is also an OAuth :class:`~gong_authlib.state.StateStore`: ``issue`` keeps a state
under its hash for Gong's 10-minute code lifetime, and ``consume`` takes it with one atomic
step (``DELETE … RETURNING``, Redis ``GETDEL``), so a callback is accepted once across every
process and machine sharing the store, whichever worker issued it.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Self, TypeVar

from gong_authlib.clock import Clock, system_clock
from gong_authlib.customer_names import customer_problem
from gong_authlib.state import (
    CODE_LIFETIME_SECONDS,
    PendingAuthorization,
    check_pending,
    new_state,
    require_state,
    state_key,
    unknown_state,
)
from gong_authlib.stores.leases import Lease, leased
from gong_authlib.stores.ratelimit import (
    Budget,
    RateState,
    Reservation,
    pause,
    paused_for,
    reserve,
)
from gong_authlib.token import Token

T = TypeVar("T")
# One step of the rate limiter: (state, now) -> (new state, answer); see stores/ratelimit.py.
RateStep = Callable[[RateState, float], tuple[RateState, T]]

DEFAULT_LEASE = 120.0

ACTIVE = "active"
REAUTHORIZATION_REQUIRED = "reauthorization required"
UNTRUSTED_ORIGIN = "untrusted origin"
STATUSES = (ACTIVE, REAUTHORIZATION_REQUIRED, UNTRUSTED_ORIGIN)


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


# Stores alive in this process: a forked child gets fresh in-process locks (a lock held by a
# parent thread at fork() time would otherwise stay held forever in the child).
_LIVE_STORES: weakref.WeakSet[TokenStore] = weakref.WeakSet()


def _reset_locks_in_child() -> None:
    for store in list(_LIVE_STORES):
        store._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_locks_in_child)


class TokenStore(ABC):
    """Where customers' tokens live. Implementations must be safe to share across threads."""

    def __init__(self) -> None:
        self._thread_locks: dict[str, threading.Lock] = {}
        self._thread_locks_guard = threading.Lock()
        # Judges state expiry; tests put a FakeClock here instead of sleeping.
        self.state_clock: Clock = system_clock
        self.state_lifetime: float = CODE_LIFETIME_SECONDS
        self._rate_states: dict[str, RateState] = {}
        self._rate_guard = threading.Lock()
        # Statuses for stores that do not persist them (custom subclasses); ours override.
        self._memory_statuses: dict[str, CustomerStatus] = {}
        _LIVE_STORES.add(self)

    def _after_fork_in_child(self) -> None:
        """Forget in-process locks: in the child, no thread holds them."""
        self._thread_locks = {}
        self._thread_locks_guard = threading.Lock()
        self._rate_guard = threading.Lock()

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
    def _release_lease(self, customer: str, owner: str) -> None:
        """Give the lease back, only if ``owner`` still holds it."""

    def _renew_lease(self, customer: str, owner: str, lease: float) -> bool:
        """Atomically push ``owner``'s lease to ``lease`` seconds from now; False if another
        owner holds it now (or the store cannot renew)."""
        return False

    def lock(
        self, customer: str, *, lease: float = DEFAULT_LEASE, timeout: float | None = None
    ) -> AbstractContextManager[Lease]:
        """Hold the customer's refresh lock across threads, processes (and machines, for
        shared stores). Waits up to ``timeout`` (default: ``lease``) and raises
        TokenStoreError if it cannot be had: callers must never refresh without it.

        Yields a :class:`Lease` the holder can ``renew()`` while its work runs long.
        Stores implement the atomic primitives; the waiting is the same for all.
        """
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

    # -- customer status -----------------------------------------------------------------

    def status(self, customer: str) -> CustomerStatus:
        """The customer's status; ``active`` when nothing is recorded (or no token)."""
        return self._memory_statuses.get(check_customer(customer), ACTIVE_STATUS)

    def set_status(
        self,
        customer: str,
        state: str,
        *,
        reason: str | None = None,
        since: float | None = None,
    ) -> None:
        """Record ``state`` for a customer whose token is stored (``put`` clears it)."""
        check_customer(customer)
        check_status(state)
        self._memory_statuses[customer] = _status(state, reason, since)

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

    def close(self) -> None:  # noqa: B027 - optional for stores that hold nothing open
        """Release connections; the store must not be used afterwards."""

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
        return rewritten

    # -- OAuth states: every store is a StateStore ----------------------------------------

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
        if customer is not None:
            check_customer(customer)
        state = new_state()
        now = self.state_clock()
        pending = PendingAuthorization(customer, redirect_uri, tuple(scopes), now, binding)
        self._purge_states(now)
        self._put_state(state_key(state), pending.to_bytes(), now + self.state_lifetime)
        return state

    def consume(self, state: str, *, redirect_uri: str) -> PendingAuthorization:
        """What ``state`` was issued for; it is gone afterwards, for every process. Raises
        StateError for a missing, unknown, used or expired state or another redirect URI."""
        raw = self._take_state(state_key(require_state(state)))
        if raw is None:
            raise unknown_state()
        return check_pending(
            PendingAuthorization.from_bytes(raw),
            now=self.state_clock(),
            lifetime=self.state_lifetime,
            redirect_uri=redirect_uri,
        )

    def purge_states(self) -> int:
        """Forget every expired state; returns how many. ``issue`` does it as it goes."""
        return self._purge_states(self.state_clock())

    # Not abstract, so stores written before states existed keep working as token stores.
    def _put_state(self, key: str, data: bytes, expires_at: float) -> None:
        raise NotImplementedError(f"{type(self).__name__} keeps no OAuth states")

    def _take_state(self, key: str) -> bytes | None:
        """Atomically read and delete the state stored under ``key``."""
        raise NotImplementedError(f"{type(self).__name__} keeps no OAuth states")

    def _purge_states(self, now: float) -> int:
        raise NotImplementedError(f"{type(self).__name__} keeps no OAuth states")

    # -- Gong's rate budget, shared by every worker on this store (stores/ratelimit.py) ------

    def rate_reserve(
        self, customer: str, budget: Budget, *, now: float | None = None
    ) -> Reservation:
        """Atomically reserve ``customer``'s next call slot under ``budget``. ``now`` is the
        caller's clock; None means the store's own (the server's, for shared stores)."""
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
        """Atomically make every worker wait ``seconds`` before ``customer``'s next call."""
        check_customer(customer)
        self._rate_update(customer, now, lambda state, at: (pause(state, at, seconds), None))

    def rate_paused_for(self, customer: str, *, now: float | None = None) -> float:
        """Seconds left of ``customer``'s pause (0 when none)."""
        check_customer(customer)
        return self._rate_update(customer, now, lambda state, at: (state, paused_for(state, at)))

    def _rate_update(self, customer: str, now: float | None, step: RateStep[T]) -> T:
        """Run ``step`` on ``customer``'s rate state atomically and keep the state it returns.

        This default keeps the state in this process (right for MemoryTokenStore, and a
        safe fallback for stores that share nothing); shared stores override it with their
        own atomic step so every process and machine shares the budget.
        """
        with self._rate_guard:
            state = self._rate_states.get(customer, RateState())
            new_state, answer = step(state, time.time() if now is None else now)
            self._rate_states[customer] = new_state
            return answer

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _status(state: str, reason: str | None, since: float | None) -> CustomerStatus:
    if state == ACTIVE:
        return ACTIVE_STATUS
    short = reason if reason is None or len(reason) <= 500 else reason[:500] + "…"
    return CustomerStatus(state, time.time() if since is None else since, short)


def status_from_row(state: str | None, since: float | None, reason: str | None) -> CustomerStatus:
    """A status from what a store kept: nothing recorded means ``active``."""
    if not state or state == ACTIVE:
        return ACTIVE_STATUS
    return CustomerStatus(state, since, reason)


def new_status(state: str, reason: str | None, since: float | None) -> CustomerStatus:
    """The status a ``set_status`` call records (checked, timestamped)."""
    return _status(check_status(state), reason, since)


def check_customer(customer: str) -> str:
    """Customer names are keys in files, Redis and SQL: non-empty text without control chars."""
    problem = customer_problem(customer)
    if problem is not None:
        raise ValueError(problem)
    return customer
