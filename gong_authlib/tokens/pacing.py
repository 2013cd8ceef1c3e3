"""RateLimiter: every call waits for its slot of the company's Gong budget, kept in the store.

Gong allows 3 calls a second and 10,000 a day per company, counted over every process and
machine that calls for it. Retrying 429s is not pacing: a crowd of workers that only retries
spends half its calls on 429s and still loses some. So before each call the limiter *reserves
a slot* in the store (one atomic step per store: :mod:`gong_authlib.stores.rate_budget`),
then sleeps until its slot and lets the call go. A 429 pauses every worker through the store.

This module knows nothing of requests or httpx: :class:`RateLimiter` reserves and sleeps, and
each transport's glue calls it before every attempt it sends.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeGuard, cast

from gong_authlib.errors import DailyQuotaExhausted, RateLimitExceeded
from gong_authlib.gong.limits import CALLS_PER_DAY, CALLS_PER_SECOND, DAY
from gong_authlib.logs import get_logger
from gong_authlib.stores.contracts import TokenStore
from gong_authlib.telemetry import waited

if TYPE_CHECKING:  # the budget's module loads with the first reservation (issue 24)
    from gong_authlib.stores.rate_budget import Budget, Reservation

log = get_logger("ratelimit")

# Gong's exact window is not documented: 5% slower than the published rate keeps a strict
# one-second sliding window satisfied despite a few milliseconds of jitter between a slot
# and the request's arrival, and still uses 95% of the budget.
DEFAULT_MARGIN = 0.05
# The longest a call waits for its slot or a pause before failing with RateLimitExceeded.
DEFAULT_MAX_WAIT = 60.0
# A 429 without a Retry-After (Gong always sends one) pauses everyone this long.
DEFAULT_PAUSE = 1.0
# The longest pause a 429 can impose: no Gong budget outlasts its day, so a longer
# Retry-After (a proxy's garbage, an endless one) must not lock a company out for good.
MAX_PAUSE = DAY
# Pauses and waits longer than this are logged at INFO.
LOGGED_WAIT = 1.0
# A sleeping worker checks for a pause this long before its slot (see RateLimiter.acquire).
PRE_CHECK = 0.05


@dataclass(frozen=True)
class RateLimit:
    """A company's Gong budget, as every worker sharing a store will pace it.


    ``per_second`` and ``per_day`` are Gong's limits (3 and 10,000 by default);
    ``margin`` is the fraction of the per-second rate left unused, because Gong's exact
    window is not documented; ``max_wait`` caps how long one call waits for its slot or for
    a 429's ``Retry-After`` before :class:`~gong_authlib.errors.RateLimitExceeded` is
    raised instead (a daily 429 asks for hours). ``overrides`` maps customers with raised
    limits to their ``(per_second, per_day)``.
    """

    per_second: float = CALLS_PER_SECOND
    per_day: int = CALLS_PER_DAY
    margin: float = DEFAULT_MARGIN
    max_wait: float = DEFAULT_MAX_WAIT
    overrides: Mapping[str, tuple[float, int]] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        _check_budget("", self.per_second, self.per_day, self.margin)
        for customer, budget in self.overrides.items():
            if not (isinstance(budget, tuple | list) and len(budget) == 2):
                raise ValueError(
                    f"the override for {customer!r} must be (per_second, per_day), not {budget!r}"
                )
            _check_budget(f"override for {customer!r}: ", *budget, self.margin)
        if not (_is_number(self.margin) and 0 <= self.margin < 1):
            raise ValueError(f"margin is a fraction in [0, 1), not {self.margin!r}")
        if not (_is_number(self.max_wait) and self.max_wait >= 0):
            raise ValueError(f"max_wait must be 0 or more seconds, not {self.max_wait!r}")
        # Frozen means frozen: nobody changes a customer's budget through the caller's dict.
        overrides = {customer: tuple(budget) for customer, budget in self.overrides.items()}
        object.__setattr__(self, "overrides", MappingProxyType(overrides))

    def __reduce__(
        self,
    ) -> tuple[type[RateLimit], tuple[float, int, float, float, dict[str, tuple[float, int]]]]:
        # Picklable for worker processes: a mapping proxy is not, the dict it guards is.
        fields = (self.per_second, self.per_day, self.margin, self.max_wait, dict(self.overrides))
        return (RateLimit, fields)

    def with_override(self, customer: str, *, per_second: float, per_day: int) -> RateLimit:
        """The same policy with ``customer``'s raised (or lowered) limits."""
        return replace(self, overrides={**self.overrides, customer: (per_second, per_day)})

    def budget(self, customer: str) -> Budget:
        """What a reservation for ``customer`` needs to know."""
        from gong_authlib.stores.rate_budget import Budget

        per_second, per_day = self.overrides.get(customer, (self.per_second, self.per_day))
        return Budget(
            interval=1.0 / (per_second * (1.0 - self.margin)),
            per_day=per_day,
            max_wait=self.max_wait,
        )


