"""A Gong customer's token set: what the token endpoint returned, made safe to keep and print.

``expires_at`` is POSIX seconds (a float, UTC by definition), computed when the response was
received from ``expires_in`` and, when the access token is a JWT, never later than its ``exp``
claim. Seconds rather than datetimes keep the per-request expiry check to one comparison.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from gong_authlib.errors import TokenStoreError

SERIAL_VERSION = 1

# Response fields the Token models itself; anything else Gong sends is kept in ``extra``.
_MODELLED = frozenset(
    {
        "access_token",
        "refresh_token",
        "expires_in",
        "token_type",
        "scope",
        "api_base_url_for_customer",
    }
)


# The longest lifetime believed: ten years. Gong's default is one day; its documentation shows
# 525,600. Anything longer (1e300, 2**70, Infinity) is an error in the answer, and would
# overflow datetime arithmetic besides.
MAX_LIFETIME = 10 * 365 * 86_400.0


def sane_lifetime(expires_in: Any) -> float | None:
    """``expires_in`` as seconds if it is a believable positive lifetime, else None.

    Digit strings are accepted (some gateways stringify numbers); booleans, NaN, infinities,
    zero, negatives and lifetimes over :data:`MAX_LIFETIME` are not.
    """
    if isinstance(expires_in, str) and expires_in.isascii():
        try:
            expires_in = float(expires_in)
        except ValueError:
            return None
    if isinstance(expires_in, bool) or not isinstance(expires_in, int | float):
        return None
    if isinstance(expires_in, int) and expires_in > MAX_LIFETIME:
        return None  # before float(): 10**400 would overflow it
    seconds = float(expires_in)
    if not math.isfinite(seconds) or seconds <= 0 or seconds > MAX_LIFETIME:
        return None
    return seconds


def unsafe_in_header(value: str) -> bool:
    """True if ``value`` cannot travel in an HTTP header as a bearer token.

    Anything outside printable ASCII: CR/LF would split the header (http.client then raises
    with the whole value in its message), spaces and controls are not token characters, and
    non-Latin-1 text cannot be encoded at all.
    """
    return not (value.isascii() and value.isprintable() and " " not in value)


def fingerprint(secret: str) -> str:
    """Eight hex digits of SHA-256: enough to tell tokens apart in logs, useless to an attacker."""
    return hashlib.sha256(secret.encode()).hexdigest()[:8]


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWS-shaped token, unverified; None for anything else.

    Only used to shorten a lifetime, never to lengthen it, so not verifying is harmless.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError, RecursionError):  # nested past the decoder's limit
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        return float(exp)
    return None


# repr=False: the class writes its own (fingerprints only), which a dataclass never replaces;
# asking for one anyway would compile a method at every import only to drop it (issue 24).
@dataclass(frozen=True, slots=True, repr=False)
class Token:
    """One customer's access and refresh token, with where and until when they work.

    Immutable: a refresh produces a new Token. ``repr`` shows fingerprints, never the tokens.
    """

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float
    api_base_url: str
    scope: frozenset[str] = frozenset()
    token_type: str = "Bearer"  # noqa: S105 - a scheme name, not a secret
    issued_at: float = 0.0
    # Obtained by a refresh that a 401 triggered, and not yet accepted by Gong: a 401 for it
    # is handed back, not refreshed again (one refresh per 401 episode, never a loop). Kept in
    # the store, so every process knows; cleared once Gong accepts the token.
    after_401: bool = False
    extra: Mapping[str, Any] = field(
        default_factory=lambda: MappingProxyType({}), repr=False, hash=False
    )

    def is_expired(self, leeway: float = 0.0, *, now: float | None = None) -> bool:
        """True if the token expires within ``leeway`` seconds of ``now`` (default: the time
        now, ``time.time()``)."""
        return (time.time() if now is None else now) + leeway >= self.expires_at

    @property
    def expires(self) -> datetime:
        """``expires_at`` as an aware UTC datetime, for people."""
        return datetime.fromtimestamp(self.expires_at, UTC)

    @property
    def lifetime(self) -> float:
        return self.expires_at - self.issued_at

    def age(self, now: float) -> float | None:
        """Seconds since the token was received, on the reader's clock ``now``; None when
        unknown: no issue time kept, or one in the reader's future (``issued_at`` is the
        receiving worker's clock, which may run ahead of the reader's: a negative age says
        nothing about the token)."""
        if self.issued_at <= 0:
            return None
        age = now - self.issued_at
        return age if age >= 0 else None

    @property
    def access_fingerprint(self) -> str:
        return fingerprint(self.access_token)

    def __repr__(self) -> str:
        return (
            f"Token(api_base_url={self.api_base_url!r}, expires={self.expires.isoformat()}, "
            f"scope={sorted(self.scope)!r}, access=sha256:{self.access_fingerprint}, "
            f"refresh=sha256:{fingerprint(self.refresh_token)})"
        )

    __str__ = __repr__

    @classmethod
    def from_response(
        cls,
        payload: Mapping[str, Any],
        *,
        received_at: float,
        previous_refresh_token: str | None = None,
    ) -> Token:
        """Build a Token from a checked token-endpoint payload (see ``oauth.parse_token_answer``).

        A JWT ``exp`` earlier than ``expires_in`` says shortens the lifetime, unless it is
        already past on receipt: that is our clock running ahead of Gong's (a token Gong just
        issued is not dead on arrival), so ``expires_in`` from receipt is trusted instead.
        """
        access = str(payload["access_token"])
        expires_at = received_at + float(payload["expires_in"])
        claimed = jwt_expiry(access)
        if claimed is not None and received_at < claimed < expires_at:
            expires_at = claimed
        refresh = payload.get("refresh_token") or previous_refresh_token
        if not refresh:
            raise ValueError("no refresh_token in the response and none to keep")
        scope = payload.get("scope") or ""
        return cls(
            access_token=access,
            refresh_token=str(refresh),
            expires_at=expires_at,
            api_base_url=str(payload["api_base_url_for_customer"]).rstrip("/"),
            scope=frozenset(str(scope).split()),
            token_type=str(payload.get("token_type") or "Bearer"),
            issued_at=received_at,
            extra=MappingProxyType({k: v for k, v in payload.items() if k not in _MODELLED}),
        )

    def to_dict(self) -> dict[str, Any]:
        """The stable, versioned form stores persist."""
        return {
            "version": SERIAL_VERSION,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at,
            "issued_at": self.issued_at,
            "api_base_url": self.api_base_url,
            "scope": sorted(self.scope),
            "token_type": self.token_type,
            "after_401": self.after_401,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, context: str = "stored token") -> Token:
        """Rebuild a Token from :meth:`to_dict`; malformed data raises TokenStoreError."""
        if not isinstance(data, Mapping):
            raise TokenStoreError(f"{context} is not an object")
        version = data.get("version")
        if version != SERIAL_VERSION:
            raise TokenStoreError(
                f"{context} has format version {version!r}; this release reads version "
                f"{SERIAL_VERSION} (upgrade gong-authlib)"
            )
        try:
            scope = data.get("scope", [])
            extra = data.get("extra", {})
            if not isinstance(scope, list) or not isinstance(extra, dict):
                raise TypeError("scope or extra")
            token = cls(
                access_token=_text(data["access_token"]),
                refresh_token=_text(data["refresh_token"]),
                expires_at=_number(data["expires_at"]),
                issued_at=_number(data.get("issued_at", 0.0)),
                api_base_url=_text(data["api_base_url"]),
                scope=frozenset(_text(s) for s in scope),
                token_type=_text(data.get("token_type", "Bearer")),
                after_401=_flag(data.get("after_401", False)),
                extra=MappingProxyType(dict(extra)),
            )
        except KeyError as missing:
            raise TokenStoreError(f"{context} lacks the field {missing.args[0]!r}") from None
        except (TypeError, ValueError):
            raise TokenStoreError(f"{context} has a field of the wrong type") from None
        return token

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes, *, context: str = "stored token") -> Token:
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError):
            raise TokenStoreError(f"{context} is not valid JSON") from None
        return cls.from_dict(data, context=context)


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError("expected text")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("expected a number")
    return float(value)


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError("a flag that is not true or false")
    return value
