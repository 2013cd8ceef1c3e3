"""GongHttpxAuth: an ``httpx.Auth`` that keeps one Gong customer's bearer token valid.

A thin httpx front end on :class:`~gong_authlib.CustomerToken`, as ``GongAuth`` is for
requests: the core owns freshness, the locks, the refresh and the 401 decision; this module
attaches the header, checks the origin, and resends once after a 401.

The hot path (fresh token in memory) is inline in both flows: no I/O, no lock. The stale path
is the core's synchronous one. ``sync_auth_flow`` calls it directly; ``async_auth_flow`` runs
it in a worker thread (anyio's, so asyncio and trio both work) behind a per-customer async
lock that is re-checked after acquiring, so fifty tasks finding the token stale make one
worker-thread trip and one refresh while the event loop keeps running. anyio is loaded with
the async path (:mod:`~gong_authlib.transport.httpx.async_support`), never for a sync client.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from urllib.parse import urlsplit

import httpx

from gong_authlib.errors import RequestNotReplayable
from gong_authlib.logs import get_logger
from gong_authlib.origins import origin_of
from gong_authlib.tokens.auth_base import CustomerAuthBase
from gong_authlib.tokens.customer_token import Current
from gong_authlib.transport.httpx.retry import replayable

__all__ = ["GongHttpxAuth"]

log = get_logger("auth")


def _origin_parts(current: Current) -> tuple[Current, bytes, int | None, str]:
    """``current`` with its origin as httpx gives a URL's parts: host bytes, port (None when
    the scheme's default), scheme."""
    if current.refusal is not None:
        return current, b"", None, ""  # matches no URL: the core's check refuses the token
    parts = urlsplit(current.origin)
    host = (parts.hostname or "").encode("ascii", "replace")  # non-ASCII: the slow path
    return current, host, parts.port, parts.scheme


class GongHttpxAuth(CustomerAuthBase, httpx.Auth):
    """Attach ``customer``'s Gong bearer token to httpx requests sent to its API origin.

    Works with ``httpx.Client`` and ``httpx.AsyncClient``. Requests to any other origin raise
    :class:`~gong_authlib.OriginMismatch` before they are sent. Any number of GongHttpxAuth
    and GongAuth objects, in any number of threads, tasks and processes, may share one store.
    """

    # The token's origin as httpx gives a URL's parts, recomputed when the token changes.
    _origin: tuple[Current | None, bytes, int | None, str] = (None, b"", None, "")

    async def fresh_async(self) -> Current:
        """:meth:`CustomerToken.fresh` for async code (an aiohttp adapter, say): the hot path
        inline, the stale path in a worker thread behind the customer's async lock."""
        current = self.customer_token.current
        if current is None or self._clock() >= current.refresh_at:
            current = await self._stale_async()
        return current

    # -- httpx.Auth ----------------------------------------------------------------------

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        customer_token = self.customer_token
        current = customer_token.current
        if current is None or self._clock() >= current.refresh_at:
            current = customer_token.fresh()
        self._authorize(request, current)
        response = yield request
        if response.status_code != 401 or not self._ours(response, current):
            if customer_token.unproven is not None and response.status_code != 401:
                customer_token.accepted(current.header)  # a token a 401 fetched, now accepted
            return
        response.read()  # the body says why (a missing scope is a 401 too); frees the connection
        fresh = customer_token.after_401(current.header, response.content)
        if fresh.header == current.header:
            return  # the core kept the token (the 401 is not its fault): the 401 stands
        self._prepare_resend(request, fresh)
        resent = yield request  # httpx keeps the 401 in the answer's history
        if resent.status_code != 401 and customer_token.unproven is not None:
            customer_token.accepted(fresh.header)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        current = self.customer_token.current
        if current is None or self._clock() >= current.refresh_at:
            current = await self._stale_async()
        self._authorize(request, current)
        response = yield request
        if response.status_code != 401 or not self._ours(response, current):
            if self.customer_token.unproven is not None and response.status_code != 401:
                await self._accepted_async(current.header)
            return
        await response.aread()
        fresh = await self.after_401_async(current.header, response.content)
        if fresh.header == current.header:
            return
        self._prepare_resend(request, fresh)
        resent = yield request
        if resent.status_code != 401 and self.customer_token.unproven is not None:
            await self._accepted_async(fresh.header)

    # -- shared by both flows ------------------------------------------------------------

    def _authorize(self, request: httpx.Request, current: Current) -> None:
        url = request.url
        # httpx has parsed the URL already (host lower-cased, default port dropped): compare
        # its parts with the origin's, and leave the core's exact check for when they differ.
        origin = self._origin
        if origin[0] is not current:
            origin = self._origin = _origin_parts(current)
        if url.raw_host != origin[1] or url.port != origin[2] or url.scheme != origin[3]:
            self.customer_token.check_origin(str(url), current)
        request.headers["Authorization"] = current.header

    def _ours(self, response: httpx.Response, sent: Current) -> bool:
        """A 401 from the customer's own API, to the header we sent (not after a redirect that
        led elsewhere, where httpx stripped the token)."""
        return origin_of(str(response.request.url)) == sent.origin

    def _prepare_resend(self, request: httpx.Request, fresh: Current) -> None:
        if not replayable(request):
            raise RequestNotReplayable(
                f"Gong answered 401 for customer {self.customer!r}; the token was refreshed, "
                "but the request body is a stream that cannot be sent again: retry the request"
            )
        log.info("customer %s: 401 from Gong; resending once with a fresh token", self.customer)
        # The refresh may have moved the customer to another origin: never resend there blind.
        self._authorize(request, fresh)

    # -- the async stale path ------------------------------------------------------------

    async def _stale_async(self) -> Current:
        from gong_authlib.transport.httpx import async_support as aio

        customer_token = self.customer_token
        async with aio.locked(customer_token):
            current = customer_token.current  # another task may have refreshed while we waited
            if current is not None and self._clock() < current.refresh_at:
                return current
            return await aio.run_sync(customer_token.fresh)

    async def _accepted_async(self, header: str) -> None:
        """:meth:`CustomerToken.accepted` (a store write, once) off the loop."""
        from gong_authlib.transport.httpx import async_support as aio

        await aio.run_sync(self.customer_token.accepted, header)

    async def after_401_async(self, failed_header: str, body: bytes | None = None) -> Current:
        """:meth:`CustomerToken.after_401` for async code, off the loop like the stale path."""
        from gong_authlib.transport.httpx import async_support as aio

        async with aio.locked(self.customer_token):
            return await aio.run_sync(self.customer_token.after_401, failed_header, body)
