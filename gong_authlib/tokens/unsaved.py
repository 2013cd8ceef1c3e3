"""Pairs Gong issued that the store has not taken yet, written in the background.

A refresh whose store write fails keeps the new pair in its :class:`CustomerToken` (in use
from memory) and hands it here: one daemon thread retries each such pair with capped,
jittered back-off until the store takes it or has moved on, so the pair lands as soon as the
store answers again, not on the holder's next call for that customer (a worker that exits or
never calls that customer again would lose it). At interpreter exit and on SIGTERM, every
pair still held gets one last attempt, logged. The SIGTERM handler is installed from the main
thread only (Python's rule) and chains whatever handler was there before.
"""

from __future__ import annotations

import atexit
import os
import random
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Protocol

from gong_authlib.logs import get_logger

if TYPE_CHECKING:
    import signal

log = get_logger("auth")

_FIRST_DELAY = 0.05
# The longest a returned store waits for the pair: short beside the intent's deadline, so the
# owner's write lands long before another worker may present the spent refresh token.
LONGEST_DELAY = 1.0


class Unsaved(Protocol):
    """What holds an unsaved pair (CustomerToken): one attempt to write it."""

    customer: str

    def retry_unsaved(self) -> bool:
        """Try once; True when nothing is left to write (written, or the store moved on)."""
        ...


class UnsavedWriter:
    """The process's background writer of unsaved pairs."""

    def __init__(self) -> None:
        self._pending: dict[int, Unsaved] = {}
        # Re-entrant: the SIGTERM handler runs in the main thread between two bytecodes,
        # possibly while that thread is inside add() or pending() holding the guard.
        self._guard = threading.RLock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def add(self, holder: Unsaved) -> None:
        with self._guard:
            if self._pid != os.getpid():  # a forked child: the parent's thread is not here
                self._pending, self._thread, self._pid = {}, None, os.getpid()
            self._pending[id(holder)] = holder
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="gong-authlib unsaved pairs", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def pending(self) -> list[Unsaved]:
        with self._guard:
            return list(self._pending.values())

    def _run(self) -> None:
        delay = _FIRST_DELAY
        while True:
            self._wake.clear()
            holders = self.pending()
            if not holders:
                with self._guard:
                    if not self._pending:
                        self._thread = None
                        return
                continue
            progress = False
            for holder in holders:
                if self._attempt(holder):
                    progress = True
            delay = _FIRST_DELAY if progress else min(delay * 2, LONGEST_DELAY)
            self._wake.wait(delay * (0.5 + random.random()))  # noqa: S311 - jitter

    def _attempt(self, holder: Unsaved) -> bool:
        try:
            done = holder.retry_unsaved()
        except Exception:  # a bug must not end the thread that holds every other pair
            log.exception("customer %s: writing the unsaved pair failed", holder.customer)
            done = False
        if done:
            with self._guard:
                self._pending.pop(id(holder), None)
        return done

    def last_attempt(self, why: str) -> None:
        """One more try for every pair still held (at exit, on SIGTERM), logged."""
        holders = self.pending()
        for holder in holders:
            if self._attempt(holder):
                log.warning("customer %s: unsaved pair written at %s", holder.customer, why)
            else:
                log.error(
                    "customer %s: the new pair Gong issued could not be stored before %s; "
                    "it is lost with this process (the customer must authorize again unless "
                    "the store takes it from another worker)",
                    holder.customer,
                    why,
                )


WRITER = UnsavedWriter()
_hooks_installed = threading.Event()
_hook_guard = threading.Lock()


def install_exit_hooks() -> None:
    """The last attempts at interpreter exit and on SIGTERM (from the main thread only;
    a no-op elsewhere and after the first time)."""
    if _hooks_installed.is_set() or threading.current_thread() is not threading.main_thread():
        return
    with _hook_guard:
        if _hooks_installed.is_set():
            return
        _hooks_installed.set()
        atexit.register(WRITER.last_attempt, "interpreter exit")
        import signal  # here, not at import: its enums cost every cold start (issue 24)

        try:
            previous = signal.getsignal(signal.SIGTERM)
            signal.signal(signal.SIGTERM, _on_sigterm(previous))
        except (ValueError, OSError):  # no signals here (an embedded interpreter)
            return


def _on_sigterm(
    previous: Callable[[int, FrameType | None], object] | int | signal.Handlers | None,
) -> Callable[[int, FrameType | None], None]:
    import signal  # loaded already: install_exit_hooks imported it

    def handler(signum: int, frame: FrameType | None) -> None:
        if WRITER.pending():
            WRITER.last_attempt("SIGTERM")
        if callable(previous):
            previous(signum, frame)
        elif previous in (signal.SIG_DFL, None):
            # What SIGTERM did before: end the process, as the default action would.
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

    return handler
