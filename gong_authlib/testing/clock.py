"""A clock tests move by hand, shared by FakeGong and the code under test."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class FakeClock:
    """Callable like :func:`time.time`; starts at the real time and moves only when told."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds`` and return the new time."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        with self._lock:
            self._now += seconds
            return self._now

    def __repr__(self) -> str:
        return f"FakeClock({self():.3f})"


class LiveClock(FakeClock):
    """Real time, plus whatever a test adds with :meth:`advance`: for a FakeGong that real
    apps use (codes and tokens expire as they would at Gong) and tests can still age."""

    def __init__(self, real: Callable[[], float] = time.time) -> None:
        super().__init__(0.0)  # here the base's "now" is the offset from the real time
        self._real = real

    def __call__(self) -> float:
        return self._real() + super().__call__()

    def advance(self, seconds: float) -> float:
        super().advance(seconds)
        return self()

    def __repr__(self) -> str:
        return f"LiveClock(offset={super().__call__():.3f})"
