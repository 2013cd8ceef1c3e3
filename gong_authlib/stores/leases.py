"""Waiting for a refresh lock: poll the store's atomic try-lock with capped, jittered backoff.

Every store's lock is a lease (an owner and an expiry) taken with one atomic operation; this
module owns the waiting, so all stores wait, log and give up the same way.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from gong_authlib.errors import TokenStoreError
from gong_authlib.logs import get_logger

log = get_logger("stores")

_FIRST_WAIT = 0.005
_LONGEST_WAIT = 0.1


def new_owner() -> str:
    """A lock owner id unique across threads, processes and machines: 128 random bits, as
    uuid4 has (without importing uuid, which loads platform: milliseconds at every start)."""
    return secrets.token_hex(16)


@dataclass
class Lease:
    """A held refresh lock: how long it is ours, and a way to make it last longer.

    ``expires_at`` is on this process's monotonic clock, a conservative estimate: it is
    taken *before* the store grants the lease, so the store's own expiry is never earlier.
    """

    customer: str
    owner: str
    duration: float
    expires_at: float
    _renew: Callable[[str, float], bool] = field(repr=False)

    def remaining(self) -> float:
        """Seconds left before others may take the lock."""
        return self.expires_at - time.monotonic()

    def renew(self, lease: float | None = None) -> bool:
        """Extend the lease to ``lease`` seconds from now (default: the original duration).

        False if it was lost meanwhile (it ran out and someone else took it), or if the
        store cannot renew leases; the caller then must not count on holding it.
        """
        duration = self.duration if lease is None else lease
        started = time.monotonic()
        if not self._renew(self.owner, duration):
            return False
        self.expires_at = started + duration
        return True

    @contextmanager
    def renewed(self) -> Iterator[None]:
        """Renew the lease in the background, every third of its duration, while the block
        runs: a slow token answer or a ``Retry-After`` must not let the lease end under a
        live refresher (another process would take it and spend the same refresh token).
        Renewal stops for good if the lease was lost; a store error is logged and retried."""
        stop = threading.Event()

        def keep_renewing() -> None:
            while not stop.wait(max(self.duration / 3, 0.01)):
                try:
                    if not self.renew():
                        log.warning(
                            "the refresh lease of customer %s was lost while held", self.customer
                        )
                        return
                except TokenStoreError as error:
                    log.warning("could not renew the refresh lease: %s", error)

        renewer = threading.Thread(
            target=keep_renewing, name=f"gong-authlib lease {self.customer}", daemon=True
        )
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()


@contextmanager
def leased(
    *,
    customer: str,
    try_acquire: Callable[[str], bool],
    release: Callable[[str], None],
    lease: float,
    timeout: float | None,
    store_name: str,
    renew: Callable[[str, float], bool] | None = None,
) -> Iterator[Lease]:
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
    while True:
        asked = time.monotonic()
        if try_acquire(owner):
            break
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
    held = Lease(customer, owner, lease, asked + lease, renew or (lambda _o, _l: False))
    try:
        yield held
    finally:
        try:
            release(owner)
        except TokenStoreError as error:
            # The store is failing (down, locked): the lease frees itself when it runs out.
            # Raising here would hide what happened inside the block.
            log.warning(
                "could not release the refresh lock of customer %s (%s); it expires by "
                "itself with its lease",
                customer,
                error,
            )
