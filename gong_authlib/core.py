"""CustomerToken: one customer's token kept valid, for any HTTP transport.

This is the token core every front end shares (``GongAuth`` for requests, ``GongHttpxAuth``
for httpx): the transports only attach a header and read a 401, so the refresh logic exists
once and the front ends cannot drift apart.

The hot path (:meth:`CustomerToken.current` with a fresh token in memory) does no I/O and takes
no lock: one clock read and one comparison. Everything else happens on the stale path, in this
order, as the reliability rules ask:

1. take the customer's in-process lock (one refresher per process);
2. re-read the store: another thread or process may have refreshed already;
3. take the store's cross-process lease lock, and re-read again under it;
4. refresh only if the stored token is still the one seen as stale;
5. persist the new token before using it (Gong's refresh tokens are single-use);
6. on ``invalid_grant``, re-read the store once more, then raise ReauthorizationRequired.

Every trigger (expiry, a 401, a manual refresh) is the same double-checked routine with a
different predicate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gong_authlib.clock import Clock
from gong_authlib.errors import OriginMismatch, ReauthorizationRequired, TokenNotFound
from gong_authlib.logs import get_logger
from gong_authlib.oauth import GongOAuthClient
from gong_authlib.origins import origin_of
from gong_authlib.stores.base import DEFAULT_LEASE, TokenStore
from gong_authlib.token import Token, fingerprint

log = get_logger("auth")

# Refresh five minutes early: enough for clock skew between us and Gong and for a request
# in flight to land before the token dies, small beside Gong's default one-day lifetime.
DEFAULT_LEEWAY = 300.0


@dataclass(frozen=True, slots=True)
class Current:
    """The token in use and what a transport needs of it, swapped in as one object.

    ``prefix`` is ``origin + "/"``: a URL that starts with it is on the customer's origin, the
    cheap test a transport makes before the exact one in :meth:`CustomerToken.check_origin`.
    """

    token: Token
    header: str
    refresh_at: float
    origin: str
    prefix: str


class CustomerToken:
    """Keep ``customer``'s token valid: read it, refresh it under the customer's locks, persist it.

    Thread-safe; any number of CustomerTokens (in any number of processes) may share one store.
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
        self.clock = clock or client.clock
        # Read by the transports' hot paths without a lock: it is replaced, never mutated.
        self.current: Current | None = None
        self._thread_lock = store.thread_lock(customer)

    def __repr__(self) -> str:
        return f"CustomerToken(customer={self.customer!r}, store={self.store!r})"

    # -- what transports and callers ask -------------------------------------------------

    def fresh(self) -> Current:
        """The current token, refreshed first if it is stale: the one freshness check a
        request needs."""
        current = self.current
        if current is not None and self.clock() < current.refresh_at:
            return current
        return self._refresh_under_lock(self._is_stale)

    def refresh(self, *, if_current: Token | None = None) -> Token:
        """Refresh now, under the same locks as an automatic refresh.

        With ``if_current``, refresh only if the stored token is still that one: a no-op
        (returning the stored token) when another caller already refreshed it. This is what a
        transport calls after a 401, so that twenty concurrent 401s make one refresh.
        """
        if if_current is None:
            return self._refresh_under_lock(lambda stored: True).token
        seen = if_current.access_token
        return self._refresh_under_lock(lambda stored: stored.access_token == seen).token

    def after_401(self, failed_header: str) -> Current:
        """The token to resend with after Gong answered 401 to ``failed_header``.

        Refreshes only if the token that failed is still the stored one; otherwise adopts
        what another caller stored meanwhile.
        """

        def still_the_failed_one(stored: Token) -> bool:
            return f"Bearer {stored.access_token}" == failed_header

        return self._refresh_under_lock(still_the_failed_one)

    def check_origin(self, url: str, current: Current) -> None:
        """Raise OriginMismatch unless ``url`` is on the customer's API origin.

        The slow path of the origin check: transports first test ``current.prefix``; equal
        origins spelled differently (upper case, an explicit default port) pass here.
        """
        origin = origin_of(url)
        if origin != current.origin:
            raise OriginMismatch(
                f"refusing to send customer {self.customer!r}'s token to {origin}: "
                f"its Gong API origin is {current.origin}"
            )

    def effective_leeway(self, token: Token) -> float:
        """``leeway``, but never more than half the token's lifetime.

        A leeway as long as the lifetime would make every new token look stale at once and
        refresh in a loop (``validity_duration=60`` with the default leeway, for instance).
        """
        return min(self.leeway, max(token.lifetime, 0.0) / 2)

    # -- the stale path ------------------------------------------------------------------

    def _adopt(self, token: Token) -> Current:
        origin = origin_of(token.api_base_url)
        current = Current(
            token=token,
            header=f"Bearer {token.access_token}",
            refresh_at=token.expires_at - self.effective_leeway(token),
            origin=origin,
            prefix=origin + "/",
        )
        self.current = current
        return current

    def _read(self) -> Token:
        token = self.store.get(self.customer)
        if token is None:
            raise TokenNotFound(self.customer)
        return token

    def _is_stale(self, token: Token) -> bool:
        return self.clock() >= token.expires_at - self.effective_leeway(token)

    def _refresh_under_lock(self, needs_refresh: Callable[[Token], bool]) -> Current:
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
