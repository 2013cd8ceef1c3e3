"""Authorizing one customer from a terminal: the authorize URL, the callback, the exchange.

Used by ``gong-authlib authorize`` and the demo. With a loopback redirect URI, a server on
127.0.0.1 waits for the callback that carries this flow's state (requests without it are
ignored and counted); otherwise the person pastes the URL they were redirected to. Either
way the state is checked, the code exchanged inside its 10 minutes, and the token stored
before anything else happens.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gong_authlib.callback import LoopbackCallbackServer, is_loopback_redirect
from gong_authlib.errors import GongAuthError, OAuthError, StateError
from gong_authlib.exchange import exchange_and_store
from gong_authlib.oauth import GongOAuthClient
from gong_authlib.state import CODE_LIFETIME_SECONDS
from gong_authlib.stores.base import TokenStore
from gong_authlib.token import Token


@dataclass(frozen=True)
class Authorization:
    """The outcome of authorizing a customer: its stored token and what was (not) granted."""

    customer: str
    token: Token
    requested: tuple[str, ...]
    ignored_requests: int = 0  # loopback requests without this flow's state

    @property
    def missing_scopes(self) -> list[str]:
        return sorted(set(self.requested) - self.token.scope)


def authorize_customer(
    client: GongOAuthClient,
    store: TokenStore,
    customer: str,
    *,
    scopes: Sequence[str],
    redirect_uri: str,
    open_url: Callable[[str], object],
    paste: Callable[[], str] | None = None,
    timeout: float = CODE_LIFETIME_SECONDS,
) -> Authorization:
    """Send a Gong tech admin through consent for ``customer`` and store the token.

    ``open_url`` shows the authorize URL (a browser, a print). For a non-loopback redirect URI,
    ``paste`` must return the URL the browser was redirected to. Raises OAuthError (denied,
    timed out), StateError (forged or stale callback) and OSError (loopback port in use).
    """
    url, state = client.authorization_url(scopes, redirect_uri, customer=customer)
    if not is_loopback_redirect(redirect_uri):
        if paste is None:
            raise OAuthError("a non-loopback redirect URI needs the redirected URL pasted")
        open_url(url)
        token = _exchange(client, store, customer, paste().strip(), redirect_uri)
        return Authorization(customer, token, tuple(scopes))

    tokens: list[Token] = []
    errors: list[GongAuthError] = []

    def handle(params: dict[str, list[str]]) -> tuple[bool, str]:
        try:
            tokens.append(_exchange(client, store, customer, params, redirect_uri))
        except GongAuthError as exc:
            errors.append(exc)
            return False, str(exc)
        return True, f"Customer {customer} is connected to Gong."

    server = LoopbackCallbackServer(redirect_uri, handle, state=state)
    server.start()
    try:
        open_url(url)
    except BaseException:
        server.wait(0)
        raise
    outcome = server.wait(timeout)
    if outcome is None:
        raise OAuthError(
            f"no callback with this authorization's state arrived within {timeout:g} s"
            f"{_ignored_note(server.ignored)}; run authorize again"
        )
    if errors:
        raise errors[0]
    if not tokens:
        raise OAuthError(f"the callback could not be handled: {outcome[1]}")
    return Authorization(customer, tokens[0], tuple(scopes), server.ignored)


def _ignored_note(ignored: int) -> str:
    if not ignored:
        return ""
    what = "request was" if ignored == 1 else "requests were"
    return f" ({ignored} forged or stray {what} ignored)"


def _exchange(
    client: GongOAuthClient,
    store: TokenStore,
    customer: str,
    callback: str | Mapping[str, Any],
    redirect_uri: str,
) -> Token:
    pending, code = client.parse_callback(callback, redirect_uri=redirect_uri)
    if pending.customer not in (None, customer):
        raise StateError(f"the callback's state was issued for customer {pending.customer!r}")
    # Persisted (with retries: the code is spent) before it is reported or used.
    return exchange_and_store(client, store, customer, code, redirect_uri)
