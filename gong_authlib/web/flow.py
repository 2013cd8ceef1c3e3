"""The framework-neutral authorize flow for web apps, bound to the browser that started it.

Login CSRF is the attack to stop: someone authorizes *their own* Gong, then sends a victim
the callback URL, and the victim's browser connects the attacker's company to the victim's
account. The state alone cannot stop it (the state is the attacker's, and valid). So
``start`` gives the browser a random nonce in a short-lived cookie and binds the state to the
nonce's SHA-256; ``finish`` refuses a callback unless the browser brings the nonce whose hash
the state carries. The cookie is ``HttpOnly``, ``SameSite=Lax`` (sent on Gong's top-level
redirect back, not on cross-site sub-requests) and ``Secure`` with the ``__Host-`` prefix
unless the app runs on loopback http (so no other origin can plant a nonce it knows). One
browser keeps one nonce, so two tabs can connect two customers at once.

Without the helpers, do the same three things: keep a random nonce in a cookie, pass its hash
as ``binding=`` to :meth:`GongOAuthClient.authorization_url`, and compare the hash of the
cookie with ``pending.binding`` (``hmac.compare_digest``) after ``parse_callback``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

from gong_authlib.errors import ConfigError, StateError
from gong_authlib.gong.limits import CODE_LIFETIME_SECONDS
from gong_authlib.logs import get_logger
from gong_authlib.oauth.binding import (
    FlowCookie,
    binding_matches,
    browser_binding,
    is_nonce,
    new_nonce,
    path_covers,
)
from gong_authlib.oauth.client import callback_code, callback_params
from gong_authlib.oauth.state import MemoryStateStore
from gong_authlib.origins import is_loopback_redirect
from gong_authlib.stores.contracts import TokenStore, check_customer
from gong_authlib.token import Token
from gong_authlib.tokens.exchange import WRITE_ATTEMPTS, exchange_and_store

if TYPE_CHECKING:
    from gong_authlib.config.model import IntegrationConfig
    from gong_authlib.oauth.client import GongOAuthClient

log = get_logger("web")

COOKIE_NAME = "gong_authlib_connect"


_COOKIE_PREFIXES = ("__Host-", "__Secure-")


def _prefixed(name: str, *, secure: bool, path: str) -> str:
    """The cookie's name with the prefix browsers enforce, so that only this https origin can
    set it.

    ``start`` keeps the nonce a browser already holds (two tabs, two customers), so a nonce
    planted by a sibling subdomain (``Domain=``) or by a network attacker on plain http would
    be one the attacker knows: their state, bound to it, would then finish in the victim's
    browser with the victim's consent. Browsers accept a ``__Host-`` cookie only from a secure
    origin, with ``Secure``, ``Path=/`` and no ``Domain``; ``__Secure-`` (for another path)
    only from a secure origin. Loopback http cannot set ``Secure`` cookies: no prefix.
    """
    if not secure or name.startswith(_COOKIE_PREFIXES):
        return name
    return ("__Host-" if path == "/" else "__Secure-") + name


@dataclass(frozen=True, slots=True)
class FlowStart:
    """Where to send the browser (a 302 to Gong's authorize URL) and the cookie to set."""

    redirect_url: str
    cookie: FlowCookie


class Connected(NamedTuple):
    """A finished flow: the customer it was started for and its token, already stored."""

    customer: str
    token: Token


class ConnectFlow:
    """Connect customers to Gong from a web app with any number of workers.

    ``store`` keeps both the tokens and the issued states, so a callback may land on any
    worker; build ``client`` with ``state_store=store`` (or use :meth:`from_config`).
    """

    def __init__(
        self,
        client: GongOAuthClient,
        store: TokenStore,
        *,
        redirect_uri: str,
        scopes: Sequence[str],
        cookie_name: str = COOKIE_NAME,
        cookie_path: str = "/",
        authorize_params: Callable[[str], Mapping[str, str]] | None = None,
        write_attempts: int = WRITE_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if isinstance(client.states, MemoryStateStore):
            log.warning(
                "the OAuth client keeps its states in this process only: with several "
                "workers, callbacks reaching another one are refused; pass state_store=store"
            )
        callback_path = urlsplit(redirect_uri).path or "/"
        if not path_covers(callback_path, cookie_path):
            raise ValueError(
                f"cookie_path {cookie_path!r} does not cover the callback path "
                f"{callback_path!r}: the browser would never send the connect cookie back"
            )
        self.client = client
        self.store = store
        self.redirect_uri = redirect_uri
        self.scopes = tuple(scopes)
        self._secure = not is_loopback_redirect(redirect_uri)
        self.cookie_name = _prefixed(cookie_name, secure=self._secure, path=cookie_path)
        self.cookie_path = cookie_path
        self._authorize_params = authorize_params
        self._write_attempts = write_attempts
        self._sleep = sleep

    @classmethod
    def from_config(
        cls,
        config: IntegrationConfig,
        store: TokenStore,
        *,
        redirect_uri: str | None = None,
        **options: Any,
    ) -> ConnectFlow:
        """The flow for an integration file: its client, scopes and first https redirect URI
        (or ``redirect_uri``, which must be one of the file's: ConfigError otherwise)."""
        registered = config.integration.redirect_uris
        if redirect_uri is None:
            https = [uri for uri in registered if uri.startswith("https://")]
            redirect_uri = (https or list(registered) or [""])[0]
        if redirect_uri not in registered:
            listed = ", ".join(registered) or "none"
            raise ConfigError(
                f"{redirect_uri!r} is not one of the integration file's redirect_uris "
                f"({listed}): Gong redirects only to a registered URI; add it to "
                f"integration.redirect_uris (and in Gong), or pass one of those"
            )
        client = config.oauth_client(state_store=store)
        return cls(
            client, store, redirect_uri=redirect_uri, scopes=config.integration.scopes, **options
        )

    def start(self, customer: str, *, cookie: str | None = None) -> FlowStart:
        """Begin connecting ``customer``: redirect to the returned URL and set the cookie.

        ``cookie`` is the browser's current flow cookie, if it has one: it is kept, so a
        flow already running in another tab stays valid. Check first that the signed-in
        user may connect ``customer``; the flow trusts the caller on that.
        """
        check_customer(customer)
        nonce = cookie if cookie is not None and is_nonce(cookie) else new_nonce()
        extra = dict(self._authorize_params(customer)) if self._authorize_params else None
        url, _ = self.client.authorization_url(
            self.scopes,
            self.redirect_uri,
            customer=customer,
            binding=browser_binding(nonce),
            extra_params=extra,
        )
        return FlowStart(
            url,
            FlowCookie(
                self.cookie_name, nonce, CODE_LIFETIME_SECONDS, self.cookie_path, self._secure
            ),
        )

    def finish(self, callback: str | Mapping[str, Any], cookie: str | None) -> Connected:
        """Check the callback (its URL or query mapping) against the browser's ``cookie``,
        exchange the code and store the token before returning it.

        Raises StateError (forged, replayed, expired, or another browser), OAuthError
        (consent denied, Gong refused the code), TokenEndpointError, and
        AuthorizationNotSaved when the token could not be stored after every retry.
        """
        if not is_nonce(cookie):
            # Checked before the state is consumed: the browser that did start the flow can
            # still finish it.
            raise StateError(
                "this browser did not start this authorization (its connect cookie is missing): "
                "start connecting again from the same browser"
            )
        # parse_callback's steps, with the browser checked before the callback's error or
        # code is read: an attacker's own state may come with an "error" of their wording.
        params = callback_params(callback)
        pending = self.client.states.consume(
            params.get("state", ""), redirect_uri=self.redirect_uri
        )
        if not binding_matches(pending.binding, cookie):
            raise StateError(
                "this authorization was started in another browser: refusing to finish it "
                "here (possible login CSRF); start connecting again"
            )
        if pending.customer is None:
            raise StateError("the callback's state names no customer")
        code = callback_code(params)
        token = exchange_and_store(
            self.client,
            self.store,
            pending.customer,
            code,
            self.redirect_uri,
            attempts=self._write_attempts,
            sleep=self._sleep,
        )
        return Connected(pending.customer, token)
