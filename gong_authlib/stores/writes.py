"""Writing a token Gong just issued: retried with backoff, because it cannot be asked for again.

After a refresh, the old refresh token is spent: a store write that fails (Redis restarting,
an SQLite file locked by a backup, a PostgreSQL failover) would lose the customer if it were
not tried again. The caller holds the refresh lease meanwhile and says how long it may keep
trying (``deadline``, seconds): a little less than the lease it has left.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from gong_authlib.errors import TokenStoreError
from gong_authlib.logs import get_logger
from gong_authlib.stores.contracts import TokenStore
from gong_authlib.token import Token

log = get_logger("stores")

T = TypeVar("T")

_FIRST_DELAY = 0.05
_LONGEST_DELAY = 1.0


def put_with_retries(
    store: TokenStore,
    customer: str,
    token: Token,
    *,
    deadline: float,
    on_retry: Callable[[TokenStoreError, float], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """``store.put(customer, token)``, retried on TokenStoreError with capped, jittered
    backoff for up to ``deadline`` seconds; the last error is raised, naming the customer.

    ``on_retry(error, delay)`` is called before each wait (tests use it to end a fault).
    """
    write_with_retries(
        lambda: store.put(customer, token),
        customer,
        deadline=deadline,
        on_retry=on_retry,
        sleep=sleep,
    )


def write_with_retries(
    write: Callable[[], T],
    customer: str,
    *,
    deadline: float,
    on_retry: Callable[[TokenStoreError, float], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``write()`` (a put, or a settle: stores/intents.py), retried as ``put_with_retries``
    says; its result is returned."""
    ends = time.monotonic() + deadline
    delay = _FIRST_DELAY
    attempt = 0
    while True:
        attempt += 1
        try:
            result = write()
        except TokenStoreError as error:
            left = ends - time.monotonic()
            if left <= 0:
                raise TokenStoreError(
                    f"could not store the new token of customer {customer!r} after {attempt} "
                    f"attempts ({error}); it is kept in memory and the write is retried in "
                    "the background"
                ) from None
            wait = min(delay * (0.5 + random.random()), left)  # noqa: S311 - jitter
            log.warning(
                "customer %s: storing the new token failed (attempt %d), retrying in %.2fs: %s",
                customer,
                attempt,
                wait,
                error,
            )
            if on_retry is not None:
                on_retry(error, wait)
            sleep(wait)
            delay = min(delay * 2, _LONGEST_DELAY)
            continue
        if attempt > 1:
            log.info("customer %s: new token stored after %d attempts", customer, attempt)
        return result
