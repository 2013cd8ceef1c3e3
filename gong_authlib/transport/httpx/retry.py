"""Retrying Gong's 429 (and idempotent 5xx) beneath httpx clients, with the requests path's
policy.

httpx retries only failed connections. These transports wrap another one and resend a request
Gong answered 429 (any method: a 429 was not processed) or 5xx (idempotent methods only),
honouring ``Retry-After`` up to a cap and backing off otherwise. The decisions (which statuses,
which methods, how long, the cap) are :class:`~gong_authlib.gong.retry.GongRetry`'s, urllib3's Retry
that ``gong_session`` mounts, so the two transports cannot disagree; only the waiting differs
(``time.sleep`` here, ``anyio.sleep`` in the async transport).

Every attempt is sent from here, so this is also where per-company pacing happens (a limiter
above the transport would miss the retries), as ``PacedAdapter`` and
GongRetry's hooks do it for requests, through the same
:class:`~gong_authlib.tokens.pacing.RateLimiter` and so the same store state: each attempt
first takes a slot of the company's budget, a 429's ``Retry-After`` becomes a pause for every
worker of that company (requests and httpx alike) instead of this caller's own sleep, and a 429
that comes back anyway is raised as RateLimitExceeded. The async transport runs the limiter's
store calls in a worker thread and sleeps on the loop, never blocking it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

import httpx

from gong_authlib.errors import RateLimitExceeded
from gong_authlib.logs import get_logger
from gong_authlib.telemetry import throttled
from gong_authlib.tokens.pacing import DEFAULT_PAUSE, RateLimiter

if TYPE_CHECKING:
    from urllib3.response import BaseHTTPResponse

    from gong_authlib.gong.retry import GongRetry

__all__ = ["AsyncGongRetryTransport", "GongRetryTransport", "replayable"]

log = get_logger("retry")


class _Answer:
    """What urllib3's Retry reads of a response, taken from an httpx one."""

    def __init__(self, response: httpx.Response) -> None:
        self.status = response.status_code
        self.headers = response.headers

    def get_redirect_location(self) -> bool:
        return False  # redirects are httpx's business, above the transport


def replayable(request: httpx.Request) -> bool:
    """True if ``request``'s body can be sent again: in memory, or multipart, which httpx
    renders afresh (seeking its files back). Iterators, generators and file objects were
    consumed by the first attempt."""
    stream = request.stream
    return isinstance(stream, httpx.ByteStream) or type(stream).__name__ == "MultipartStream"


def retry_after(retry: GongRetry, response: httpx.Response) -> float | None:
    """``response``'s ``Retry-After`` in seconds, None if absent or garbage."""
    from urllib3.exceptions import InvalidHeader  # loaded: ``retry`` is a urllib3 Retry

    try:
        return retry.get_retry_after(cast("BaseHTTPResponse", _Answer(response)))
    except InvalidHeader:
        return None


def next_attempt(
    retry: GongRetry, request: httpx.Request, response: httpx.Response
) -> tuple[GongRetry, float] | None:
    """The policy for the next attempt and the wait before it, or None to answer now."""
    method = request.method
    if not retry.is_retry(method, response.status_code, "Retry-After" in response.headers):
        return None  # the common answer: no import, nothing more to judge
    from urllib3.exceptions import MaxRetryError  # loaded: ``retry`` is a urllib3 Retry

    if not replayable(request):
        return None
    answer = _Answer(response)
    retry_after_ = retry_after(retry, response)
    if retry_after_ is not None and retry_after_ > retry.max_retry_after:
        return None  # the day's quota, say: hours, not worth holding a request for
    try:
        retry = retry.increment(method, str(request.url), cast("BaseHTTPResponse", answer))
    except MaxRetryError:
        return None
    wait = retry_after_ if retry_after_ is not None else retry.get_backoff_time()
    log.info(
        "HTTP %s from %s %s; retrying in %.1f s",
        response.status_code,
        method,
        request.url.path,
        wait,
    )
    return retry, wait


