"""Gong's token-endpoint answers, split into what must be kept and what is judged.

Once Gong has answered a refresh, the old refresh token is spent: whatever else is wrong with
the answer, the new refresh token must be persisted before anything is raised. So a granting
answer becomes a :class:`TokenAnswer`: ``token`` (always persist it) and ``problem`` (raise it
after). Answers that grant nothing (OAuth errors, 5xx, garbage) raise at once. Nothing here
ever echoes a token.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from gong_authlib.errors import OAuthError, ReauthorizationRequired, TokenEndpointError
from gong_authlib.gong.hosts import untrusted_reason
from gong_authlib.logs import get_logger
from gong_authlib.token import Token, jwt_expiry, sane_lifetime, unsafe_in_header

if TYPE_CHECKING:
    import requests

__all__ = ["TokenAnswer", "parse_token_answer", "parse_token_response"]

log = get_logger("oauth")


def _json_object(response: requests.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except (ValueError, RecursionError):  # RecursionError: nested past the decoder's limit
        return None
    return body if isinstance(body, dict) else None


def _short(text: Any, limit: int = 200) -> str | None:
    if text is None:
        return None
    value = str(text)
    return value if len(value) <= limit else value[:limit] + "…"


def _said(text: Any, secrets: Collection[str]) -> str | None:
    """What the endpoint said, cut short, with any secret it quoted back replaced: some servers
    repeat the grant they refuse in ``error_description``, which ends in logs and terminals."""
    if text is None:
        return None
    value = str(text)
    for secret in secrets:
        if secret:
            for form in {secret, quote(secret, safe="")}:
                value = value.replace(form, "<redacted>")
    return _short(value)


@dataclass(frozen=True, slots=True)
class TokenAnswer:
    """A granting answer of Gong's token endpoint, split in what is kept and what is judged.

    ``token`` always holds the new refresh token (or the previous one, if Gong sent none) and
    must be persisted: after a refresh, the old refresh token is spent. When the rest of the
    answer is unusable, ``problem`` says why and ``token`` is made harmless: an unusable
    access token (missing, control characters, an absurd lifetime, not Bearer) is kept
    already expired, so it is never sent and the next use refreshes; an untrusted base URL
    is kept as given (``untrusted_origin``), refused at send time, and usable as soon as the
    configuration trusts it, with no new authorization.
    """

    token: Token
    problem: TokenEndpointError | None = None
    untrusted_origin: bool = False

    def usable(self) -> Token:
        """The token, or ``problem`` raised."""
        if self.problem is not None:
            raise self.problem
        return self.token


_skew_logged: set[str] = set()


def _log_skew_once(customer: str | None, claimed: float, received_at: float) -> None:
    key = customer or ""
    if key in _skew_logged:
        return
    _skew_logged.add(key)
    log.warning(
        "customer %s: the access token's exp is %.0f s before our clock's now; this machine's "
        "clock is probably ahead of Gong's: trusting expires_in from receipt (check NTP)",
        customer or "(unnamed)",
        received_at - claimed,
    )


def parse_token_response(
    response: requests.Response,
    *,
    received_at: float,
    previous: Token | None,
    customer: str | None,
    trusted_origins: frozenset[str] = frozenset(),
    sent_secrets: Collection[str] = (),
) -> Token:
    """Turn a token-endpoint answer into a Token or the right error. Never echoes a token."""
    return parse_token_answer(
        response,
        received_at=received_at,
        previous=previous,
        customer=customer,
        trusted_origins=trusted_origins,
        sent_secrets=sent_secrets,
    ).usable()


def parse_token_answer(
    response: requests.Response,
    *,
    received_at: float,
    previous: Token | None,
    customer: str | None,
    trusted_origins: frozenset[str] = frozenset(),
    sent_secrets: Collection[str] = (),
) -> TokenAnswer:
    """Turn a token-endpoint answer into a :class:`TokenAnswer`, or raise if nothing was
    granted (an OAuth error, 5xx, garbage, no refresh token to keep). Never echoes a token,
    nor any of ``sent_secrets`` (the code, refresh token and client secret the request
    carried) that an error answer quotes back."""
    status = response.status_code
    body = _json_object(response)
    request_id = _short(body.get("requestId")) if body else None
    if status == 429 or status >= 500:
        raise TokenEndpointError(
            "Gong's token endpoint failed", status=status, request_id=request_id
        )
    if body is None:
        kind = response.headers.get("Content-Type", "no content type").split(";")[0]
        what = "an empty body" if not response.content else f"a body that is not JSON ({kind})"
        raise TokenEndpointError(
            f"Gong's token endpoint answered with {what}", status=status, request_id=request_id
        )
    if "error" in body:
        error = _said(body.get("error"), sent_secrets) or "error"
        description = _said(body.get("error_description"), sent_secrets)
        if error == "invalid_grant":
            raise ReauthorizationRequired(customer, description)
        detail = f": {description}" if description else ""
        raise OAuthError(
            f"Gong refused the token request ({error}{detail})",
            error=error,
            description=description,
            status=status,
        )
    if status != 200:
        raise TokenEndpointError(
            "Gong's token endpoint gave an unexpected answer", status=status, request_id=request_id
        )
    return _judge(
        body,
        _Context(received_at, previous, customer, trusted_origins, status, request_id),
    )


@dataclass(frozen=True, slots=True)
class _Context:
    received_at: float
    previous: Token | None
    customer: str | None
    trusted_origins: frozenset[str]
    status: int
    request_id: str | None

    def error(self, message: str) -> TokenEndpointError:
        return TokenEndpointError(message, status=self.status, request_id=self.request_id)


def _judge(body: dict[str, Any], context: _Context) -> TokenAnswer:
    """Keep first, judge after: build the Token to persist, then say what is wrong.

    Once the refresh token to keep is known, nothing may raise before the caller has
    persisted it: a failure judging the rest (an input no check foresaw) still returns the
    refresh token, under an unusable access token and the previous base URL.
    """
    refresh = _refresh_token_to_keep(body, context)
    try:
        return _judge_rest(body, context, refresh)
    except TokenEndpointError:
        raise
    except Exception as failure:  # the refresh token must survive any of them
        previous = context.previous
        if previous is None:  # a code exchange: nothing held before, the admin can retry
            raise context.error("the token response could not be read") from None
        kept = Token(
            access_token="unusable",  # noqa: S106 - a placeholder, never sent (expired)
            refresh_token=refresh,
            expires_at=context.received_at,
            api_base_url=previous.api_base_url,
            scope=previous.scope,
            issued_at=context.received_at,
        )
        problem = context.error(
            f"the token response could not be read ({type(failure).__name__}); its refresh "
            "token was kept"
        )
        return TokenAnswer(kept, problem)


def _judge_rest(body: dict[str, Any], context: _Context, refresh: str) -> TokenAnswer:
    problems, lifetime = _access_problems(body)
    base, base_problem = _base_url(body, context)
    if base_problem:
        problems.append(base_problem)
    untrusted = untrusted_reason(base, context.trusted_origins)
    if untrusted is not None and context.previous is None:
        # A code exchange: nothing was held before; the admin can simply authorize again.
        raise context.error(
            f"api_base_url_for_customer: {untrusted}; refusing to send tokens there"
        )
    access_ok = not problems
    access = str(body.get("access_token"))
    payload = {k: v for k, v in body.items() if k not in ("access_token", "expires_in")}
    payload.update(
        # An unusable access token is kept already expired under a placeholder: it is never
        # sent, and the next use refreshes with the kept refresh token.
        access_token=access if access_ok else "unusable",
        expires_in=lifetime if access_ok else 0.0,
        refresh_token=refresh,
        api_base_url_for_customer=base,
        token_type=body.get("token_type") if access_ok else None,
    )
    if access_ok:
        claimed = jwt_expiry(access)
        if claimed is not None and claimed <= context.received_at:
            _log_skew_once(context.customer, claimed, context.received_at)
    token = Token.from_response(payload, received_at=context.received_at)
    if untrusted is not None:
        problems.append(
            f"api_base_url_for_customer: {untrusted}; the token was kept, and is refused at "
            "send time until trusted_api_origins admits it"
        )
    problem = context.error("; ".join(problems)) if problems else None
    return TokenAnswer(token, problem, untrusted_origin=untrusted is not None)


def _refresh_token_to_keep(body: dict[str, Any], context: _Context) -> str:
    """The refresh token to persist: the answer's, else the previous one (Gong may omit it)."""
    refresh = body.get("refresh_token")
    if refresh is not None and refresh != "" and not isinstance(refresh, str):
        raise context.error("the token response's 'refresh_token' is not text")
    if refresh:
        return str(refresh)
    if context.previous is None:
        raise context.error("the token response lacks 'refresh_token'")
    return context.previous.refresh_token


