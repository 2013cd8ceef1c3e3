"""Time as the library reads it: a callable returning POSIX seconds.

Every component that decides expiry takes a ``clock`` so tests and the demo can move time
forward instead of sleeping (see :class:`gong_authlib.testing.FakeClock`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]

system_clock: Clock = time.time