def _is_number(value: object) -> TypeGuard[float]:
    """A real number (bool is an int to Python, never a rate to us); NaN fails the checks."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_budget(where: str, per_second: object, per_day: object, margin: object) -> None:
    if not (_is_number(per_second) and per_second > 0 and math.isfinite(per_second)):
        raise ValueError(f"{where}per_second must be a positive number, not {per_second!r}")
    if _is_number(margin) and 0 <= margin < 1 and math.isinf(1.0 / (per_second * (1 - margin))):
        raise ValueError(f"{where}per_second is too small: {per_second!r}")
    if not (isinstance(per_day, int) and not isinstance(per_day, bool) and per_day > 0):
        raise ValueError(f"{where}per_day must be a positive integer, not {per_day!r}")


# Gong's published budget: what gong_session and the httpx clients pace by unless told.
DEFAULT_RATE_LIMIT = RateLimit()


class StoreCall:
    """One step of :meth:`RateLimiter.acquiring`: a blocking store call, to run and answer."""

    # A plain slotted class: a dataclass's generated methods (unused here) cost every cold
    # start a compile at import (issue 24).
    __slots__ = ("call",)

    def __init__(self, call: Callable[[], object]) -> None:
        self.call = call


class RateLimiter:
    """Paces calls through ``store`` under ``limit``: call :meth:`acquire` before every
    attempt sent to Gong and :meth:`pause` on every 429. Thread-safe, shares nothing but
    the store."""

    def __init__(
        self,
        store: TokenStore,
        limit: RateLimit | None = None,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.store = store
        self.limit = limit or RateLimit()
        self._clock = clock
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"RateLimiter({self.store!r}, {self.limit!r})"

    @property
    def sleep(self) -> Callable[[float], object]:
        """The blocking sleep :meth:`acquire` uses: ``time.sleep`` unless one was given."""
        return self._sleep

    def now(self) -> float:
        """The limiter's clock (POSIX seconds): what ``retry_at`` values are measured on."""
        return self._clock() if self._clock is not None else time.time()

    def _local(self) -> float:
        """Local time for deadlines: the test's clock, else the monotonic clock."""
        return self._clock() if self._clock is not None else time.monotonic()

    def acquire(self, customer: str) -> float:
        """Wait for ``customer``'s next slot; return the seconds waited.


        Raises RateLimitExceeded (DailyQuotaExhausted for the daily budget) without waiting
        when the slot is further than ``max_wait`` away, and TokenStoreError when the store
        cannot be reached: never an unpaced call.
        """
        budget = self.limit.budget(customer)
        started = self._local()
        reservation = self.store.rate_reserve(customer, budget, now=self._store_now())
        if reservation.wait <= 0 and reservation.refused is None:
            return self._local() - started  # a free slot: the usual case, no steps to drive
        steps = self._waiting(customer, budget, started, reservation)
        try:
            step = next(steps)
            while True:
                if isinstance(step, StoreCall):
                    step = steps.send(step.call())
                else:
                    self._sleep(step)
                    step = steps.send(None)
        except StopIteration as done:
            spent: float = done.value
            return spent

    def acquiring(self, customer: str) -> Generator[float | StoreCall, object, float]:
        """:meth:`acquire` as steps for a driver that is not a thread (an event loop): each
        step is a store call to run (its result is sent back) or seconds to sleep (then
        ``None`` is sent back); the generator returns the seconds waited, or raises as
        :meth:`acquire` does. :meth:`acquire` drives the same steps with blocking calls and
        this limiter's ``sleep``; the async httpx client runs the store calls in a worker
        thread and sleeps on the loop, so both front ends pace alike."""
        budget = self.limit.budget(customer)
        started = self._local()
        reservation = yield self._reserving(customer, budget)
        return (yield from self._waiting(customer, budget, started, reservation))

    def _reserving(self, customer: str, budget: Budget) -> StoreCall:
        return StoreCall(lambda: self.store.rate_reserve(customer, budget, now=self._store_now()))

    def _waiting(
        self, customer: str, budget: Budget, started: float, reservation: object
    ) -> Generator[float | StoreCall, object, float]:
        """From a reservation's answer to the slot: refuse, or sleep on it (looking for a
        pause shortly before), reserving again if a pause moved it."""
        while True:
            reservation = cast("Reservation", reservation)  # what a reserving step answers
            deadline = self._local() + reservation.wait
            if reservation.refused is not None:
                self._refuse(customer, reservation)
            if reservation.wait <= 0:
                return self._local() - started
            if reservation.wait > LOGGED_WAIT:
                log.info(
                    "pacing customer %s: waiting %.1fs for Gong's rate", customer, reservation.wait
                )
            # A 429 may pause everyone while this worker sleeps on its slot, so it looks
            # again shortly before the slot: early enough that the look's own latency does
            # not make the call late, since a late call squeezes the next ones into Gong's
            # window as surely as an early one.
            look = min(PRE_CHECK, reservation.wait / 2)
            yield from self._sleeping_until(deadline - look)
            looking = StoreCall(lambda: self.store.rate_paused_for(customer, now=self._store_now()))
            paused = cast("float", (yield looking))
            if paused > deadline - self._local() + 0.001:  # a pause beyond this slot
                reservation = yield self._reserving(customer, budget)
                continue
            yield from self._sleeping_until(deadline)
            spent = self._local() - started
            waited(customer, spent)  # a free slot (above) records nothing
            return spent

    def _store_now(self) -> float | None:
        """The time a store call is given: the test's clock, else None (the store's own)."""
        return self._clock() if self._clock is not None else None

    def _sleeping_until(self, deadline: float) -> Generator[float, object, None]:
        remaining = deadline - self._local()
        if remaining > 0:
            yield remaining

    def pause(self, customer: str, seconds: float | None) -> None:
        """Gong answered 429 with ``Retry-After: seconds``: every worker waits that long
        (at most :data:`MAX_PAUSE`, a day; None or NaN means :data:`DEFAULT_PAUSE`)."""
        if seconds is None or math.isnan(seconds):
            seconds = DEFAULT_PAUSE
        seconds = min(max(0.0, seconds), MAX_PAUSE)
        log.info("Gong answered 429 for customer %s: pausing every worker %.1fs", customer, seconds)
        self.store.rate_pause(customer, seconds, now=self._store_now())

    def _refuse(self, customer: str, reservation: Reservation) -> None:
        wait = reservation.wait
        retry_at = self.now() + wait
        if reservation.refused == "daily":
            log.info("customer %s has spent today's Gong calls; back in %.0fs", customer, wait)
            raise DailyQuotaExhausted(customer, wait, retry_at, "today's calls are spent")
        reason = (
            "Gong asked every worker to wait"
            if reservation.refused == "paused"
            else "more calls are queued than can be sent"
        )
        log.info("customer %s: %s, %.1fs, longer than max_wait", customer, reason, wait)
        raise RateLimitExceeded(customer, wait, retry_at, f"{reason} (longer than max_wait)")


_in_process_budget: TokenStore | None = None
_in_process_guard = threading.Lock()


def in_process_budget() -> TokenStore:
    """Where calls paced without a store keep their budget: one memory store per process,
    so every session and client built without a store (two sessions of one access key, say)
    shares its company's budget in this process."""
    global _in_process_budget  # noqa: PLW0603 - one budget per process, made on first use
    with _in_process_guard:
        if _in_process_budget is None:
            from gong_authlib.stores.memory import MemoryTokenStore

            _in_process_budget = MemoryTokenStore()
        return _in_process_budget


def limiter_for(
    store: TokenStore | None, rate_limit: RateLimit | None, rate_limiter: RateLimiter | None
) -> RateLimiter | None:
    """What the session and client factories pace by: an explicit ``rate_limiter`` first,
    else one over ``store`` (this process's :func:`in_process_budget` when None) for
    ``rate_limit``; None (no pacing) when ``rate_limit`` is None."""
    if rate_limiter is not None:
        return rate_limiter
    if rate_limit is None:
        return None
    return RateLimiter(in_process_budget() if store is None else store, rate_limit)
