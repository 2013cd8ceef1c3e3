"""Retry policy for Gong API calls: urllib3's Retry, taught Gong's 429.

Gong answers 429 with ``Retry-After`` when a company is over its rate (3 calls a second and
10,000 a day by default). A 429 means the request was not processed, so it is retried for any
method, POST included; 5xx answers are retried only for idempotent methods. A ``Retry-After``
longer than ``max_retry_after`` (the daily limit can ask for hours) is not slept on: the 429
goes back to the caller at once.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Self

from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

if TYPE_CHECKING:
    from urllib3.connectionpool import ConnectionPool
    from urllib3.response import BaseHTTPResponse

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class GongRetry(Retry):
    """urllib3 Retry that retries 429 for every method and refuses very long waits."""

    max_retry_after: float = 60.0

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
        if response is not None and response.status == 429 and _pool is not None:
            retry_after = self.get_retry_after(response)
            if retry_after is not None and retry_after > self.max_retry_after:
                # urllib3 hands the 429 back to the caller instead of sleeping for hours.
                raise MaxRetryError(_pool, url or "", None)
        return super().increment(method, url, response, error, _pool, _stacktrace)


def gong_retry(*, total: int = 4, backoff_factor: float = 0.5) -> GongRetry:
    return GongRetry(
        total=total,
        connect=total,
        read=False,  # a read that failed may have been processed: surface the timeout
        status=total,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff_factor,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
