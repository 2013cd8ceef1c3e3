"""Retry policy for Gong API calls: urllib3's Retry, taught Gong's 429.

Gong answers 429 with ``Retry-After`` when a company is over its rate (3 calls a second and
10,000 a day by default). A 429 means the request was not processed, so it is retried for any
method, POST included; 5xx answers are retried only for idempotent methods. A ``Retry-After``
longer than ``max_retry_after`` (the daily limit can ask for hours, a 503 maintenance page
too) is not slept on: the answer goes back to the caller at once.

With pacing (stores/ratelimit.py), urllib3 retries beneath the auth and the adapter, so the
retry itself must take a slot: ``on_429`` records Gong's ``Retry-After`` as a pause for every
worker, and ``before_retry`` waits for a slot (which honours that pause) instead of sleeping
``Retry-After`` here alone.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from urllib3.exceptions import InvalidHeader, MaxRetryError
from urllib3.util.retry import Retry

if TYPE_CHECKING:
    from urllib3.connectionpool import ConnectionPool
    from urllib3.response import BaseHTTPResponse

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_MAX_RETRY_AFTER = 60.0
# The token endpoint's retries run while the customer's refresh lock is held: a Retry-After
# longer than this comes back at once as a 429 (a TokenEndpointError; nothing was granted, the
# stored token is unchanged), and three retries stay far inside the lease.
TOKEN_MAX_RETRY_AFTER = 10.0
# What urllib3's parse_retry_after raises on a Retry-After it cannot read.
UNREADABLE_RETRY_AFTER = (InvalidHeader, ValueError, OverflowError)


class GongRetry(Retry):
    """urllib3 Retry that retries 429 for every method, refuses very long waits, and (when
    pacing) reports 429s and takes a slot before each retry."""

    def __init__(
        self,
        *args: Any,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        on_429: Callable[[float | None], None] | None = None,
        before_retry: Callable[[], object] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.max_retry_after = max_retry_after
        self.on_429 = on_429
        self.before_retry = before_retry

    def new(self, **kw: Any) -> Self:
        # urllib3 rebuilds the policy after every attempt from its own fields only.
        kw.setdefault("max_retry_after", self.max_retry_after)
        kw.setdefault("on_429", self.on_429)
        kw.setdefault("before_retry", self.before_retry)
        return super().new(**kw)

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        # Gong sends whole seconds, but a proxy may send a date, a fraction or garbage, which
        # urllib3 raises on (a 5,000-digit number or a year 10^9 raise ValueError): an
        # unreadable Retry-After is an absent one (the default pause, or the backoff), never an
        # exception where the caller expects a response.
        try:
            return super().get_retry_after(response)
        except UNREADABLE_RETRY_AFTER:
            return None

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 429 and self.total is not False:
            return bool(self.total is None or self.total > 0)
        return super().is_retry(method, status_code, has_retry_after)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        if response is not None and response.status in self.RETRY_AFTER_STATUS_CODES:
            retry_after = self.get_retry_after(response)
            if response.status == 429 and self.on_429 is not None:
                self.on_429(retry_after)
            if _pool is not None and retry_after is not None and retry_after > self.max_retry_after:
                # urllib3 hands the answer back to the caller instead of sleeping for hours:
                # a daily 429, or a 503 maintenance page asking for an hour.
                raise MaxRetryError(_pool, url or "", None)
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        if self.before_retry is None:
            super().sleep(response)
            return
        if response is None or response.status != 429:
            super().sleep(response)  # backoff after a 5xx or a connection error
        # After a 429 the pause is in the store: the slot waits it out, with everyone else.
        self.before_retry()


def gong_retry(
    *,
    total: int = 4,
    backoff_factor: float = 0.5,
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
    on_429: Callable[[float | None], None] | None = None,
    before_retry: Callable[[], object] | None = None,
) -> GongRetry:
    return GongRetry(
        total=total,
        connect=total,
        read=False,  # a read that failed may have been processed: surface the timeout
        status=total,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff_factor,
        respect_retry_after_header=True,
        raise_on_status=False,
        max_retry_after=max_retry_after,
        on_429=on_429,
        before_retry=before_retry,
    )
