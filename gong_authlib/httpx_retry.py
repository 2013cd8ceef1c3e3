"""Retrying Gong's 429 (and idempotent 5xx) beneath httpx clients, with the requests path's
policy.

httpx retries only failed connections. These transports wrap another one and resend a request
Gong answered 429 (any method: a 429 was not processed) or 5xx (idempotent methods only),
honouring ``Retry-After`` up to a cap and backing off otherwise. The decisions (which statuses,
which methods, how long, the cap) are :class:`~gong_authlib.retry.GongRetry`'s, urllib3's Retry
that ``gong_session`` mounts, so the two transports cannot disagree; only the waiting differs
(``time.sleep`` here, ``anyio.sleep`` in the async transport).

Every attempt is sent from here, so this is also where per-company pacing belongs once a
shared limiter exists: a limiter above the transport would miss the retries.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

import anyio
import httpx
from urllib3.exceptions import InvalidHeader, MaxRetryError

from gong_authlib.logs import get_logger
from gong_authlib.retry import GongRetry, gong_retry

if TYPE_CHECKING:
    from urllib3.response import BaseHTTPResponse

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


def next_attempt(
    retry: GongRetry, request: httpx.Request, response: httpx.Response
) -> tuple[GongRetry, float] | None:
    """The policy for the next attempt and the wait before it, or None to answer now."""
    method = request.method
    if not retry.is_retry(method, response.status_code, "Retry-After" in response.headers):
        return None
    if not replayable(request):
        return None
    answer = _Answer(response)
    try:
        retry_after = retry.get_retry_after(cast("BaseHTTPResponse", answer))
    except InvalidHeader:
        retry_after = None
    if retry_after is not None and retry_after > retry.max_retry_after:
        return None  # the day's quota, say: hours, not worth holding a request for
    try:
        retry = retry.increment(method, str(request.url), cast("BaseHTTPResponse", answer))
    except MaxRetryError:
        return None
    wait = retry_after if retry_after is not None else retry.get_backoff_time()
    log.info(
        "HTTP %s from %s %s; retrying in %.1f s",
        response.status_code,
        method,
        request.url.path,
        wait,
    )
    return retry, wait


class GongRetryTransport(httpx.BaseTransport):
    """Wraps ``transport`` (a default ``httpx.HTTPTransport``) with Gong's retry policy."""

    def __init__(
        self,
        transport: httpx.BaseTransport | None = None,
        *,
        retry: GongRetry | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.transport = transport or httpx.HTTPTransport()
        self.retry = retry or gong_retry()
        self._sleep = sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        retry = self.retry
        while True:
            response = self.transport.handle_request(request)
            step = next_attempt(retry, request, response)
            if step is None:
                return response
            retry, wait = step
            response.close()
            if wait > 0:
                self._sleep(wait)

    def close(self) -> None:
        self.transport.close()


class AsyncGongRetryTransport(httpx.AsyncBaseTransport):
    """The async twin of :class:`GongRetryTransport`: waits without blocking the loop."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        retry: GongRetry | None = None,
    ) -> None:
        self.transport = transport or httpx.AsyncHTTPTransport()
        self.retry = retry or gong_retry()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        retry = self.retry
        while True:
            response = await self.transport.handle_async_request(request)
            step = next_attempt(retry, request, response)
            if step is None:
                return response
            retry, wait = step
            await response.aclose()
            if wait > 0:
                await anyio.sleep(wait)

    async def aclose(self) -> None:
        await self.transport.aclose()
