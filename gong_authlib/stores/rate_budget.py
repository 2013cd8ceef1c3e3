"""One rate budget per Gong company, shared through the token store by every worker.

The pure step every store runs atomically, in its own way (SQLite ``BEGIN IMMEDIATE``, a Redis
Lua script, one PostgreSQL statement, a lock in memory): logic without I/O, so each store only
supplies the atomicity. :class:`~gong_authlib.tokens.pacing.RateLimiter` drives it.

The state per customer is four numbers (:class:`RateState`): the next free slot, the time a
429 asked everyone to wait until, and today's count. A reservation takes the later of *now*,
the next free slot and the pause, and moves the next free slot one interval on. That is GCRA
without a burst: calls are spread evenly, never bunched, and waiters are served in the order
they reserved, so no worker starves and nobody polls. A slot reserved but not used is simply
lost (a conservative error).

Time is the store's when it has one (Redis ``TIME``, PostgreSQL ``clock_timestamp()``), so app
servers with skewed clocks still agree; SQLite and memory use this machine's clock. A clock
given to the limiter (a test's FakeClock) is used everywhere instead.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from gong_authlib.gong import limits

DAY = limits.DAY  # the stores' name for it
# A clock reading this far behind the latest one is the clock stepped back, not the jitter
# between workers' readings (a PostgreSQL reading may wait on the row lock; see on_this_clock).
CLOCK_STEP = 5.0

Refusal = Literal["paused", "queue", "daily"]
_REFUSALS: dict[str, Refusal] = {"paused": "paused", "queue": "queue", "daily": "daily"}


def refusal_named(name: str | bytes | None) -> Refusal | None:
    """The refusal a store's script or function answered by name (empty or None: granted)."""
    text = name.decode() if isinstance(name, bytes) else name
    return _REFUSALS.get(text or "")


@dataclass(frozen=True)
class Budget:
    """One customer's pacing: seconds between calls, calls a day, longest wait."""

    interval: float
    per_day: int
    max_wait: float


@dataclass(frozen=True)
class RateState:
    """What the store keeps per customer (times in the store's clock, POSIX seconds).

    ``seen`` is the latest time a step ran at: when the clock is found well behind it, the
    clock was stepped back (NTP, a VM resumed), and the slots and pause, written on the old
    clock, are moved onto the new one (see :func:`on_this_clock`).
    """

    next_slot: float = 0.0
    paused_until: float = 0.0
    day: int = -1
    day_count: int = 0
    seen: float = 0.0


@dataclass(frozen=True)
class Reservation:
    """A granted slot (``wait`` seconds from now) or a refusal (``wait`` is when it returns)."""

    wait: float
    refused: Refusal | None = None


def on_this_clock(state: RateState, now: float) -> RateState:
    """``state`` as seen at ``now``: moved back by as much as the clock was stepped back.

    Without this, a wall clock stepped back an hour would leave the slots already handed out
    an hour "ahead": every call would fail with RateLimitExceeded until the clock caught up.
    Readings a little behind ``seen`` are workers' jitter, not a step, and move nothing.
    """
    behind = state.seen - now
    if behind <= CLOCK_STEP:
        return state
    return replace(
        state,
        next_slot=state.next_slot - behind,
        paused_until=state.paused_until - behind,
        seen=now,
    )


def reserve(state: RateState, now: float, budget: Budget) -> tuple[RateState, Reservation]:
    """The reservation step every store runs atomically; the Redis script mirrors it."""
    state = on_this_clock(state, now)
    start = max(now, state.next_slot, state.paused_until)
    if state.paused_until - now > budget.max_wait:
        return state, Reservation(state.paused_until - now, "paused")
    if start - now > budget.max_wait:
        return state, Reservation(start - now, "queue")
    day = int(start // DAY)
    count = state.day_count if state.day == day else 0
    if count >= budget.per_day:
        return state, Reservation((day + 1) * DAY - now, "daily")
    granted = RateState(
        start + budget.interval, state.paused_until, day, count + 1, max(state.seen, now)
    )
    return granted, Reservation(start - now)


def pause(state: RateState, now: float, seconds: float) -> RateState:
    """Nobody sends before ``now + seconds``; a longer pause already recorded stands."""
    state = on_this_clock(state, now)
    paused_until = max(state.paused_until, now + seconds)
    return replace(state, paused_until=paused_until, seen=max(state.seen, now))


def paused_for(state: RateState, now: float) -> float:
    """Seconds left of the pause at ``now`` (0 when none)."""
    return max(0.0, on_this_clock(state, now).paused_until - now)