def _default_policy() -> GongRetry:
    # urllib3 (Retry) is loaded when a client is built, not when this module is imported.
    from gong_authlib.gong.retry import gong_retry

    return gong_retry()


def _rate_limit_exceeded(limiter: RateLimiter, customer: str, wait: float | None) -> Exception:
    """The error for a 429 handed back (retries spent, or a wait beyond ``max_wait``), as
    requests' PacedAdapter raises it."""
    seconds = DEFAULT_PAUSE if wait is None else wait
    return RateLimitExceeded(
        customer,
        seconds,
        limiter.now() + seconds,
        "Gong answered 429 Too Many Requests after retries",
    )


class GongRetryTransport(httpx.BaseTransport):
    """Wraps ``transport`` (a default ``httpx.HTTPTransport``) with Gong's retry policy and,
    given a ``limiter``, paces every attempt for ``customer`` through it."""

    def __init__(
        self,
        transport: httpx.BaseTransport | None = None,
        *,
        retry: GongRetry | None = None,
        sleep: Callable[[float], None] = time.sleep,
        limiter: RateLimiter | None = None,
        customer: str = "",
    ) -> None:
        if limiter is not None and not customer:
            raise ValueError("pacing needs the customer whose budget to take slots from")
        self.transport = transport or httpx.HTTPTransport()
        self.retry = retry or _default_policy()
        self._sleep = sleep
        self.limiter = limiter
        self.customer = customer

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        retry = self.retry
        limiter = self.limiter
        while True:
            if limiter is not None:
                limiter.acquire(self.customer)
            response = self.transport.handle_request(request)
            told_to_wait = None
            if limiter is not None and response.status_code == 429:
                throttled(self.customer)
                told_to_wait = retry_after(retry, response)
                limiter.pause(self.customer, told_to_wait)  # every worker waits, not just this one
            step = next_attempt(retry, request, response)
            if step is None:
                if limiter is not None and response.status_code == 429:
                    response.close()
                    raise _rate_limit_exceeded(limiter, self.customer, told_to_wait)
                return response
            retry, wait = step
            response.close()
            # Paced, a 429's wait is the store's pause, which the next slot waits out.
            if wait > 0 and (limiter is None or response.status_code != 429):
                self._sleep(wait)

    def close(self) -> None:
        self.transport.close()


class AsyncGongRetryTransport(httpx.AsyncBaseTransport):
    """The async twin of :class:`GongRetryTransport`: waits (for a retry or a slot) without
    blocking the loop, and reaches the limiter's store from a worker thread."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        retry: GongRetry | None = None,
        limiter: RateLimiter | None = None,
        customer: str = "",
    ) -> None:
        if limiter is not None and not customer:
            raise ValueError("pacing needs the customer whose budget to take slots from")
        # anyio and its event-loop backend, loaded now that an async client is built, while
        # no loop is busy (see async_support).
        from gong_authlib.transport.httpx import async_support  # noqa: F401

        self.transport = transport or httpx.AsyncHTTPTransport()
        self.retry = retry or _default_policy()
        self.limiter = limiter
        self.customer = customer

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        from gong_authlib.transport.httpx import async_support as aio

        retry = self.retry
        limiter = self.limiter
        while True:
            if limiter is not None:
                await aio.acquire_async(limiter, self.customer)
            response = await self.transport.handle_async_request(request)
            told_to_wait = None
            if limiter is not None and response.status_code == 429:
                throttled(self.customer)
                told_to_wait = retry_after(retry, response)
                await aio.run_sync(limiter.pause, self.customer, told_to_wait)
            step = next_attempt(retry, request, response)
            if step is None:
                if limiter is not None and response.status_code == 429:
                    await response.aclose()
                    raise _rate_limit_exceeded(limiter, self.customer, told_to_wait)
                return response
            retry, wait = step
            await response.aclose()
            if wait > 0 and (limiter is None or response.status_code != 429):
                await aio.sleep(wait)

    async def aclose(self) -> None:
        await self.transport.aclose()
