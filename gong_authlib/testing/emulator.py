"""FakeGong's behaviour: Gong's OAuth server and API as state and pure request handlers.

Faithful to Gong where it matters to clients: token parameters in the query string as Gong
documents them, or in a form body as production Gong also reads them (refused with
``strict_query``), HTTP Basic client authentication, 10-minute single-use codes, single-use
rotating refresh tokens answered with ``invalid_grant`` on reuse, one API origin per
customer, Gong's error body ``{"requestId", "errors"}``, 401 for missing or expired tokens,
401 "You don't have permission to use '<scope>' in your app." for a missing scope (as real
Gong answers), 403 for another customer's token, company API keys (Basic ``key:secret``,
every scope, on their company's origin only, 401 for a wrong secret), 429 with
``Retry-After`` over a company's per-second or per-day limit (the daily one hours long), and
list endpoints paged and filtered as Gong pages them (:mod:`gong_authlib.testing.records`,
call content in :mod:`gong_authlib.testing.call_content`).

The HTTP plumbing lives in :mod:`gong_authlib.testing.server`; this module never touches a
socket, so every rule here is a plain function of the request.
"""

from __future__ import annotations

import base64
import html
import json
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args
from urllib.parse import parse_qs, urlencode, urlsplit

from gong_authlib.gong.limits import CODE_LIFETIME_SECONDS
from gong_authlib.gong.scopes import KNOWN_SCOPES
from gong_authlib.testing import call_content
from gong_authlib.testing.call_content import ContentSelector
from gong_authlib.testing.records import (
    BadListRequest,
    Catalog,
    call_record,
    primary_user,
    user_record,
    workspace_record,
)
from gong_authlib.testing.routes import ApiRequest, Route, find_route
from gong_authlib.token import fingerprint

DEFAULT_VALIDITY = 86_400
INTEGRATION_TYPES = frozenset({"EMAIL_COMPOSER", "ACCOUNT_PAGES", "DIALER"})
# Gong warns integrationId exceeds 2**53: clients must parse it as an integer, not a float.
FIRST_INTEGRATION_ID = 2**53 + 1

DAY = 86_400
FORM_TYPE = "application/x-www-form-urlencoded"

FaultKind = Literal["status", "html", "truncated", "empty", "body", "drop", "delay", "answer"]
FAULT_KINDS: frozenset[str] = frozenset(get_args(FaultKind))


