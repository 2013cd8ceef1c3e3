"""httpx clients for one customer, ready for Gong's API: the httpx twins of ``gong_session``.

``gong_httpx_client(client, store, customer)`` and ``gong_async_client(...)`` give an
``httpx.Client`` / ``httpx.AsyncClient`` with :class:`~gong_authlib.GongHttpxAuth` attached,
relative paths resolved against the customer's API base URL (``client.get("/v2/users")``), a
default timeout, every attempt paced under the company's Gong budget through the same
:class:`~gong_authlib.tokens.pacing.RateLimiter` and store state as ``gong_session`` (on by
default), Gong's 429 ``Retry-After`` (and idempotent 5xx) retried beneath the auth by
:mod:`gong_authlib.transport.httpx.retry`, and ``paginate`` following ``records.cursor`` with
:mod:`gong_authlib.gong.paging`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import httpx

from gong_authlib.oauth.client import GongOAuthClient
from gong_authlib.stores.contracts import TokenStore
from gong_authlib.tokens.credential import is_access_key
from gong_authlib.tokens.pacing import DEFAULT_RATE_LIMIT, RateLimit, RateLimiter, limiter_for
from gong_authlib.transport.httpx.auth import GongHttpxAuth
from gong_authlib.transport.httpx.retry import AsyncGongRetryTransport, GongRetryTransport

# The access-key auth and the paging helpers load with their first use (issue 24).
if TYPE_CHECKING:
    from gong_authlib.gong.paging import PageRequest, PagingError
    from gong_authlib.gong.retry import GongRetry
    from gong_authlib.tokens.access_key import AccessKey
    from gong_authlib.transport.httpx.access_key_auth import GongHttpxAccessKeyAuth

    # The credential is what differs between a customer's client and a company key's.
    ClientAuth = GongHttpxAuth | GongHttpxAccessKeyAuth

__all__ = [
    "DEFAULT_HTTPX_TIMEOUT",
    "GongAsyncClient",
    "GongHttpxClient",
    "gong_async_client",
    "gong_httpx_client",
]

# As gong_session's (5 s connect, 60 s read): Gong's heavier endpoints are slow.
DEFAULT_HTTPX_TIMEOUT = httpx.Timeout(60.0, connect=5.0)


def _with_trailing_slash(url: str) -> httpx.URL:
    parsed = httpx.URL(url)
    if parsed.raw_path.endswith(b"/"):
        return parsed
    return parsed.copy_with(raw_path=parsed.raw_path + b"/")


class _FollowsTheToken:
    """``base_url`` follows the token in use: a refresh that moves the customer to another API
    origin moves relative paths with it. Read on every request: one comparison when unchanged."""

    _gong_auth: ClientAuth
    _base_from: str
    _base_url: httpx.URL

    @property
    def base_url(self) -> httpx.URL:
        known = self._gong_auth.known_base_url()
        if known is not None and known != self._base_from:
            self._base_from = known
            self._base_url = _with_trailing_slash(known)
        return self._base_url

    @base_url.setter
    def base_url(self, url: httpx.URL | str) -> None:
        self._base_from = str(url)
        self._base_url = _with_trailing_slash(self._base_from)


class GongHttpxClient(_FollowsTheToken, httpx.Client):
    """An ``httpx.Client`` bound to one customer's GongHttpxAuth (or a company key's
    GongHttpxAccessKeyAuth); see :func:`gong_httpx_client`."""

    def __init__(
        self,
        auth: ClientAuth,
        *,
        retries: int = 4,
        backoff_factor: float = 0.5,
        timeout: httpx.Timeout | float | None = DEFAULT_HTTPX_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        limiter: RateLimiter | None = None,
        **client_options: Any,
    ) -> None:
        self._gong_auth = auth
        self._base_from = base = auth.stored_base_url()
        self.limiter = limiter
        super().__init__(
            auth=auth,
            base_url=base,
            timeout=timeout,
            transport=GongRetryTransport(
                transport,
                retry=_retry_policy(retries, backoff_factor, limiter),
                limiter=limiter,
                customer=auth.customer,
            ),
            **client_options,
        )

    @property
    def customer(self) -> str:
        return self._gong_auth.customer

    def __repr__(self) -> str:
        return f"GongHttpxClient(customer={self.customer!r})"

    def paginate(
        self,
        path: str,
        *,
        method: str = "GET",
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> Iterator[Any]:
        """Each page's JSON body, following ``records.cursor``; Gong's 404 "No … found" is
        an empty result; any other error status raises ``httpx.HTTPStatusError``, and so does
        a cursor Gong already gave (following it would loop forever)."""
        from gong_authlib.gong.paging import first_page, is_nothing_found, json_or_none

        page: PageRequest | None = first_page(method, params, json)
        while page is not None:
            response = self.request(method, path, params=page.params, json=page.json)
            answer = json_or_none(response)
            if is_nothing_found(response.status_code, answer):
                return
            response.raise_for_status()
            body = _page(answer, path, response)
            yield body
            page = _next(page, method, body, path, response)


class GongAsyncClient(_FollowsTheToken, httpx.AsyncClient):
    """An ``httpx.AsyncClient`` bound to one customer's GongHttpxAuth; see
    :func:`gong_async_client`."""

    def __init__(
        self,
        auth: ClientAuth,
        *,
        retries: int = 4,
        backoff_factor: float = 0.5,
        timeout: httpx.Timeout | float | None = DEFAULT_HTTPX_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: RateLimiter | None = None,
        **client_options: Any,
    ) -> None:
        self._gong_auth = auth
        self._base_from = base = auth.stored_base_url()
        self.limiter = limiter
        super().__init__(
            auth=auth,
            base_url=base,
            timeout=timeout,
            transport=AsyncGongRetryTransport(
                transport,
                retry=_retry_policy(retries, backoff_factor, limiter),
                limiter=limiter,
                customer=auth.customer,
            ),
            **client_options,
        )

    @property
    def customer(self) -> str:
        return self._gong_auth.customer

    def __repr__(self) -> str:
        return f"GongAsyncClient(customer={self.customer!r})"

    async def paginate(
        self,
        path: str,
        *,
        method: str = "GET",
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[Any]:
        """Each page's JSON body (``async for page in client.paginate(...)``); see
        :meth:`GongHttpxClient.paginate`."""
        from gong_authlib.gong.paging import first_page, is_nothing_found, json_or_none

        page: PageRequest | None = first_page(method, params, json)
        while page is not None:
            response = await self.request(method, path, params=page.params, json=page.json)
            answer = json_or_none(response)
            if is_nothing_found(response.status_code, answer):
                return
            response.raise_for_status()
            body = _page(answer, path, response)
            yield body
            page = _next(page, method, body, path, response)


def _retry_policy(retries: int, backoff_factor: float, limiter: RateLimiter | None) -> GongRetry:
    # urllib3's Retry is loaded when a client is built, not with this module.
    from gong_authlib.gong.retry import gong_retry

    if limiter is None:
        return gong_retry(total=retries, backoff_factor=backoff_factor)
    # Paced, a Retry-After beyond the limiter's max_wait is RateLimitExceeded, as on requests.
    return gong_retry(
        total=retries, backoff_factor=backoff_factor, max_retry_after=limiter.limit.max_wait
    )


def _page(answer: Any, path: str, response: httpx.Response) -> dict[str, Any]:
    from gong_authlib.gong.paging import PagingError, page_of

    try:
        return page_of(answer)
    except PagingError as failure:
        raise _paging_error(failure, path, response) from None


def _next(
    page: PageRequest, method: str, answer: dict[str, Any], path: str, response: httpx.Response
) -> PageRequest | None:
    from gong_authlib.gong.paging import PagingError, next_page

    try:
        return next_page(page, method, answer)
    except PagingError as failure:
        # A server bug must not become an endless loop of calls.
        raise _paging_error(failure, path, response) from None


def _paging_error(failure: PagingError, path: str, response: httpx.Response) -> Exception:
    return httpx.HTTPStatusError(
        f"{failure} on {path}", request=response.request, response=response
    )


def _auth_for(
    client: GongOAuthClient | AccessKey,
    store: TokenStore | None,
    customer: str | None,
    auth_options: Mapping[str, Any],
    factory: str,
) -> ClientAuth:
    """The credential's auth: the one thing a key's client and a customer's differ in."""
    if is_access_key(client):
        from gong_authlib.transport.httpx.access_key_auth import GongHttpxAccessKeyAuth

        if customer is not None or auth_options:
            raise TypeError(
                f"{factory}(key, *, store=None, ...) takes no customer nor auth options"
            )
        return GongHttpxAccessKeyAuth(client)
    if store is None or customer is None:
        raise TypeError(f"{factory}(client, store, customer): the store and customer are needed")
    return GongHttpxAuth(client, store, customer, **auth_options)


