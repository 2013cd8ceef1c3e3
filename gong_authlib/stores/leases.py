"""Waiting for a refresh lock: poll the store's atomic try-lock with capped, jittered backoff.

Every store's lock is a lease (an owner and an expiry) taken with one atomic operation; this
module owns the waiting, so all stores wait, log and give up the same way.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from gong_authlib.errors import TokenStoreError
from gong_authlib.logs import get_logger

log = get_logger("stores")

_FIRST_WAIT = 0.005
_LONGEST_WAIT = 0.1


def new_owner() -> str:
    """A lock owner id unique across threads, processes and machines."""
    return uuid.uuid4().hex


@contextmanager
def leased(
    *,
    customer: str,
    try_acquire: Callable[[str], bool],
    release: Callable[[str], None],
    lease: float,
    timeout: float | None,
    store_name: str,
) -> Iterator[None]:
    """Hold a lease lock: ``try_acquire(owner)`` must atomically take a free or expired lease.

    Waits up to ``timeout`` seconds, by default the lease itself: by then a dead holder's
    lease has run out, so a longer wait means a live holder is still refreshing.
    """
    timeout = lease if timeout is None else timeout
    owner = new_owner()
    deadline = time.monotonic() + timeout
    wait = _FIRST_WAIT
    started = time.monotonic()
    waited = False
    while not try_acquire(owner):
        if not waited:
            log.debug("waiting for the refresh lock of customer %s (%s)", customer, store_name)
            waited = True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TokenStoreError(
                f"could not get the refresh lock of customer {customer!r} in {timeout:g}s "
                f"({store_name}); another worker holds it"
            )
        # Jitter keeps a crowd of waiters from polling in lock-step.
        time.sleep(min(wait * (0.5 + random.random()), remaining))  # noqa: S311
        wait = min(wait * 2, _LONGEST_WAIT)
    if waited:
        log.info(
            "got the refresh lock of customer %s after %.3fs", customer, time.monotonic() - started
        )
    try:
        yield
    finally:
        release(owner)
