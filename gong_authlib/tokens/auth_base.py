"""CustomerAuthBase: what every transport's auth (requests, httpx) exposes of its token core.

``GongAuth`` and ``GongHttpxAuth`` differ only in how they attach a header and read a 401;
building the :class:`~gong_authlib.CustomerToken` and answering "which customer, which
token, refresh now" is written once here, so the two front ends cannot drift apart.
"""

from __future__ import annotations

from gong_authlib.clock import Clock
from gong_authlib.errors import TokenNotFound
from gong_authlib.oauth.client import GongOAuthClient
from gong_authlib.stores.contracts import DEFAULT_LEASE, TokenStore
from gong_authlib.token import Token
from gong_authlib.tokens.customer_token import (
    DEFAULT_INTENT_HOLD,
    DEFAULT_LEEWAY,
    CustomerToken,
)


class CustomerAuthBase:
    """One customer's token core, and the questions callers ask of it."""

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
        intent_hold: float = DEFAULT_INTENT_HOLD,
    ) -> None:
        self.customer_token = CustomerToken(
            client,
            store,
            customer,
            leeway=leeway,
            lock_lease=lock_lease,
            lock_timeout=lock_timeout,
            clock=clock,
            intent_hold=intent_hold,
        )
        # Held here too: one attribute hop less on hot paths.
        self._clock = self.customer_token.clock
        self._built()

    def _built(self) -> None:
        """For a front end's own per-instance state, set once the core exists."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(customer={self.customer!r}, store={self.store!r})"

    @property
    def client(self) -> GongOAuthClient:
        return self.customer_token.client

    @property
    def store(self) -> TokenStore:
        return self.customer_token.store

    @property
    def customer(self) -> str:
        return self.customer_token.customer

    @property
    def leeway(self) -> float:
        return self.customer_token.leeway

    @property
    def token(self) -> Token:
        """The current token, loaded from the store (and refreshed) if needed. Blocking."""
        return self.customer_token.fresh().token

    @property
    def api_base_url(self) -> str:
        return self.customer_token.fresh().token.api_base_url

    def known_base_url(self) -> str | None:
        """The base URL of the token in use, with no I/O and no freshness check (None before
        the first load): where a session sends relative paths, as an access key's auth
        answers the same question (:class:`~gong_authlib.tokens.access_key.AccessKeyAuthBase`)."""
        current = self.customer_token.current
        return None if current is None else current.token.api_base_url

    def stored_base_url(self) -> str:
        """The customer's base URL as stored: one store read, never a call to Gong (so a
        client built inside a coroutine does not refresh on the loop)."""
        token = self.store.get(self.customer)
        if token is None:
            raise TokenNotFound(self.customer)
        return token.api_base_url

    def refresh(self, *, if_current: Token | None = None) -> Token:
        """Refresh now, whatever the expiry, under the same locks as an automatic refresh.

        With ``if_current``, a no-op when the stored token is no longer that one (another
        caller refreshed it already); see :meth:`CustomerToken.refresh`.
        """
        return self.customer_token.refresh(if_current=if_current)

    def effective_leeway(self, token: Token) -> float:
        return self.customer_token.effective_leeway(token)