def gong_httpx_client(
    client: GongOAuthClient | AccessKey,
    store: TokenStore | None = None,
    customer: str | None = None,
    *,
    rate_limit: RateLimit | None = DEFAULT_RATE_LIMIT,
    rate_limiter: RateLimiter | None = None,
    retries: int = 4,
    backoff_factor: float = 0.5,
    timeout: httpx.Timeout | float | None = DEFAULT_HTTPX_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
    client_options: Mapping[str, Any] | None = None,
    **auth_options: Any,
) -> GongHttpxClient:
    """A :class:`GongHttpxClient` for ``customer``: ``client.get("/v2/users")`` just works.

    ``gong_httpx_client(client, store, customer)`` calls with the customer's OAuth token,
    ``gong_httpx_client(key, store=None)`` with a company's :class:`AccessKey`
    (:class:`GongHttpxAccessKeyAuth`); everything else is the same client.

    ``rate_limit`` paces every attempt under the company's Gong budget, shared with every
    worker using ``store``, requests sessions included (None turns pacing off: 429s are then
    only retried; a key without a store is paced in this process only); ``rate_limiter``
    replaces the limiter built from it (a test's clock, say).
    Paced, a day's budget spent or a wait beyond ``max_wait`` raises RateLimitExceeded
    (DailyQuotaExhausted) without sending, and a store outage raises TokenStoreError.
    ``auth_options`` go to :class:`GongHttpxAuth` (``leeway``, ``lock_lease``, ``clock`` …);
    ``client_options`` to ``httpx.Client`` (``headers``, ``event_hooks`` …). Reads the store
    once to learn a customer's base URL.
    """
    auth = _auth_for(client, store, customer, auth_options, "gong_httpx_client")
    return GongHttpxClient(
        auth,
        retries=retries,
        backoff_factor=backoff_factor,
        timeout=timeout,
        transport=transport,
        limiter=limiter_for(store, rate_limit, rate_limiter),
        **(client_options or {}),
    )


