"""GongOAuthClient: Gong's authorize URL and token endpoint, in the wire format Gong documents.

Gong's "Create an OAuth app" page is the spec:

* authorize: ``GET /oauth2/authorize?client_id&response_type=code&scope&redirect_uri&state``,
  scopes space-separated (``%20``);
* token: ``POST /oauth2/generate-customer-token`` with HTTP Basic ``client_id:client_secret``
  and every parameter in the **query string**: ``grant_type=authorization_code&code&client_id
  &redirect_uri`` or ``grant_type=refresh_token&refresh_token``, plus ``validity_duration``;
* the answer carries ``api_base_url_for_customer``, the only host the token may be sent to.

authlib builds the token parameters and applies client authentication; a custom authlib
client-auth method moves the parameters from the form body to the query string. authlib is
imported at the first token call, not with this module: its requests integration loads its
OpenID and JOSE code (tens of milliseconds), which a process serving fresh tokens never needs.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, parse_qsl, quote, urlencode, urlsplit

from gong_authlib.clock import Clock, system_clock
from gong_authlib.errors import (
    ClientCredentialsRejected,
    OAuthError,
    ReauthorizationRequired,
    TokenEndpointError,
)
from gong_authlib.gong.endpoints import GONG_AUTHORIZE_URL, GONG_TOKEN_URL
from gong_authlib.gong.hosts import untrusted_reason
from gong_authlib.logs import get_logger
from gong_authlib.oauth import secret_backoff
from gong_authlib.origins import normalize_origins
from gong_authlib.redaction import protect_third_party_loggers
from gong_authlib.telemetry import token_request
from gong_authlib.token import Token, fingerprint

if TYPE_CHECKING:
    import requests

    from gong_authlib.oauth.state import PendingAuthorization, StateStore
    from gong_authlib.oauth.token_answer import TokenAnswer

__all__ = [
    "DEFAULT_TIMEOUT",
    "GongOAuthClient",
    "default_token_session",
]

# What Gong's authorize URL carries; extra parameters may add to them, never replace them.
_AUTHORIZE_PARAMS = frozenset({"client_id", "response_type", "scope", "redirect_uri", "state"})

# (connect, read): a token call is small; a read that takes longer than this is a failure.
DEFAULT_TIMEOUT = (5.0, 30.0)

log = get_logger("oauth")


def _gong_query_client_auth(
    client: Any, method: str, uri: str, headers: dict[str, str], body: str
) -> tuple[str, dict[str, str], str]:
    """authlib client-auth method: HTTP Basic, and the token parameters in the query string."""
    from authlib.common.urls import add_params_to_uri, url_decode
    from authlib.oauth2.auth import encode_client_secret_basic

    uri, headers, body = encode_client_secret_basic(client, method, uri, headers, body)
    uri = add_params_to_uri(uri, url_decode(body or ""))
    headers.pop("Content-Type", None)
    headers["Content-Length"] = "0"
    return uri, headers, ""


def _token_params(grant_type: str, **params: Any) -> str:
    """The token request's parameters, as authlib prepares them (imported at the first call)."""
    from authlib.oauth2.rfc6749.parameters import prepare_token_request

    body: str = prepare_token_request(grant_type, "", **params)
    return body


