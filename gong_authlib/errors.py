"""Every exception gong-authlib raises on purpose derives from one base class.

The tree::

    GongAuthError
    ├── ConfigError                   the integration file is invalid (carries its diagnostics)
    ├── OAuthError                    Gong's OAuth endpoints refused or failed
    │   ├── ReauthorizationRequired   invalid_grant: the customer must authorize the app again
    │   ├── ClientCredentialsRejected invalid_client: Gong refused the app's client ID or secret
    │   ├── TokenEndpointError        5xx, timeout, connection error, or an unusable answer
    │   └── StateError                a callback's state is unknown, reused, expired or forged
    ├── OriginMismatch                a request would carry a customer's token to another origin
    ├── RequestNotReplayable          a 401 could be recovered, but the body cannot be sent again
    ├── TokenStoreError               a token store is unreachable, corrupt or locked out
    │   └── AuthorizationNotSaved     Gong authorized, the token could not be stored: connect again
    ├── TokenNotFound                 no token is stored for the customer yet
    ├── RateLimitExceeded             the company's Gong budget cannot serve a call in time
    │   └── DailyQuotaExhausted       the company's calls for today are spent
    └── WebhookRejected               a delivery that claims to be Gong's failed verification

Messages never contain an access token, refresh token, authorization code or client secret:
they name the customer, the HTTP status, Gong's ``requestId`` and a short fingerprint instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "AuthorizationNotSaved",
    "ClientCredentialsRejected",
    "ConfigError",
    "DailyQuotaExhausted",
    "Diagnostic",
    "GongAuthError",
    "OAuthError",
    "OriginMismatch",
    "RateLimitExceeded",
    "ReauthorizationRequired",
    "RequestNotReplayable",
    "StateError",
    "TokenEndpointError",
    "TokenNotFound",
    "TokenStoreError",
    "WebhookRejected",
]


Severity = Literal["error", "warning"]


# Defined beside ConfigError, which carries it, so the foundation depends on nothing above it;
# the integration file's rules (gong_authlib.config) make them.
@dataclass(frozen=True)
class Diagnostic:
    """One finding. ``line`` and ``column`` are 1-based; 0 means "the whole file"."""

    severity: Severity
    code: str
    message: str
    path: str = ""
    line: int = 0
    column: int = 0
    end_column: int = 0
    file: str = ""
    suggestion: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def location(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file


class GongAuthError(Exception):
    """Base class of every error gong-authlib raises on purpose."""


class ConfigError(GongAuthError):
    """The integration file could not be loaded; ``diagnostics`` says where and why."""

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = ()) -> None:
        super().__init__(message)
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)


class OAuthError(GongAuthError):
    """Gong's authorize or token endpoint refused the request.

    ``error`` and ``description`` are the OAuth error code and text Gong returned (for example
    ``invalid_client``), when it returned one; ``status`` is the HTTP status.
    """

    def __init__(
        self,
        message: str,
        *,
        error: str | None = None,
        description: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.error = error
        self.description = description
        self.status = status


class ReauthorizationRequired(OAuthError):
    """Gong answered ``invalid_grant``: the refresh token is expired, revoked or already used.

    Nothing the library can do will recover: a tech admin of ``customer`` must go through the
    authorization flow again.
    """

    def __init__(self, customer: str | None, description: str | None = None) -> None:
        who = f"customer {customer!r}" if customer else "this customer"
        detail = f" (Gong said: {description})" if description else ""
        super().__init__(
            f"{who} must authorize the app again{detail}",
            error="invalid_grant",
            description=description,
            status=400,
        )
        self.customer = customer


class ClientCredentialsRejected(OAuthError):
    """Gong answered ``invalid_client``: it does not accept the app's client ID and secret.

    The app's problem, not the customer's: a secret rotated at Gong whose grace period ended,
    or one mistyped. No customer is marked for re-authorization. ``secret_fingerprint`` is the
    SHA-256 prefix of the secret that was refused (never the secret); ``retry_at`` is when this
    client calls Gong's token endpoint with that secret again (until then it raises at once).
    """

    def __init__(
        self,
        client_id: str,
        secret_fingerprint: str,
        *,
        description: str | None = None,
        retry_at: float | None = None,
    ) -> None:
        super().__init__(
            f"Gong rejected the client credentials of client ID {client_id!r} (secret "
            f"sha256:{secret_fingerprint}): the secret was rotated at Gong and its grace period "
            "ended, or it is mistyped. Deploy the current secret, then run `gong-authlib "
            "credentials check` to confirm Gong accepts it",
            error="invalid_client",
            description=description,
            status=401,
        )
        self.client_id = client_id
        self.secret_fingerprint = secret_fingerprint
        self.retry_at = retry_at


class TokenEndpointError(OAuthError):
    """The token endpoint failed in a way that may pass: 5xx, timeout, garbage, missing fields."""

    def __init__(
        self, message: str, *, status: int | None = None, request_id: str | None = None
    ) -> None:
        parts = [message]
        if status is not None:
            parts.append(f"HTTP {status}")
        if request_id:
            parts.append(f"requestId {request_id}")
        super().__init__("; ".join(parts), status=status)
        self.request_id = request_id


class StateError(OAuthError):
    """An OAuth callback's ``state`` was not issued by us, was used before, or has expired."""


