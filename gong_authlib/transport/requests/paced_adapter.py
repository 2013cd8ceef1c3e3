"""Pacing for requests: every attempt sent to Gong takes a slot of the company's budget.

urllib3 retries 429s and 5xx *beneath* requests' adapter (and far beneath GongAuth), so a
limiter in the auth or around ``Session.request`` would count one call where Gong counts
three. :class:`PacedAdapter` takes a slot before the first attempt, and the GongRetry it
mounts takes one before every retry (``before_retry``) and turns each 429 into a pause for
every worker (``on_429``). A 429 that comes back anyway (retries spent, or a ``Retry-After``
beyond ``max_wait``) is raised as RateLimitExceeded rather than returned.

The limiter itself (stores/ratelimit.py) knows nothing of requests; the httpx clients' retry
transports (httpx_retry.py) pace through the same
:class:`~gong_authlib.tokens.pacing.RateLimiter` and store state, the same way.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter

from gong_authlib.errors import RateLimitExceeded
from gong_authlib.gong.retry import UNREADABLE_RETRY_AFTER, gong_retry
from gong_authlib.telemetry import throttled
from gong_authlib.tokens.pacing import DEFAULT_PAUSE, RateLimiter


class PacedAdapter(HTTPAdapter):
    """An HTTPAdapter whose every attempt, retries included, waits for a slot of
    ``customer``'s budget in ``limiter``."""

    def __init__(
        self, limiter: RateLimiter, customer: str, *, retries: int, backoff_factor: float
    ) -> None:
        self.limiter = limiter
        self.customer = customer
        retry = gong_retry(
            total=retries,
            backoff_factor=backoff_factor,
            max_retry_after=limiter.limit.max_wait,
            on_429=lambda seconds: limiter.pause(customer, seconds),
            before_retry=lambda: limiter.acquire(customer),
        )
        super().__init__(max_retries=retry)

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        self.limiter.acquire(self.customer)
        response = super().send(request, *args, **kwargs)
        _count_429s(self.customer, response)
        if response.status_code != 429:
            return response
        retry_after = _retry_after(self, response)
        # Retries were spent or the wait was too long: everyone pauses, this caller is told.
        self.limiter.pause(self.customer, retry_after)
        response.close()
        wait = DEFAULT_PAUSE if retry_after is None else retry_after
        raise RateLimitExceeded(
            self.customer,
            wait,
            self.limiter.now() + wait,
            "Gong answered 429 Too Many Requests after retries",
        )


def _count_429s(customer: str, response: requests.Response) -> None:
    """Report each 429 of this call: those urllib3 retried (in its retry history) and the
    final answer. Counted here, per answer, because the same 429 can pause everyone twice (a
    Retry-After beyond max_wait: once as urllib3 gives up on it, once below)."""
    history = getattr(getattr(response.raw, "retries", None), "history", ())
    for _ in range(sum(1 for attempt in history if attempt.status == 429)):
        throttled(customer)
    if response.status_code == 429:
        throttled(customer)


def _retry_after(adapter: HTTPAdapter, response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds: float = adapter.max_retries.parse_retry_after(value)
    except UNREADABLE_RETRY_AFTER:  # garbage: treat as absent, as GongRetry does
        return None
    return seconds
