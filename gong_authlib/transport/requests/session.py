"""gong_session: a requests.Session for one customer (or one company API key), ready for
Gong's API.

Relative paths go to the customer's ``api_base_url`` (``session.get("/v2/users")``), GongAuth
is attached (GongAccessKeyAuth for a key: the credential is the only difference), every
attempt is paced under the company's Gong budget shared through the store
(:class:`~gong_authlib.tokens.pacing.RateLimit`, on by default), 429 and idempotent 5xx
answers are retried by urllib3's Retry, and every request has a timeout unless the caller
gives one. :meth:`GongSession.paginate` follows Gong's cursors.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import requests
from requests.adapters import HTTPAdapter

from gong_authlib.errors import OriginMismatch
from gong_authlib.gong.retry import gong_retry
from gong_authlib.oauth.client import GongOAuthClient
from gong_authlib.stores.contracts import TokenStore
from gong_authlib.tokens.credential import is_access_key
from gong_authlib.tokens.pacing import DEFAULT_RATE_LIMIT, RateLimit, RateLimiter, limiter_for
from gong_authlib.transport.requests.auth import GongAuth
from gong_authlib.transport.requests.paced_adapter import PacedAdapter

# (connect, read) seconds: Gong's heavier endpoints (extensive calls, transcripts) are slow.
DEFAULT_API_TIMEOUT = (5.0, 60.0)


# The session's credential: a customer's GongAuth unless said otherwise, so code that names
# a bare ``GongSession`` keeps reading ``session.auth.customer_token``. The default (PEP 696)
# is for type checkers only: at run time typing's TypeVar serves, and importing
# typing_extensions would cost every cold start about 2 ms. The access-key auth and the paging
# helpers load with their first use (issue 24): the bound names them as a string.
if TYPE_CHECKING:
    from typing_extensions import TypeVar as TypeVarWithDefault

    from gong_authlib.gong.paging import PageRequest
    from gong_authlib.tokens.access_key import AccessKey
    from gong_authlib.transport.requests.access_key_auth import GongAccessKeyAuth

    SessionAuth = TypeVarWithDefault(
        "SessionAuth", bound=GongAuth | GongAccessKeyAuth, default=GongAuth
    )
else:
    SessionAuth = TypeVar("SessionAuth", bound="GongAuth | GongAccessKeyAuth")


class GongSession(requests.Session, Generic[SessionAuth]):
    """A Session bound to one customer's GongAuth, or to a company's GongAccessKeyAuth; see
    :func:`gong_session`. ``customer`` is whose Gong budget its calls draw on."""

    auth: SessionAuth

    def __init__(
        self,
        auth: SessionAuth,
        *,
        retries: int = 4,
        backoff_factor: float = 0.5,
        timeout: float | tuple[float, float] | None = DEFAULT_API_TIMEOUT,
        limiter: RateLimiter | None = None,
    ) -> None:
        super().__init__()
        self.auth = auth
        self.timeout = timeout
        self.limiter = limiter
        adapter: HTTPAdapter
        if limiter is None:
            retry = gong_retry(total=retries, backoff_factor=backoff_factor)
            adapter = HTTPAdapter(max_retries=retry)
        else:
            adapter = PacedAdapter(
                limiter, auth.customer, retries=retries, backoff_factor=backoff_factor
            )
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    @property
    def customer(self) -> str:
        return self.auth.customer

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        if self.timeout is not None:
            kwargs.setdefault("timeout", self.timeout)
        if not (isinstance(url, str) and url.startswith("/")):
            return super().request(method, url, *args, **kwargs)
        # The base URL in use, without a freshness check: the auth makes the one check a
        # request needs. If that check (or a 401's refresh) moves the customer to another
        # origin, the path is sent once more, to the new one.
        base = self.auth.known_base_url() or self.auth.api_base_url
        try:
            return super().request(method, base + url, *args, **kwargs)
        except OriginMismatch as moved:
            if moved.moved_to is None:
                raise
            return super().request(method, moved.moved_to + url, *args, **kwargs)

    def paginate(
        self,
        path: str,
        *,
        method: str = "GET",
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield each page's JSON body, following ``records.cursor`` until a page has none.

        The cursor goes in the query for GET and in the JSON body for POST endpoints
        (``/v2/calls/extensive``). Gong's 404 "No … found" (an empty window) yields nothing;
        any other failure raises ``requests.HTTPError``, and so does a cursor Gong already gave
        (following it would loop forever). The pages are :mod:`gong_authlib.gong.paging`'s, as
        the httpx clients' are.
        """
        from gong_authlib.gong.paging import (
            PagingError,
            first_page,
            is_nothing_found,
            json_or_none,
            next_page,
            page_of,
        )

        page: PageRequest | None = first_page(method, params, json)
        while page is not None:
            response = self.request(method, path, params=page.params, json=page.json)
            answer = json_or_none(response)
            if is_nothing_found(response.status_code, answer):
                return
            response.raise_for_status()
            try:
                body = page_of(answer)
                yield body
                page = next_page(page, method, body)
            except PagingError as failure:
                # A server bug must not become an endless loop of calls, nor a bare KeyError.
                raise requests.HTTPError(f"{failure} on {path}", response=response) from None

    def records(
        self,
        path: str,
        key: str,
        *,
        method: str = "GET",
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield the records under ``key`` (``"calls"``, ``"users"``…) of every page."""
        for page in self.paginate(path, method=method, params=params, json=json):
            yield from page.get(key) or []

    def __repr__(self) -> str:
        return f"GongSession(customer={self.customer!r})"


@overload
def gong_session(
    client: GongOAuthClient,
    store: TokenStore,
    customer: str,
    *,
    rate_limit: RateLimit | None = ...,
    rate_limiter: RateLimiter | None = ...,
    retries: int = ...,
    backoff_factor: float = ...,
    timeout: float | tuple[float, float] | None = ...,
    **auth_options: Any,
) -> GongSession[GongAuth]: ...


@overload
def gong_session(
    key: AccessKey,
    /,
    *,
    store: TokenStore | None = ...,
    rate_limit: RateLimit | None = ...,
    rate_limiter: RateLimiter | None = ...,
    retries: int = ...,
    backoff_factor: float = ...,
    timeout: float | tuple[float, float] | None = ...,
) -> GongSession[GongAccessKeyAuth]: ...


def gong_session(
    client: GongOAuthClient | AccessKey,
    store: TokenStore | None = None,
    customer: str | None = None,
    *,
    rate_limit: RateLimit | None = DEFAULT_RATE_LIMIT,
    rate_limiter: RateLimiter | None = None,
    retries: int = 4,
    backoff_factor: float = 0.5,
    timeout: float | tuple[float, float] | None = DEFAULT_API_TIMEOUT,
    **auth_options: Any,
) -> GongSession[GongAuth] | GongSession[GongAccessKeyAuth]:
    """A :class:`GongSession` for ``customer``: ``session.get("/v2/users")`` just works.

    ``gong_session(client, store, customer)`` calls with the customer's OAuth token;
    ``gong_session(key, store=None)`` with a company's :class:`AccessKey`. The session is the
    same either way: relative paths, retries, pacing and paging.

    ``rate_limit`` paces every attempt under the company's Gong budget, shared with every
    worker using ``store`` (None turns pacing off: 429s are then only retried). A key's calls
    draw on the budget named by its ``company``; without a store they are paced in this
    process only. ``rate_limiter`` replaces the limiter built from it (a test's clock, say).
    ``auth_options`` go to :class:`GongAuth` (``leeway``, ``lock_lease``, ``clock`` …).
    """
    options: dict[str, Any] = {
        "retries": retries,
        "backoff_factor": backoff_factor,
        "timeout": timeout,
        "limiter": limiter_for(store, rate_limit, rate_limiter),
    }
    if is_access_key(client):
        from gong_authlib.transport.requests.access_key_auth import GongAccessKeyAuth

        if customer is not None or auth_options:
            raise TypeError(
                "gong_session(key, *, store=None, ...) takes no customer nor auth options"
            )
        return GongSession(GongAccessKeyAuth(client), **options)
    if store is None or customer is None:
        raise TypeError("gong_session(client, store, customer): the store and customer are needed")
    return GongSession(GongAuth(client, store, customer, **auth_options), **options)