class OriginMismatch(GongAuthError):
    """A request for one customer was addressed to an origin other than its API base URL,
    or the customer's base URL is not trusted by the client's ``trusted_api_origins``.

    ``moved_to`` is set when a refresh moved the customer to a new origin after the request
    was addressed: its relative path can be sent again there (``gong_session`` does).
    """

    def __init__(self, message: str, *, moved_to: str | None = None) -> None:
        super().__init__(message)
        self.moved_to = moved_to


class RequestNotReplayable(GongAuthError):
    """Gong answered 401 and the token was refreshed, but the request body cannot be resent."""


class TokenStoreError(GongAuthError):
    """A token store failed: unreachable, corrupt, wrong encryption key or lock not acquired."""


class AuthorizationNotSaved(TokenStoreError):
    """A callback's code was exchanged (codes are single-use), but every write of the token
    failed: nothing was stored, and the customer must connect again."""

    def __init__(self, customer: str, store: str) -> None:
        super().__init__(
            f"Gong authorized customer {customer!r}, but the token could not be saved in the "
            f"token store ({store}); nothing was stored: connect again"
        )
        self.customer = customer


class TokenNotFound(GongAuthError):
    """No token is stored for the customer: it has not been connected yet (or was deleted).

    Nothing was sent to Gong. ``customer`` names it, so a web app can send the user to its
    connect page instead of showing the message.
    """

    def __init__(self, customer: str) -> None:
        super().__init__(
            f"no token is stored for customer {customer!r}: connect it first (in a web app, "
            f"send the user through your connect page, ConnectFlow.start; from a terminal, "
            f"`gong-authlib authorize --customer {customer}`)"
        )
        self.customer = customer


class RateLimitExceeded(GongAuthError):
    """A call for ``customer`` was not sent: Gong asked every worker to pause (a 429's
    ``Retry-After``) or the pacing queue is longer than the limiter may wait.

    ``retry_at`` is when the budget returns (POSIX seconds on the limiter's clock) and
    ``retry_after`` how many seconds that was from the moment of the refusal.
    """

    def __init__(self, customer: str, retry_after: float, retry_at: float, reason: str) -> None:
        super().__init__(
            f"Gong's rate limit for customer {customer!r}: {reason}; retry in {retry_after:.1f}s"
        )
        self.customer = customer
        self.retry_after = retry_after
        self.retry_at = retry_at


class DailyQuotaExhausted(RateLimitExceeded):
    """The company's daily call budget is spent: nothing is sent until ``retry_at``."""


# Why a webhook delivery was refused: one code per check, for logs, metrics and tests.
WEBHOOK_REJECTION_REASONS = (
    "missing",  # no Authorization header (or an empty one)
    "malformed",  # not a compact JWS, not JSON, or a claim missing or of the wrong type
    "bad_signature",  # no configured key verifies the signature
    "wrong_algorithm",  # not RS256 (none, HMAC...), or the header names its own key or extensions
    "expired",  # past its exp, beyond the leeway
    "body_mismatch",  # the body is not the one that was signed (body_sha256)
    "url_mismatch",  # signed for another URL (webhook_url): another customer's, another app's
    "too_large",  # the header or the body is over its limit
    "bad_key",  # no usable public key is configured (none, or not an RSA public key)
)


class WebhookRejected(GongAuthError):
    """A webhook delivery failed verification; ``reason`` is one of
    :data:`WEBHOOK_REJECTION_REASONS`. The message says what failed and never quotes the
    delivery's JWT or body (both come from whoever sent it)."""

    def __init__(self, reason: str, detail: str) -> None:
        if reason not in WEBHOOK_REJECTION_REASONS:
            raise ValueError(f"unknown webhook rejection reason {reason!r}")
        super().__init__(f"webhook rejected ({reason}): {detail}")
        self.reason = reason
        self.detail = detail
