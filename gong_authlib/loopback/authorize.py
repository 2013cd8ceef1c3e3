"""Authorizing one customer from a terminal: the authorize URL, the callback, the exchange.

Used by ``gong-authlib authorize`` and the demo. With a loopback redirect URI, a server on
127.0.0.1 serves a one-time start URL (shown instead of Gong's URL: a browser's command line
is readable by other local users) that sends the browser on to Gong with a nonce cookie, and
waits for the callback that carries this flow's state *and* that cookie (other requests are
ignored and counted). Otherwise the person pastes the URL they were redirected to: that flow
is not bound to a browser, because only the person at the terminal can hand it a callback.
Either way the state is checked, the code exchanged inside its 10 minutes, and the token
stored before anything else happens.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gong_authlib.errors import GongAuthError, OAuthError, StateError
from gong_authlib.gong.limits import CODE_LIFETIME_SECONDS
from gong_authlib.loopback.server import LoopbackCallbackServer
from gong_authlib.oauth.binding import binding_matches, browser_binding, new_nonce
from gong_authlib.oauth.client import GongOAuthClient
from gong_authlib.origins import is_loopback_redirect
from gong_authlib.stores.contracts import TokenStore
from gong_authlib.token import Token
from gong_authlib.tokens.exchange import exchange_and_store


@dataclass(frozen=True)
class Authorization:
    """The outcome of authorizing a customer: its stored token and what was (not) granted."""

    customer: str
    token: Token
    requested: tuple[str, ...]
    ignored_requests: int = 0  # loopback callbacks without this flow's state and cookie
    refused_starts: int = 0  # visits to the loopback start URL after the first
    other_users: int = 0  # loopback connections from another local user's programs (Linux)

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

    ``open_url`` shows the URL to open (a browser, a print): the loopback server's one-time
    start URL, or Gong's authorize URL for a non-loopback redirect URI, where ``paste`` must
    return the URL the browser was redirected to. Raises OAuthError (denied, timed out),
    StateError (forged or stale callback) and OSError (loopback port in use).
    """
    if not is_loopback_redirect(redirect_uri):
        if paste is None:
            raise OAuthError("a non-loopback redirect URI needs the redirected URL pasted")
        url, _ = client.authorization_url(scopes, redirect_uri, customer=customer)
        open_url(url)
        token = _exchange(client, store, customer, paste().strip(), redirect_uri)
        return Authorization(customer, token, tuple(scopes))

    nonce = new_nonce()
    url, state = client.authorization_url(
        scopes, redirect_uri, customer=customer, binding=browser_binding(nonce)
    )

    tokens: list[Token] = []
    errors: list[GongAuthError] = []

    def handle(params: dict[str, list[str]]) -> tuple[bool, str]:
        try:
            tokens.append(_exchange(client, store, customer, params, redirect_uri, nonce=nonce))
        except GongAuthError as exc:
            errors.append(exc)
            return False, str(exc)
        return True, f"Customer {customer} is connected to Gong."

    server = LoopbackCallbackServer(
        redirect_uri, handle, state=state, authorize_url=url, nonce=nonce
    )
    server.start()
    try:
        open_url(server.start_url)
    except BaseException:
        server.wait(0)
        raise
    outcome = server.wait(timeout)
    if outcome is None:
        raise OAuthError(
            f"no callback with this authorization's state arrived within {timeout:g} s"
            f"{_ignored_note(server.ignored)}{_other_users_note(server.other_users)}"
            f"{_over_capacity_note(server.over_capacity)}; run authorize again"
        )
    if errors:
        raise errors[0]
    if not tokens:
        raise OAuthError(f"the callback could not be handled: {outcome[1]}")
    return Authorization(
        customer,
        tokens[0],
        tuple(scopes),
        ignored_requests=server.ignored,
        refused_starts=server.refused_starts,
        other_users=server.other_users,
    )


def _note(count: int, one: str, many: str, said: str) -> str:
    """`` (3 connections were closed …)``: what happened ``count`` times, or nothing."""
    return f" ({count} {one if count == 1 else many} {said})" if count else ""


def _other_users_note(count: int) -> str:
    return _note(
        count,
        "connection",
        "connections",
        "from another local user's programs turned away: run authorize as the user whose "
        "browser consents",
    )


def _over_capacity_note(count: int) -> str:
    return _note(
        count,
        "connection was",
        "connections were",
        "closed unread because too many were open at once: a local program may be holding "
        "connections to the callback port",
    )


def _ignored_note(ignored: int) -> str:
    return _note(ignored, "forged or stray request was", "forged or stray requests were", "ignored")


def _exchange(
    client: GongOAuthClient,
    store: TokenStore,
    customer: str,
    callback: str | Mapping[str, Any],
    redirect_uri: str,
    *,
    nonce: str | None = None,
) -> Token:
    pending, code = client.parse_callback(callback, redirect_uri=redirect_uri)
    # The loopback server checked the browser's cookie already; this checks that the state
    # consumed is the one bound to it.
    if nonce is not None and not binding_matches(pending.binding, nonce):
        raise StateError("the callback's state is not bound to the browser that started it")
    if pending.customer not in (None, customer):
        raise StateError(f"the callback's state was issued for customer {pending.customer!r}")
    # Persisted (with retries: the code is spent) before it is reported or used.
    return exchange_and_store(client, store, customer, code, redirect_uri)