def default_token_session(*, retries: int = 3, backoff_factor: float = 0.5) -> requests.Session:
    """A session whose retries suit a token endpoint: connection failures and 429/5xx answers.

    Reads that time out are not retried: the refresh may have happened at Gong, and a second
    try with the same single-use refresh token would burn it (``invalid_grant``).
    """
    import requests
    from requests.adapters import HTTPAdapter

    from gong_authlib.gong.retry import TOKEN_MAX_RETRY_AFTER, GongRetry

    retry = GongRetry(
        total=retries,
        connect=retries,
        read=False,
        status=retries,
        other=0,
        allowed_methods=frozenset({"POST"}),
        status_forcelist=frozenset({429, 500, 502, 503, 504}),
        backoff_factor=backoff_factor,
        respect_retry_after_header=True,
        raise_on_status=False,
        max_retry_after=TOKEN_MAX_RETRY_AFTER,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class GongOAuthClient:
    """Gong's OAuth endpoints for one integration (one client ID)."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        authorize_url: str = GONG_AUTHORIZE_URL,
        token_url: str = GONG_TOKEN_URL,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        validity_duration: int | None = None,
        trusted_api_origins: Iterable[str] = (),
        state_store: StateStore | None = None,
        clock: Clock = system_clock,
        retries: int = 3,
        backoff_factor: float = 0.5,
    ) -> None:
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret are both required")
        self.client_id = client_id
        self._client_secret = client_secret
        self.authorize_url = authorize_url
        self.token_url = token_url
        self.timeout = timeout
        self.validity_duration = validity_duration
        self.trusted_api_origins = normalize_origins(trusted_api_origins)
        self.clock = clock
        if state_store is None:
            # The one-process state store loads when a client needs it, not at import.
            from gong_authlib.oauth.state import MemoryStateStore

            state_store = MemoryStateStore(clock=clock)
        self.states: StateStore = state_store
        # Built at the first token call: a process whose tokens are fresh (an httpx app, say)
        # never loads requests and urllib3 for it.
        self._session = session
        self._retries, self._backoff_factor = retries, backoff_factor
        self._client_auth: requests.auth.AuthBase | None = None  # authlib's, at the first call
        protect_third_party_loggers()

    @property
    def session(self) -> requests.Session:
        """The requests session token calls go through (:func:`default_token_session`
        unless one was given)."""
        if self._session is None:
            self._session = default_token_session(
                retries=self._retries, backoff_factor=self._backoff_factor
            )
        return self._session

    @session.setter
    def session(self, session: requests.Session) -> None:
        self._session = session

    def __repr__(self) -> str:
        return f"GongOAuthClient(client_id={self.client_id!r}, token_url={self.token_url!r})"

    @property
    def secret_fingerprint(self) -> str:
        """The client secret's SHA-256 prefix: tells secrets apart, reveals nothing."""
        return fingerprint(self._client_secret)

    @property
    def credentials_key(self) -> secret_backoff.SecretKey:
        """What a refusal of these credentials is kept under (never the secret)."""
        return (self.token_url, self.client_id, self.secret_fingerprint)

    # -- authorization -------------------------------------------------------------------

    def authorization_url(
        self,
        scopes: Iterable[str],
        redirect_uri: str,
        state: str | None = None,
        *,
        customer: str | None = None,
        binding: str = "",
        extra_params: Mapping[str, str] | None = None,
    ) -> tuple[str, str]:
        """The URL to send a Gong tech admin to, and the state it carries.

        Without ``state``, a fresh one is issued from :attr:`states`, bound to
        ``redirect_uri``, ``customer`` and ``binding`` (the hash of a nonce the browser
        holds, see :mod:`gong_authlib.web`); check it on the callback with
        :meth:`parse_callback`. Scopes are joined with spaces and encoded as ``%20``, as
        Gong's documentation shows. ``extra_params`` are appended (FakeGong reads
        ``login_hint`` as the company to approve for).
        """
        scope_list = tuple(scopes)
        clash = sorted(set(extra_params or ()) & _AUTHORIZE_PARAMS)
        if clash:
            raise ValueError(f"extra_params cannot replace the authorize parameter {clash[0]!r}")
        if state is None:
            # binding only when used, so a StateStore written before it existed still works
            extra = {"binding": binding} if binding else {}
            state = self.states.issue(
                customer=customer, redirect_uri=redirect_uri, scopes=scope_list, **extra
            )
        query = urlencode(
            {
                "client_id": self.client_id,
                "response_type": "code",
                "scope": " ".join(scope_list),
                "redirect_uri": redirect_uri,
                "state": state,
                **(extra_params or {}),
            },
            quote_via=quote,
        )
        separator = "&" if "?" in self.authorize_url else "?"
        return f"{self.authorize_url}{separator}{query}", state

    def parse_callback(
        self, callback: str | Mapping[str, Any], *, redirect_uri: str
    ) -> tuple[PendingAuthorization, str]:
        """Check a callback (its URL or query parameters): ``(pending, code)``.

        ``callback`` is the URL, or the query as a framework hands it over: a plain mapping,
        a multi-value one (Django's ``QueryDict``, Starlette's ``QueryParams``, Werkzeug's
        ``MultiDict``) or ``parse_qs``'s lists. Raises :class:`~gong_authlib.StateError`
        for a missing, unknown, reused or expired state, and
        :class:`~gong_authlib.OAuthError` when the admin denied consent.
        """
        params = callback_params(callback)
        pending = self.states.consume(params.get("state", ""), redirect_uri=redirect_uri)
        return pending, callback_code(params)

    # -- token endpoint ------------------------------------------------------------------

    def exchange_code(
        self,
        code: str,
        redirect_uri: str,
        *,
        validity_duration: int | None = None,
        customer: str | None = None,
    ) -> Token:
        """Exchange an authorization code (valid 10 minutes, single use) for a Token."""
        params = _token_params(
            "authorization_code",
            code=code,
            client_id=self.client_id,
            redirect_uri=redirect_uri,
            validity_duration=validity_duration or self.validity_duration,
        )
        token = self._token_request(params, previous=None, customer=customer).usable()
        log.info(
            "authorized customer %s: access sha256:%s, expires %s",
            customer or "(unnamed)",
            token.access_fingerprint,
            token.expires.isoformat(),
        )
        return token

    def refresh(
        self, token: Token, *, validity_duration: int | None = None, customer: str | None = None
    ) -> Token:
        """Trade ``token``'s refresh token for a new Token.

        Gong's refresh tokens are single-use: persist the result before using it. Raises
        :class:`~gong_authlib.ReauthorizationRequired` on ``invalid_grant``, and
        :class:`~gong_authlib.TokenEndpointError` for an answer it cannot use, even one that
        rotated the pair: callers that must keep such a pair use :meth:`refresh_answer`.
        """
        return self.refresh_answer(
            token, validity_duration=validity_duration, customer=customer
        ).usable()

    def refresh_answer(
        self, token: Token, *, validity_duration: int | None = None, customer: str | None = None
    ) -> TokenAnswer:
        """Refresh, and return Gong's answer split into what to keep and what is wrong.

        Raises what means nothing was granted (``invalid_grant``, 5xx, timeouts, garbage).
        Once Gong granted, the answer's ``token`` holds the new refresh token and must be
        persisted before ``problem`` (if any) is raised: see :class:`TokenAnswer`.
        """
        params = _token_params(
            "refresh_token",
            refresh_token=token.refresh_token,
            validity_duration=validity_duration or self.validity_duration,
        )
        answer = self._token_request(params, previous=token, customer=customer)
        log.info(
            "refreshed customer %s: access sha256:%s -> sha256:%s, expires %s%s",
            customer or "(unnamed)",
            token.access_fingerprint,
            answer.token.access_fingerprint,
            answer.token.expires.isoformat(),
            " (with a problem)" if answer.problem else "",
        )
        return answer

    def credentials_accepted(self) -> bool:
        """Whether Gong accepts this client's ID and secret, spending no customer's grant.

        Asks for a refresh with a refresh token that cannot exist: Gong authenticates the
        client before it looks at the grant, so ``invalid_grant`` means the ID and secret were
        accepted and ``invalid_client`` that they were not. Asks even while the secret is in
        its back-off (this is how a fix is confirmed), and clears or extends it by the answer.
        Raises :class:`~gong_authlib.TokenEndpointError` (or ``OAuthError``) for any other.
        """
        params = _token_params(
            "refresh_token", refresh_token=_PROBE_PREFIX + secrets.token_urlsafe(24)
        )
        try:
            self._token_request(params, previous=None, customer=None, ask_now=True)
        except ReauthorizationRequired:
            return True
        except ClientCredentialsRejected:
            return False
        raise TokenEndpointError("Gong's token endpoint granted a refresh token that cannot exist")

    def is_trusted(self, url: str) -> bool:
        """May this client's tokens be sent to ``url``? (``*.gong.io`` or trusted origins)"""
        return untrusted_reason(url, self.trusted_api_origins) is None

    def untrusted_reason(self, url: str) -> str | None:
        """Why tokens may not go to ``url`` under this client's trust, or None."""
        return untrusted_reason(url, self.trusted_api_origins)

    def _client_authentication(self) -> requests.auth.AuthBase:
        if self._client_auth is None:
            from authlib.integrations.requests_client.oauth2_session import OAuth2ClientAuth

            self._client_auth = OAuth2ClientAuth(
                self.client_id, self._client_secret, auth_method=_gong_query_client_auth
            )
        return self._client_auth

    def _token_request(
        self, body: str, *, previous: Token | None, customer: str | None, ask_now: bool = False
    ) -> TokenAnswer:
        refreshing = "grant_type=refresh_token" in body
        grant_type = "refresh_token" if refreshing else "authorization_code"
        grant = "refresh" if refreshing else "code exchange"
        secret_key = self.credentials_key
        paused = None if ask_now else secret_backoff.paused_until(secret_key, self.clock())
        if paused is not None:
            raise ClientCredentialsRejected(
                self.client_id, secret_key[2], description="refused recently", retry_at=paused
            )
        import requests

        from gong_authlib.oauth.token_answer import parse_token_answer

        try:
            with token_request(grant_type, self.token_url, customer) as call:
                response = self.session.post(
                    self.token_url,
                    data=body,
                    auth=self._client_authentication(),
                    timeout=self.timeout,
                    allow_redirects=False,
                )
                call.answered(response.status_code)
        except requests.RequestException as exc:
            # Never the exception's text: it holds the URL, and the URL holds the secret.
            raise TokenEndpointError(f"{_failure_kind(exc)} during the {grant}") from None
        sent = [v for k, v in parse_qsl(body) if k in _SECRET_PARAMS]
        # The Basic pair as sent: it decodes to the secret, and a gateway may quote it back.
        sent.append(str(response.request.headers.get("Authorization") or "").partition(" ")[2])
        try:
            answer = parse_token_answer(
                response,
                received_at=self.clock(),
                previous=previous,
                customer=customer,
                trusted_origins=self.trusted_api_origins,
                sent_secrets=[*sent, self._client_secret],
            )
        except ReauthorizationRequired:
            secret_backoff.accepted(secret_key)  # invalid_grant: the client was authenticated
            raise
        except OAuthError as refusal:
            if refusal.error != "invalid_client":
                raise
            retry_at = secret_backoff.refused(secret_key, self.clock())
            log.error(
                "Gong rejected client ID %s with secret sha256:%s (invalid_client); not "
                "calling the token endpoint with it again for %.0fs",
                self.client_id,
                secret_key[2],
                retry_at - self.clock(),
            )
            raise ClientCredentialsRejected(
                self.client_id, secret_key[2], description=refusal.description, retry_at=retry_at
            ) from None
        secret_backoff.accepted(secret_key)
        return answer


def callback_params(callback: str | Mapping[str, Any]) -> dict[str, str]:
    """The callback's parameters, one value each, from a URL or any framework's mapping.

    A parameter given twice is refused rather than guessed: a second ``state`` or ``code``
    appended to a real callback URL is someone tampering with it.
    """
    if isinstance(callback, str):
        lists: dict[str, list[str]] = parse_qs(urlsplit(callback).query, keep_blank_values=True)
    else:
        getlist = getattr(callback, "getlist", None) or getattr(callback, "get_list", None)
        lists = {}
        for key in callback:
            values = getlist(key) if callable(getlist) else callback[key]
            many = isinstance(values, list | tuple)
            lists[str(key)] = [str(v) for v in values] if many else [str(values)]
    params: dict[str, str] = {}
    for key, values in lists.items():
        if len(values) > 1 and key in ("state", "code", "error"):
            raise OAuthError(f"the callback carries {key!r} more than once; refusing it")
        if values:
            params[key] = str(values[0])
    return params


def callback_code(params: Mapping[str, str]) -> str:
    """The code of a callback whose state was accepted; OAuthError for Gong's error answer.

    Read only once the state (and, for web flows, the browser) is known to be this flow's:
    before that, ``error`` is text anyone could have written into a link.
    """
    if "error" in params:
        error = params["error"]
        description = params.get("error_description")
        text = "the Gong admin denied access" if error == "access_denied" else error
        raise OAuthError(f"authorization failed: {text}", error=error, description=description)
    code = params.get("code")
    if not code:
        raise OAuthError("the callback carries neither a code nor an error")
    return code


# Request parameters whose values an error answer must not carry back into a message.
# The refresh token credentials_accepted() sends: random, so no grant can ever match it.
_PROBE_PREFIX = "gong-authlib-credentials-check-"

_SECRET_PARAMS = frozenset({"code", "refresh_token", "client_secret", "code_verifier"})


def _failure_kind(exc: requests.RequestException) -> str:
    """Name a transport failure without quoting it (requests' messages include the URL)."""
    import requests
    from urllib3.exceptions import ReadTimeoutError

    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(exc, requests.Timeout) or isinstance(reason, TimeoutError | ReadTimeoutError):
        return "Gong's token endpoint timed out"
    return f"could not reach Gong's token endpoint ({type(exc).__name__})"