def _access_problems(body: dict[str, Any]) -> tuple[list[str], float | None]:
    """What makes the access token unusable, and its lifetime in seconds if believable."""
    problems: list[str] = []
    access = body.get("access_token")
    if access is None or access == "":
        problems.append("the token response lacks 'access_token'")
    elif not isinstance(access, str):
        problems.append("the token response's 'access_token' is not text")
    elif unsafe_in_header(access):
        problems.append(
            "the token response's 'access_token' contains control characters, spaces or "
            "non-ASCII text; it cannot be sent in a header"
        )
    raw = body.get("expires_in")
    lifetime = sane_lifetime(raw)
    if raw is None or raw == "":
        problems.append("the token response lacks 'expires_in'")
    elif lifetime is None:
        problems.append(
            "the token response's 'expires_in' is not a positive number of seconds "
            "(at most ten years)"
        )
    token_type = body.get("token_type")
    if token_type is not None and str(token_type).lower() != "bearer":
        problems.append(
            f"the token response's token_type is {_short(token_type, 20)!r}, not Bearer"
        )
    return problems, lifetime


def _base_url(body: dict[str, Any], context: _Context) -> tuple[str, str | None]:
    """The base URL to keep, and a problem with the answer's, if any."""
    base = body.get("api_base_url_for_customer")
    if isinstance(base, str):
        if base.rstrip("/"):
            return base.rstrip("/"), None
        base = None  # "" or "/": as if absent
    if context.previous is None:
        what = "lacks" if base is None else "has a non-text"
        raise context.error(f"the token response {what} 'api_base_url_for_customer'")
    if base is None:
        # Whether Gong sends it on refresh is not confirmed: the customer did not move.
        log.info(
            "customer %s: no api_base_url_for_customer on refresh; kept the previous one",
            context.customer or "(unnamed)",
        )
        return context.previous.api_base_url, None
    return (
        context.previous.api_base_url,
        "the token response's 'api_base_url_for_customer' is not text",
    )
