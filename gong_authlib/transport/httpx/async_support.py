"""The httpx transport's async pieces, on anyio: loaded by the first async use, not before.

anyio runs the stale path's store calls in a worker thread and the waits on the event loop (so
asyncio and trio both work). A process that only uses ``httpx.Client`` never needs it, and
anyio's asyncio backend, which it imports on first use, is a tenth of a second of imports. So
this module is imported by :func:`~gong_authlib.gong_async_client` when it builds a client,
before the loop is busy, and by a :class:`~gong_authlib.GongHttpxAuth` put on an
``httpx.AsyncClient`` by hand at its first async stale path; it loads the backend at once, so
that cost is paid once, here, rather than on the loop at some later first wait.
"""

from __future__ import annotations

import contextlib
import time

import anyio
import anyio.lowlevel
import anyio.to_thread

from gong_authlib.errors import TokenStoreError
from gong_authlib.tokens.customer_token import CustomerToken
from gong_authlib.tokens.pacing import RateLimiter, StoreCall

with contextlib.suppress(ImportError):  # an anyio that moved the module still works, lazily
    import anyio._backends._asyncio

__all__ = ["BoundedWait", "acquire_async", "locked", "run_sync", "sleep"]

run_sync = anyio.to_thread.run_sync
sleep = anyio.sleep

# Async refresh locks, one per (store, customer) per event loop run: an asyncio.Lock is bound
# to the loop that first waits on it, so a lock shared across loops (one per thread, or a new
# one per asyncio.run) would fail there. A RunVar lives exactly as long as its loop.
_ASYNC_LOCKS: anyio.lowlevel.RunVar[dict[tuple[int, str], anyio.Lock]] = anyio.lowlevel.RunVar(
    "gong_authlib_refresh_locks"
)


def _async_lock(customer_token: CustomerToken) -> anyio.Lock:
    try:
        locks = _ASYNC_LOCKS.get()
    except LookupError:
        locks = {}
        _ASYNC_LOCKS.set(locks)
    # The store's identity, like its thread locks: every GongHttpxAuth of this customer on this
    # store (one per client, say) queues on the same lock.
    key = (id(customer_token.store), customer_token.customer)
    lock = locks.get(key)
    if lock is None:
        lock = locks[key] = anyio.Lock()
    return lock


def locked(customer_token: CustomerToken) -> anyio.Lock | BoundedWait:
    """The customer's async refresh lock, its wait bounded by ``lock_timeout`` when set."""
    lock = _async_lock(customer_token)
    timeout = customer_token.lock_timeout
    return lock if timeout is None else BoundedWait(lock, timeout, customer_token.customer)


class BoundedWait:
    """``async with`` a lock, waiting at most ``timeout`` seconds, as the store's lock does."""

    def __init__(self, lock: anyio.Lock, timeout: float, customer: str) -> None:
        self.lock, self.timeout, self.customer = lock, timeout, customer

    async def __aenter__(self) -> None:
        with anyio.move_on_after(self.timeout):
            await self.lock.acquire()
            return
        raise TokenStoreError(
            f"could not get the refresh lock of customer {self.customer!r} in "
            f"{self.timeout:g}s (another task is refreshing it)"
        )

    async def __aexit__(self, *exc_info: object) -> None:
        self.lock.release()


async def acquire_async(limiter: RateLimiter, customer: str) -> float:
    """:meth:`RateLimiter.acquire` for an event loop: the same steps, with the store calls
    in a worker thread and the waits on the loop (``anyio.sleep``), so other tasks run while
    this one waits for its slot. A limiter given its own blocking ``sleep`` (a test's clock)
    has it run in a worker thread too."""
    steps = limiter.acquiring(customer)
    try:
        step = next(steps)
        while True:
            if isinstance(step, StoreCall):
                step = steps.send(await anyio.to_thread.run_sync(step.call))
                continue
            if limiter.sleep is time.sleep:
                await anyio.sleep(step)
            else:
                await anyio.to_thread.run_sync(limiter.sleep, step)
            step = steps.send(None)
    except StopIteration as done:
        waited: float = done.value
        return waited
