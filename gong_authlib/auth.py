"""GongAuth: a requests auth plugin that keeps one Gong customer's bearer token valid.

The hot path (a fresh token in memory) does no I/O and takes no lock: one clock read, one
comparison, one origin check, one header. Everything else happens on the stale path, in this
order, as DESIGN.md's reliability rules ask:

1. take the customer's in-process lock (one refresher per process);
2. re-read the store: another thread or process may have refreshed already;
3. take the store's cross-process lease lock, and re-read again under it;
4. refresh only if the stored token is still the one seen as stale;
5. persist the new token before using it (Gong's refresh tokens are single-use);
6. on ``invalid_grant``, re-read the store once more, then raise ReauthorizationRequired.

A 401 from the customer's API is handled like requests' ``HTTPDigestAuth`` handles its
challenge: if the token that failed is still current, refresh once, resend once, and keep the
first response in ``history``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from requests.auth import AuthBase
from requests.utils import rewind_body

from gong_authlib.clock import Clock
from gong_authlib.errors import (
    OriginMismatch,
    ReauthorizationRequired,
    RequestNotReplayable,
    TokenNotFound,
)
from gong_authlib.logs import get_logger
from gong_authlib.oauth import GongOAuthClient, origin_of
from gong_authlib.stores.base import DEFAULT_LEASE, TokenStore
from gong_authlib.token import Token, fingerprint

log = get_logger("auth")

# Refresh five minutes early: enough for clock skew between us and Gong and for a request
# in flight to land before the token dies, small beside Gong's default one-day lifetime.
DEFAULT_LEEWAY = 300.0


@dataclass(frozen=True, slots=True)
class _Current:
    """The token in use and what the hot path needs of it, swapped in as one object."""

    token: Token
    header: str
    refresh_at: float
    origin: str
    prefix: str


class GongAuth(AuthBase):
    """Attach ``customer``'s Gong bearer token to requests sent to its API origin.

    Requests to any other origin raise :class:`~gong_authlib.OriginMismatch` before they are
    sent: a token must never leave its customer's ``api_base_url``. Thread-safe; any number of
    GongAuth objects and sessions may share one store.
    """

    def __init__(
        self,
        client: GongOAuthClient,
        store: TokenStore,
        customer: str,
        *,
        leeway: float = DEFAULT_LEEWAY,
        lock_lease: float = DEFAULT_LEASE,
        lock_timeout: float | None = None,
        clock: Clock | None = None,
    ) -> None:
        if leeway < 0:
            raise ValueError("leeway cannot be negative")
        self.client = client
        self.store = store
        self.customer = customer
        self.leeway = leeway
        self.lock_lease = lock_lease
        self.lock_timeout = lock_timeout
        self._clock = clock or client.clock
        self._current: _Current | None = None
        self._thread_lock = store.thread_lock(customer)
        self._response_hook = self._on_response  # one bound method, not one per request

    def __repr__(self) -> str:
        return f"GongAuth(customer={self.customer!r}, store={self.store!r})"

    # -- what callers can ask ------------------------------------------------------------

    @property
    def token(self) -> Token:
        """The current token, loaded from the store (and refreshed) if needed."""
        return self._ensure_fresh().token

    @property
    def api_base_url(self) -> str:
        return self._ensure_fresh().token.api_base_url

    def refresh(self) -> Token:
        """Refresh now, whatever the expiry, under the same locks as an automatic refresh."""
        return self._refresh_under_lock(lambda stored: True).token

    def effective_leeway(self, token: Token) -> float:
        """``leeway``, but never more than half the token's lifetime.

        A leeway as long as the lifetime would make every new token look stale at once and
        refresh in a loop (``validity_duration=60`` with the default leeway, for instance).
        """
        return min(self.leeway, max(token.lifetime, 0.0) / 2)

    # -- requests' AuthBase --------------------------------------------------------------

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        current = self._current
        if current is None or self._clock() >= current.refresh_at:
            current = self._ensure_fresh()
        url = request.url
        if not (url and url.startswith(current.prefix)):
            self._check_origin(url or "", current)
        request.headers["Authorization"] = current.header
        # Appended directly: register_hook's isinstance(…, Callable) check would cost more
        # than the rest of this method.
        request.hooks["response"].append(self._response_hook)
        return request

    def _check_origin(self, url: str, current: _Current) -> None:
        """The slow path of the origin check: equal origins spelled differently pass."""
        if origin_of(url) != current.origin:
            raise OriginMismatch(
                f"refusing to send customer {self.customer!r}'s token to {origin_of(url)}: "
                f"its Gong API origin is {current.origin}"
            )

    # -- the stale path ------------------------------------------------------------------

    def _adopt(self, token: Token) -> _Current:
        origin = origin_of(token.api_base_url)
        current = _Current(
            token=token,
            header=f"Bearer {token.access_token}",
            refresh_at=token.expires_at - self.effective_leeway(token),
            origin=origin,
            prefix=origin + "/",
        )
        self._current = current
        return current

    def _read(self) -> Token:
        token = self.store.get(self.customer)
        if token is None:
            raise TokenNotFound(self.customer)
        return token

    def _is_stale(self, token: Token) -> bool:
        return self._clock() >= token.expires_at - self.effective_leeway(token)

    def _ensure_fresh(self) -> _Current:
        current = self._current
        if current is not None and self._clock() < current.refresh_at:
            return current
        return self._refresh_under_lock(self._is_stale)

    def _refresh_after_401(self, failed_header: str) -> _Current:
        def still_the_failed_one(stored: Token) -> bool:
            return f"Bearer {stored.access_token}" == failed_header

        return self._refresh_under_lock(still_the_failed_one)

    def _refresh_under_lock(self, needs_refresh: Callable[[Token], bool]) -> _Current:
        """Refresh if ``needs_refresh(stored)`` still holds under both locks; else adopt."""
        with self._thread_lock:
            stored = self._read()
            if not needs_refresh(stored):
                return self._adopt(stored)
            with self.store.lock(self.customer, lease=self.lock_lease, timeout=self.lock_timeout):
                stored = self._read()
                if not needs_refresh(stored):
                    return self._adopt(stored)
                return self._adopt(self._refresh(stored))

    def _refresh(self, stored: Token) -> Token:
        log.info(
            "refreshing customer %s (access sha256:%s, expires %s)",
            self.customer,
            stored.access_fingerprint,
            stored.expires.isoformat(),
        )
        try:
            fresh = self.client.refresh(stored, customer=self.customer)
        except ReauthorizationRequired:
            again = self._read()
            if again.access_token != stored.access_token:
                log.info("customer %s was refreshed elsewhere meanwhile", self.customer)
                return again
            log.warning(
                "customer %s must authorize the app again: Gong rejected refresh token sha256:%s",
                self.customer,
                fingerprint(stored.refresh_token),
            )
            raise
        self.store.put(self.customer, fresh)  # persisted before anything uses it
        return fresh

    # -- the 401 hook --------------------------------------------------------------------

    def _on_response(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        if response.status_code != 401:
            return response
        request = response.request
        if getattr(request, "_gong_resent", False):
            return response  # resent once already: the 401 stands
        current = self._current
        if current is None or origin_of(response.url) != current.origin:
            return response  # a redirect led elsewhere: never send the token there
        failed_header = str(request.headers.get("Authorization", ""))
        fresh = self._refresh_after_401(failed_header)
        log.info("customer %s: 401 from Gong; resending once with a fresh token", self.customer)
        if not _rewind(request):
            raise RequestNotReplayable(
                f"Gong answered 401 for customer {self.customer!r}; the token was refreshed, "
                "but the request body is a stream that cannot be sent again: retry the request"
            )
        response.content  # noqa: B018 - read it so the connection can be reused
        response.close()
        retry = request.copy()
        retry.headers["Authorization"] = fresh.header
        retry._gong_resent = True  # type: ignore[attr-defined]
        resent: requests.Response = response.connection.send(retry, **kwargs)
        resent.history.append(response)
        resent.request = retry
        return resent


def _rewind(request: requests.PreparedRequest) -> bool:
    """Make ``request``'s body sendable again; False if it is a stream that cannot be."""
    body = request.body
    if body is None or isinstance(body, bytes | str):
        return True
    if getattr(request, "_body_position", None) is not None and hasattr(body, "seek"):
        rewind_body(request)
        return True
    return False
