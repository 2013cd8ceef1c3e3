"""Contracts kept in this process only: right for the in-memory store, and for nothing shared.

A store that derives from one of these says, in its class line, that workers in other
processes do not see what it keeps. :class:`~gong_authlib.stores.memory.MemoryTokenStore` is
the one store of this library that does; a shared backend must implement the contract itself
(see :mod:`gong_authlib.stores.contracts`).
"""

from __future__ import annotations

import threading
import time

from gong_authlib.stores.contracts import RateStep, SteppedRateBudget, T
from gong_authlib.stores.rate_budget import RateState


class ProcessLocalRateBudget(SteppedRateBudget):
    """The rate budget in a dict behind a lock: paced for this process's calls only."""

    def __init__(self) -> None:
        self._rate_states: dict[str, RateState] = {}
        self._rate_guard = threading.Lock()
        super().__init__()

    def _after_fork_in_child(self) -> None:
        super()._after_fork_in_child()  # type: ignore[misc]  # TokenRecords, later in the MRO
        self._rate_guard = threading.Lock()

    def _rate_update(self, customer: str, now: float | None, step: RateStep[T]) -> T:
        with self._rate_guard:
            state = self._rate_states.get(customer, RateState())
            new_state, answer = step(state, time.time() if now is None else now)
            self._rate_states[customer] = new_state
            return answer