def gong_async_client(
    client: GongOAuthClient | AccessKey,
    store: TokenStore | None = None,
    customer: str | None = None,
    *,
    rate_limit: RateLimit | None = DEFAULT_RATE_LIMIT,
    rate_limiter: RateLimiter | None = None,
    retries: int = 4,
    backoff_factor: float = 0.5,
    timeout: httpx.Timeout | float | None = DEFAULT_HTTPX_TIMEOUT,
    transport: httpx.AsyncBaseTransport | None = None,
    client_options: Mapping[str, Any] | None = None,
    **auth_options: Any,
) -> GongAsyncClient:
    """A :class:`GongAsyncClient` for ``customer`` (or a company's :class:`AccessKey`):
    ``await client.get("/v2/users")``.

    Reads the store once (no call to Gong) to learn a customer's base URL; the first request
    loads the token, refreshing it off the event loop if it is stale; pacing waits for a slot
    on the loop and reaches the store from a worker thread. Options as
    :func:`gong_httpx_client`'s.
    """
    auth = _auth_for(client, store, customer, auth_options, "gong_async_client")
    return GongAsyncClient(
        auth,
        retries=retries,
        backoff_factor=backoff_factor,
        timeout=timeout,
        transport=transport,
        limiter=limiter_for(store, rate_limit, rate_limiter),
        **(client_options or {}),
    )