@dataclass
class Reply:
    """What a handler answers: status, JSON or text body, extra headers, or a dropped line."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    delay: float = 0.0

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.headers.get("Content-Type", "application/octet-stream")
        if isinstance(self.body, str):
            return self.body.encode(), self.headers.get("Content-Type", "text/html; charset=utf-8")
        if self.body is None:
            return b"", "text/plain"
        return json.dumps(self.body).encode(), "application/json"


@dataclass
class Fault:
    """One injected failure.

    ``kind``: ``status`` (Gong's error body with ``status`` and optional ``retry_after``),
    ``html``, ``truncated`` (cut-off JSON), ``empty``, ``body`` (``status`` with ``body`` as
    the JSON answer), ``drop`` (close the connection unanswered), ``delay`` (wait ``seconds``,
    then answer normally) or ``answer`` (token endpoint only: Gong really grants, rotating the
    refresh token, then the answer is altered: ``changes`` replaces fields, ``remove`` drops
    them; an odd answer after a real rotation, e.g. an untrusted ``api_base_url_for_customer``,
    an access token with CR/LF or an ``expires_in`` of Infinity).
    """

    target: str  # "token" or "api"
    kind: FaultKind
    times: int = 1
    status: int = 503
    seconds: float = 0.0
    retry_after: int | None = None
    customer: str | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    changes: dict[str, Any] = field(default_factory=dict)
    remove: tuple[str, ...] = ()

    def alter(self, reply: Reply) -> Reply:
        """An ``answer`` fault applied to a real token answer (errors pass unchanged)."""
        if reply.status != 200 or not isinstance(reply.body, dict):
            return reply
        body = {k: v for k, v in reply.body.items() if k not in self.remove}
        body.update(self.changes)
        return Reply(reply.status, body, dict(reply.headers))


@dataclass
class _Code:
    customer: str
    redirect_uri: str
    scopes: tuple[str, ...]
    issued_at: float
    used: bool = False


@dataclass
class _Grant:
    customer: str
    scopes: tuple[str, ...]
    access_expires_at: float
    refresh_token: str
    revoked: bool = False


@dataclass
class Stats:
    """Counters tests assert on; keys are customer names (and grant types for token calls)."""

    token_calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    invalid_grant: Counter[str] = field(default_factory=Counter)
    api_calls: Counter[str] = field(default_factory=Counter)
    api_401: Counter[str] = field(default_factory=Counter)
    api_403: Counter[str] = field(default_factory=Counter)
    api_429: Counter[str] = field(default_factory=Counter)
    api_429_daily: Counter[str] = field(default_factory=Counter)
    missing_scope: Counter[tuple[str, str]] = field(default_factory=Counter)
    # Token calls whose parameters came in a form body, by grant type (see Emulator.token).
    form_body: Counter[str] = field(default_factory=Counter)
    # invalid_client answers, by the presented secret's fingerprint (never the secret).
    invalid_client: Counter[str] = field(default_factory=Counter)

    def refreshes(self, customer: str | None = None) -> int:
        return sum(
            n
            for (who, grant), n in self.token_calls.items()
            if grant == "refresh_token" and customer in (None, who)
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _request_id() -> str:
    return secrets.token_hex(10)


def gong_error(status: int, message: str, **headers: str) -> Reply:
    return Reply(status, {"requestId": _request_id(), "errors": [message]}, dict(headers))


def oauth_error(error: str, description: str, status: int = 400) -> Reply:
    return Reply(status, {"error": error, "error_description": description})


class Emulator:
    """The shared state of one FakeGong: the registered app, customers, codes and tokens."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        redirect_uris: Iterable[str],
        scopes: Iterable[str],
        clock: Callable[[], float],
        auto_approve: bool,
        default_validity: int,
        rate_limit: int | None = None,
        daily_limit: int | None = None,
        rate_clock: Callable[[], float] | None = None,
        page_size: int | None = None,
        strict_query: bool = False,
    ) -> None:
        self.client_id = client_id
        self.strict_query = strict_query
        self.client_secret = client_secret
        self.redirect_uris = set(redirect_uris)
        self.app_scopes = tuple(scopes)
        self.clock = clock
        self.auto_approve = auto_approve
        self.default_validity = default_validity
        self.customer_origins: dict[str, str] = {}
        self.signed_in_customer: str | None = None
        self.stats = Stats()
        self.faults: list[Fault] = []
        self.allowed_origins: dict[str, list[dict[str, str]]] = {}
        self.access_keys: dict[str, tuple[str, str]] = {}  # key id -> (company, secret)
        self.lock = threading.RLock()
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}
        self._used_refresh: dict[str, str] = {}  # spent refresh token -> its customer
        self._next_integration_id = FIRST_INTEGRATION_ID
        # The secret a rotation replaced, and until when it still authenticates (its grace).
        self._previous_secret: tuple[str, float] | None = None
        # Gong's OpenAPI promises integrationId; production Gong has answered with requestId only.
        self.answer_integration_id = True

        # Gong allows 3 calls a second and 10,000 a day per company by default; None turns a
        # limit off. Rates are about load, so they run on real time unless a test passes its
        # FakeClock as ``rate_clock``.
        self.rate_limit = rate_limit
        self.daily_limit = daily_limit
        self.rate_clock: Callable[[], float] = rate_clock or time.time
        self._recent_calls: dict[str, deque[float]] = {}
        self._daily_calls: dict[str, tuple[int, int]] = {}  # customer -> (day, calls that day)
        self.catalog = Catalog() if page_size is None else Catalog(page_size=page_size)

    # -- faults --------------------------------------------------------------------------

    def take_fault(self, target: str, customer: str | None = None) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.target == target and fault.customer in (None, customer):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    @staticmethod
    def fault_reply(fault: Fault) -> Reply:
        build = _FAULT_REPLIES.get(fault.kind)
        if build is None:
            headers = dict(fault.headers)
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            return gong_error(fault.status, "injected failure", **headers)
        return build(fault)

    # -- authorize -----------------------------------------------------------------------

    def authorize_page(self, query: Mapping[str, str]) -> Reply:
        problem = self._check_authorize(query)
        if problem is not None:
            return problem
        requested = tuple(query.get("scope", "").split())
        unknown = [s for s in requested if s not in self.app_scopes]
        if unknown:
            return self._redirect_error(query, "invalid_scope", f"not granted: {unknown[0]}")
        if self.auto_approve:
            return self.decide({**query, "decision": "approve", "company": self.company_for(query)})
        return Reply(200, self._consent_html(query, requested))

    def company_for(self, query: Mapping[str, str]) -> str:
        """The company a flow is for: its ``login_hint`` when that names one (an app passes
        the customer it connects), else the signed-in admin's."""
        hint = query.get("login_hint", "")
        if hint in self.customer_origins:
            return hint
        return self.signed_in_customer or ""

    def decide(self, form: Mapping[str, str]) -> Reply:
        problem = self._check_authorize(form)
        if problem is not None:
            return problem
        if form.get("decision") != "approve":
            return self._redirect_error(form, "access_denied", "The admin denied access")
        customer = form.get("company", "")
        if customer not in self.customer_origins:
            # Never a silent default: approving without choosing would bind the customer the
            # app connects to whichever company happened to be first.
            refusal = "Choose a company before approving." if not customer else "Unknown company."
            return Reply(
                400, self._consent_html(form, tuple(form.get("scope", "").split()), refusal)
            )
        code = "gongfake-code-" + secrets.token_urlsafe(24)
        with self.lock:
            self._codes[code] = _Code(
                customer,
                form["redirect_uri"],
                tuple(form.get("scope", "").split()),
                self.clock(),
            )
        params = {"code": code, "state": form.get("state", "")}
        return Reply(302, None, {"Location": _with_query(form["redirect_uri"], params)})

    def _check_authorize(self, query: Mapping[str, str]) -> Reply | None:
        if query.get("client_id") != self.client_id:
            return Reply(400, "<p>Unknown client_id.</p>")
        if query.get("response_type") != "code":
            return Reply(400, "<p>response_type must be code.</p>")
        if query.get("redirect_uri") not in self.redirect_uris:
            # Never redirect to an unregistered URI: that is how codes get stolen.
            return Reply(400, "<p>redirect_uri is not registered for this integration.</p>")
        return None

    def _redirect_error(self, query: Mapping[str, str], error: str, description: str) -> Reply:
        params = {"error": error, "error_description": description, "state": query.get("state", "")}
        return Reply(302, None, {"Location": _with_query(query["redirect_uri"], params)})

    def _consent_html(
        self, query: Mapping[str, str], scopes: tuple[str, ...], problem: str = ""
    ) -> str:
        # Preselected only when the flow names its company (login_hint): otherwise the tester
        # chooses, and the placeholder submits an empty company that decide() refuses.
        hint = query.get("login_hint", "")
        chosen = hint if hint in self.customer_origins else ""
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in query.items()
            if k not in ("company", "decision")
        )
        companies = f'<option value=""{_selected(not chosen)} disabled>Choose a company</option>'
        companies += "".join(
            f'<option value="{html.escape(c)}"{_selected(c == chosen)}>{html.escape(c)}</option>'
            for c in self.customer_origins
        )
        items = "".join(f"<li>{html.escape(s)}</li>" for s in scopes)
        error = f'<p id="error" role="alert">{html.escape(problem)}</p>' if problem else ""
        return (
            "<!doctype html><html><head><title>Authorize app - FakeGong</title></head><body>"
            f"<h1>An app wants access to your Gong company</h1>{error}"
            f"<form method=post action=/oauth2/authorize>{hidden}"
            f'<label>Company <select name="company">{companies}</select></label>'
            f"<ul>{items}</ul>"
            '<button id="approve" name="decision" value="approve">Approve</button>'
            '<button id="deny" name="decision" value="deny">Deny</button>'
            "</form></body></html>"
        )

    # -- token endpoint ------------------------------------------------------------------

    def token(
        self,
        query: Mapping[str, str],
        authorization: str,
        body: bytes,
        *,
        content_type: str = "",
    ) -> Reply:
        """The token endpoint. Gong documents every parameter in the query string, and
        production Gong also reads a form body (what requests-oauthlib, authlib and at least
        one large integration platform send): both are accepted, the form counted in
        ``stats.form_body``. With ``strict_query`` only the documented shape passes, so our own
        client's wire format is pinned by the tests that turn it on."""
        if not self._client_authenticated(authorization):
            return oauth_error("invalid_client", "Client authentication failed", 401)
        params = dict(query)
        form = _form_fields(body, content_type)
        if form and not self.strict_query:
            params = {**form, **query}  # the query wins where both name a parameter
        if "grant_type" not in params:
            where = "the form body" if body else "nowhere"
            return oauth_error(
                "invalid_request",
                f"parameters must be sent in the query string (found them in {where})",
            )
        grant_type = params["grant_type"]
        if form and not self.strict_query:
            with self.lock:
                self.stats.form_body[grant_type] += 1
        if grant_type == "authorization_code":
            return self._exchange(params)
        if grant_type == "refresh_token":
            return self._refresh_grant(params)
        return oauth_error("unsupported_grant_type", f"unsupported grant_type {grant_type}")

    def _client_authenticated(self, authorization: str) -> bool:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return False
        client_id, _, secret = decoded.partition(":")
        if not secrets.compare_digest(client_id.encode(), self.client_id.encode()):
            return False
        with self.lock:  # one rotation's two secrets, never half of it
            valid = [self.client_secret]
            previous = self._previous_secret
            if previous is not None and self.clock() < previous[1]:
                valid.append(previous[0])
            # Every candidate compared, so the time taken does not say which one matched.
            matches = [secrets.compare_digest(secret.encode(), known.encode()) for known in valid]
            if not any(matches):
                self.stats.invalid_client[fingerprint(secret)] += 1
            return any(matches)

    def rotate_secret(self, new_secret: str, *, grace_hours: float = 24) -> None:
        """Gong's "Rotate secret": ``new_secret`` is valid at once, the current one for
        ``grace_hours`` more (0 to 168; 0 revokes it now). At most two secrets are valid: a
        rotation inside a grace period revokes the previous old secret at once."""
        if not 0 <= grace_hours <= 168:
            raise ValueError(f"the grace period is 0 to 168 hours, not {grace_hours!r}")
        with self.lock:
            if not new_secret or new_secret == self.client_secret:
                raise ValueError("the new secret must be given and differ from the current one")
            self._previous_secret = (self.client_secret, self.clock() + grace_hours * 3600)
            self.client_secret = new_secret

    def _validity(self, query: Mapping[str, str]) -> int | Reply:
        raw = query.get("validity_duration")
        if raw is None:
            return self.default_validity
        if not raw.isdigit() or int(raw) <= 0:
            return oauth_error("invalid_request", "validity_duration must be a positive integer")
        return int(raw)

    def _exchange(self, query: Mapping[str, str]) -> Reply:
        validity = self._validity(query)
        if isinstance(validity, Reply):
            return validity
        with self.lock:
            code = self._codes.get(query.get("code", ""))
            if code is None or code.used or self.clock() - code.issued_at > CODE_LIFETIME_SECONDS:
                self.stats.invalid_grant[code.customer if code else "?"] += 1
                return oauth_error("invalid_grant", "Authorization code is invalid or expired.")
            if query.get("redirect_uri") != code.redirect_uri:
                return oauth_error("invalid_grant", "redirect_uri does not match")
            # Gong's guide lists client_id among the exchange's parameters, but the request is
            # already authenticated by Basic credentials that name the client (checked above),
            # and RFC 6749 4.1.3 requires client_id only of a client that does not authenticate:
            # so an absent one passes (requests-oauthlib's default omits it), a different one is
            # refused, and strict_query, which pins Gong's documented shape, wants it present.
            presented = query.get("client_id")
            if presented is None and self.strict_query:
                return oauth_error("invalid_request", "client_id is missing")
            if presented is not None and presented != self.client_id:
                return oauth_error("invalid_request", "client_id does not match")
            code.used = True
            self.stats.token_calls[(code.customer, "authorization_code")] += 1
            return self._issue(code.customer, code.scopes, validity)

    def _refresh_grant(self, query: Mapping[str, str]) -> Reply:
        validity = self._validity(query)
        if isinstance(validity, Reply):
            return validity
        presented = query.get("refresh_token", "")
        with self.lock:
            grant = self._refresh.get(presented)
            if grant is None or grant.revoked:
                who = grant.customer if grant else self._used_refresh.get(presented, "?")
                self.stats.invalid_grant[who] += 1
                return oauth_error("invalid_grant", "Token has been expired or revoked.")
            del self._refresh[presented]
            self._used_refresh[presented] = grant.customer
            self.stats.token_calls[(grant.customer, "refresh_token")] += 1
            return self._issue(grant.customer, grant.scopes, validity)

    def _issue(self, customer: str, scopes: tuple[str, ...], validity: int) -> Reply:
        now = self.clock()
        header = _b64(b'{"alg":"HS256","typ":"JWT"}')
        claims = {"sub": customer, "exp": int(now + validity), "jti": secrets.token_hex(8)}
        access = f"{header}.{_b64(json.dumps(claims).encode())}.{_b64(secrets.token_bytes(32))}"
        refresh = "gongfake-rt-" + secrets.token_urlsafe(32)
        grant = _Grant(customer, scopes, now + validity, refresh)
        self._access[access] = grant
        self._refresh[refresh] = grant
        return Reply(
            200,
            {
                "access_token": access,
                "refresh_token": refresh,
                "expires_in": validity,
                "token_type": "Bearer",
                "scope": " ".join(scopes),
                "api_base_url_for_customer": self.customer_origins[customer],
            },
        )

    def invalidate_access_tokens(self, customer: str) -> None:
        """End ``customer``'s access tokens early, refresh tokens untouched: the API will
        answer 401 to tokens a client still believes fresh."""
        with self.lock:
            for grant in self._access.values():
                if grant.customer == customer:
                    grant.access_expires_at = min(grant.access_expires_at, self.clock())

    def revoke(self, customer: str) -> None:
        """Invalidate every access and refresh token of ``customer`` (an admin uninstall)."""
        with self.lock:
            for grant in list(self._access.values()) + list(self._refresh.values()):
                if grant.customer == customer:
                    grant.revoked = True

    def issued_secrets(self) -> list[str]:
        """Every secret this Gong has handed out or holds: client secrets, codes, access and
        refresh tokens (spent ones too), for tests that look for them where none may be."""
        with self.lock:
            found = [self.client_secret, *self._codes, *self._access, *self._refresh]
            found += self._used_refresh
            if self._previous_secret is not None:
                found.append(self._previous_secret[0])
        return found

    # -- API -----------------------------------------------------------------------------

    def _over_rate(self, customer: str) -> Reply | None:
        """Gong's per-company limits, strict: a sliding one-second window (no second holds
        more than ``rate_limit`` accepted calls) and a calendar day (UTC) whose 429 asks to
        come back when the day turns, hours away. Refused calls do not count."""
        now = self.rate_clock()
        day = int(now // DAY)
        seen_day, today = self._daily_calls.get(customer, (day, 0))
        today = today if seen_day == day else 0
        if self.daily_limit is not None and today >= self.daily_limit:
            self.stats.api_429_daily[customer] += 1
            retry_after = max(1, int((day + 1) * DAY - now))
            return gong_error(429, "Daily API quota exceeded", **{"Retry-After": str(retry_after)})
        if self.rate_limit is not None:
            recent = self._recent_calls.setdefault(customer, deque())
            while recent and now - recent[0] >= 1.0:
                recent.popleft()
            if len(recent) >= self.rate_limit:
                return gong_error(429, "Too many requests", **{"Retry-After": "1"})
            recent.append(now)
        self._daily_calls[customer] = (day, today + 1)
        return None

    def api(
        self,
        customer: str,
        method: str,
        path: str,
        authorization: str,
        body: bytes,
        *,
        query: Mapping[str, str] | None = None,
    ) -> Reply:
        """Gong's answer to one API call: a refusal, or the routed handler's answer."""
        routed = find_route(API_ROUTES, method, path)
        refusal = self._check_api_access(customer, method, path, authorization, routed)
        if refusal is not None or routed is None:
            return refusal or gong_error(404, f"No endpoint {method} {path}")
        route, params = routed
        request = ApiRequest(customer, body, query or {}, params)
        try:
            return route.handler(self, request)
        except BadListRequest as exc:
            return gong_error(400, str(exc))

    def _check_api_access(
        self,
        customer: str,
        method: str,
        path: str,
        authorization: str,
        routed: tuple[Route[ApiHandler], dict[str, str]] | None,
    ) -> Reply | None:
        """The refusal Gong would give, in Gong's order: rate, token, company, endpoint, scope."""
        with self.lock:
            self.stats.api_calls[customer] += 1
            over = self._over_rate(customer)
            if over is not None:
                self.stats.api_429[customer] += 1
                return over
            endpoint = f"{method} {path}"
            if authorization[:6].lower() == "basic ":  # a company API key
                return self._key_refusal(customer, authorization[6:], routed, endpoint)
            return self._token_refusal(customer, authorization, routed, endpoint)

    def _token_refusal(
        self,
        customer: str,
        authorization: str,
        routed: tuple[Route[ApiHandler], dict[str, str]] | None,
        endpoint: str,
    ) -> Reply | None:
        """Gong's refusal of a bearer token, if any (under the lock)."""
        scheme, _, presented = authorization.partition(" ")
        grant = self._access.get(presented) if scheme.lower() == "bearer" else None
        if grant is None or grant.revoked or self.clock() >= grant.access_expires_at:
            self.stats.api_401[customer] += 1
            return gong_error(401, "Access denied")
        if grant.customer != customer:
            self.stats.api_403[customer] += 1
            return gong_error(403, "Access denied: token belongs to another company")
        if routed is None:
            return gong_error(404, f"No endpoint {endpoint}")
        needed = routed[0].scope
        if needed not in grant.scopes:
            # Production Gong answers a missing scope with 401, not 403 (its OpenAPI says 403).
            self.stats.api_401[customer] += 1
            self.stats.missing_scope[(customer, needed)] += 1
            return gong_error(401, f"You don't have permission to use '{needed}' in your app.")
        return None

    def _key_refusal(
        self,
        customer: str,
        credentials: str,
        routed: tuple[Route[ApiHandler], dict[str, str]] | None,
        endpoint: str,
    ) -> Reply | None:
        """Gong's refusal of a company API key (Basic ``key:secret``), if any (under the
        lock). A key has every scope, on its own company's origin only."""
        holder = self._access_key_holder(credentials)
        if holder is None:
            self.stats.api_401[customer] += 1
            return gong_error(401, "Access denied")
        if holder != customer:
            self.stats.api_403[customer] += 1
            return gong_error(403, "Access denied: API key belongs to another company")
        return None if routed is not None else gong_error(404, f"No endpoint {endpoint}")

    def add_access_key(self, customer: str, access_key: str, secret: str) -> None:
        """A company API key of ``customer`` (Admin center > API > "Get API key")."""
        with self.lock:
            self.access_keys[access_key] = (customer, secret)

    def _access_key_holder(self, credentials: str) -> str | None:
        """The company whose key and secret ``credentials`` (Basic's base64) are, or None."""
        try:
            decoded = base64.b64decode(credentials, validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        access_key, _, secret = decoded.partition(":")
        known = self.access_keys.get(access_key)
        if known is None or not secrets.compare_digest(secret.encode(), known[1].encode()):
            return None
        return known[0]

    def _integration_settings(self, customer: str, body: bytes) -> Reply:
        settings = _integration_type_settings(body)
        if settings is None:
            return gong_error(400, "integrationTypeSettings is malformed")
        with self.lock:
            stored = self.allowed_origins.setdefault(customer, [])
            if all(item in stored for item in settings):
                return gong_error(409, "these settings already exist")
            stored.extend(item for item in settings if item not in stored)
            integration_id = self._next_integration_id
            self._next_integration_id += 1
        answer: dict[str, Any] = {"requestId": _request_id()}
        if self.answer_integration_id:
            answer["integrationId"] = integration_id
        return Reply(200, answer)


# -- API handlers: each answers one route of API_ROUTES for an authorised request ----------

ApiHandler = Callable[[Emulator, ApiRequest], Reply]


def _answer(status_and_payload: tuple[int, dict[str, Any]]) -> Reply:
    status, payload = status_and_payload
    return Reply(status, {"requestId": _request_id(), **payload})


def _query_list(request: ApiRequest) -> tuple[dict[str, str], str | None]:
    """GET list endpoints take filters and the cursor in the query string."""
    filters = {k: v for k, v in request.query.items() if k != "cursor"}
    return filters, request.query.get("cursor")


def _body_list(request: ApiRequest) -> tuple[dict[str, Any], str | None]:
    """POST list endpoints take ``filter`` and ``cursor`` in the JSON body."""
    payload = _json_object(request.body)
    return _filter_of(payload), _body_cursor(payload, request.query)


def _list_users(gong: Emulator, request: ApiRequest) -> Reply:
    filters, cursor = _query_list(request)
    return _answer(gong.catalog.list_users(request.customer, "/v2/users", filters, cursor))


def _list_users_extensive(gong: Emulator, request: ApiRequest) -> Reply:
    filters, cursor = _body_list(request)
    endpoint = "/v2/users/extensive"
    return _answer(gong.catalog.list_users(request.customer, endpoint, filters, cursor))


def _call_maker(gong: Emulator, customer: str) -> Callable[[int], dict[str, Any]]:
    """Builds ``customer``'s call records by index, on its origin and round its users."""
    origin, users = gong.customer_origins[customer], gong.catalog.user_count(customer)
    return lambda index: call_record(customer, index, origin, users=users)


def _list_calls(gong: Emulator, request: ApiRequest) -> Reply:
    filters, cursor = _query_list(request)
    build = _call_maker(gong, request.customer)
    return _answer(gong.catalog.list_calls(request.customer, "/v2/calls", filters, cursor, build))


def _list_calls_extensive(gong: Emulator, request: ApiRequest) -> Reply:
    filters, cursor = _body_list(request)
    selector = ContentSelector.from_body(_json_object(request.body))
    customer, meta_of = request.customer, _call_maker(gong, request.customer)
    users = gong.catalog.user_count(customer)

    def build(index: int) -> dict[str, Any]:
        meta = meta_of(index)
        host = user_record(customer, primary_user(index, users))
        parties = call_content.parties(customer, meta["id"], host) if selector.parties else []
        context = call_content.context(customer, meta["id"], selector.context)
        return {"metaData": meta, "parties": parties, "context": context}

    endpoint = "/v2/calls/extensive"
    return _answer(gong.catalog.list_calls(customer, endpoint, filters, cursor, build))


def _transcripts(gong: Emulator, request: ApiRequest) -> Reply:
    filters, cursor = _body_list(request)
    meta_of = _call_maker(gong, request.customer)

    def build(index: int) -> dict[str, Any]:
        meta = meta_of(index)
        return {
            "callId": meta["id"],
            "transcript": call_content.transcript(meta["id"], meta["duration"]),
        }

    listed = gong.catalog.list_calls(
        request.customer, "/v2/calls/transcript", filters, cursor, build, kind="callTranscripts"
    )
    return _answer(listed)


def _one_call(gong: Emulator, request: ApiRequest) -> Reply:
    customer, wanted = request.customer, request.params["id"]
    index = gong.catalog.call_index(customer, wanted)
    if index is None:
        return gong_error(404, f"No call found for id {wanted}")
    return Reply(200, {"requestId": _request_id(), "call": _call_maker(gong, customer)(index)})


def _one_user(gong: Emulator, request: ApiRequest) -> Reply:
    customer, wanted = request.customer, request.params["id"]
    index = gong.catalog.user_index(customer, wanted)
    if index is None:
        return gong_error(404, f"No user found for id {wanted}")
    return Reply(200, {"requestId": _request_id(), "user": user_record(customer, index)})


def _workspaces(gong: Emulator, request: ApiRequest) -> Reply:
    return Reply(
        200, {"requestId": _request_id(), "workspaces": [workspace_record(request.customer)]}
    )


def _read_integration_settings(gong: Emulator, request: ApiRequest) -> Reply:
    with gong.lock:
        settings = list(gong.allowed_origins.get(request.customer, []))
    return Reply(200, {"requestId": _request_id(), "integrationSettings": {"settings": settings}})


def _write_integration_settings(gong: Emulator, request: ApiRequest) -> Reply:
    return gong._integration_settings(request.customer, request.body)


# Literal paths before patterned ones: the table's order is the precedence (routes.find_route).
API_ROUTES: tuple[Route[ApiHandler], ...] = (
    Route("GET", "/v2/users", "api:users:read", _list_users),
    Route("POST", "/v2/users/extensive", "api:users:read", _list_users_extensive),
    Route("GET", "/v2/users/{id}", "api:users:read", _one_user),
    Route("GET", "/v2/calls", "api:calls:read:basic", _list_calls),
    Route("POST", "/v2/calls/extensive", "api:calls:read:extensive", _list_calls_extensive),
    Route("POST", "/v2/calls/transcript", "api:calls:read:transcript", _transcripts),
    Route("GET", "/v2/calls/{id}", "api:calls:read:basic", _one_call),
    Route("GET", "/v2/workspaces", "api:workspaces:read", _workspaces),
    Route(
        "GET",
        "/v2/integration-settings",
        "api:integration-settings:write",
        _read_integration_settings,
    ),
    Route(
        "POST",
        "/v2/integration-settings",
        "api:integration-settings:write",
        _write_integration_settings,
    ),
)


def _integration_type_settings(body: bytes) -> list[dict[str, str]] | None:
    """The request's settings if every one is well formed (a known integration type and a
    bare https origin), else None. Explicit checks, not asserts: ``python -O`` strips those."""
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    settings = payload.get("integrationTypeSettings") if isinstance(payload, dict) else None
    if not isinstance(settings, list) or not settings:
        return None
    for item in settings:
        if not isinstance(item, dict) or item.get("integrationType") not in INTEGRATION_TYPES:
            return None
        origin = item.get("allowedOrigin")
        if not isinstance(origin, str):
            return None
        parts = urlsplit(origin)
        if parts.scheme != "https" or not parts.netloc or parts.path not in ("", "/"):
            return None
    return settings


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        raise BadListRequest("the request body is not JSON") from None
    if not isinstance(payload, dict):
        raise BadListRequest("the request body must be a JSON object")
    return payload


def _filter_of(payload: Mapping[str, Any]) -> dict[str, Any]:
    filters = payload.get("filter", {})
    if not isinstance(filters, dict):
        raise BadListRequest("filter must be a JSON object")
    return filters


def _body_cursor(payload: Mapping[str, Any], query: Mapping[str, str]) -> str | None:
    if "cursor" in query:
        # Real Gong ignores it and serves the first page again: the client would loop.
        raise BadListRequest("cursor goes in the JSON body of POST endpoints, not the query")
    cursor = payload.get("cursor")
    if cursor is not None and not isinstance(cursor, str):
        raise BadListRequest("cursor must be a string")
    return cursor


_FAULT_REPLIES: dict[str, Callable[[Fault], Reply]] = {
    "drop": lambda fault: Reply(0, drop=True),
    # status 0: no answer of its own; the real one follows after the wait
    "delay": lambda fault: Reply(0, delay=fault.seconds),
    "html": lambda fault: Reply(fault.status, "<html><body><h1>Bad gateway</h1></body></html>"),
    "truncated": lambda fault: Reply(
        200, b'{"access_token": "eyJ', {"Content-Type": "application/json"}
    ),
    "empty": lambda fault: Reply(fault.status, b""),
    "body": lambda fault: Reply(fault.status, fault.body),
}


def _form_fields(body: bytes, content_type: str) -> dict[str, str]:
    """A form body's fields (first value of each), or nothing if the body is not a form."""
    if not body or content_type.partition(";")[0].strip().lower() != FORM_TYPE:
        return {}
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def _with_query(url: str, params: Mapping[str, str]) -> str:
    separator = "&" if urlsplit(url).query else "?"
    return f"{url}{separator}{urlencode(params)}"


def _selected(yes: bool) -> str:
    return " selected" if yes else ""


def default_scopes() -> tuple[str, ...]:
    return tuple(KNOWN_SCOPES)
