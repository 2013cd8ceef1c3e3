"""Verify a delivery from a Gong automation rule's "Fire webhook" action (Signed JWT header).

Gong sends the JWT as the whole ``Authorization`` value (some proxies and clients add
"Bearer ", which is accepted), signed RS256 with the rule's key, with three claims:
``webhook_url`` (the destination as configured, query included), ``body_sha256`` (lower-case
hex SHA-256 of the raw body) and ``exp``. The payload is ``{"isTest": ..., "callData": {...}}``
and names no customer: the URL does, so the URL check is what keeps one customer's delivery
from being accepted as another's.

The steps, each refusing with its own reason (``WEBHOOK_REJECTION_REASONS`` in errors.py):

1. sizes first (``too_large``): a huge header or body costs nothing more than its length;
2. the keys (``bad_key``): a receiver with no usable key is misconfigured, whatever arrives;
3. the header (``missing``, ``malformed``, ``wrong_algorithm``): RS256 only. ``none`` and
   HMAC are refused (an HS256 token "signed" with the public key as its secret is the classic
   confusion attack), and so is any header that carries or points at a key or asks for
   extensions (``jwk``, ``jku``, ``x5u``, ``x5c``, ``crit``, ``b64``): the keys are the ones
   the app configured, never ones a delivery brings. ``kid`` is ignored rather than refused:
   it only names a key, nothing is fetched or chosen by it (every configured key is tried),
   and whether Gong sends one is not known, so refusing it could refuse Gong itself;
4. the signature, with each configured key in turn (``bad_signature``);
5. the claims: ``exp`` with a small leeway (``expired``), ``body_sha256`` against the raw
   bytes in constant time (``body_mismatch``), ``webhook_url`` against the URL the app is
   reached at (``url_mismatch``);
6. only then is the body parsed as JSON.

Messages say which check failed and never quote the JWT or the body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from gong_authlib.errors import WebhookRejected
from gong_authlib.webhooks.keys import PublicKeys, verifying_keys
from gong_authlib.webhooks.urls import url_difference

if TYPE_CHECKING:
    from joserfc.jws import JWSRegistry

# An RS256 JWT with a 4096-bit key and a long URL is under 2 KB; 8 KB is generous.
MAX_AUTHORIZATION = 8 * 1024
# A call's data (parties, context, content) is tens of kilobytes; 10 MiB is far beyond.
MAX_BODY = 10 * 1024 * 1024
# Clocks of Gong and the app may disagree a little; exp is checked this many seconds late.
DEFAULT_LEEWAY = 60.0

ALGORITHM = "RS256"
# Header parameters that bring a key, point at one, or ask for processing we do not do.
_REFUSED_HEADERS = ("jwk", "jku", "x5u", "x5c", "crit", "b64")
_BEARER = "bearer"


class HeaderSource(Protocol):
    """Anything with ``get(name)``: a dict, Flask's or Starlette's request headers."""

    def get(self, key: str, /) -> Any: ...


@dataclass(frozen=True, slots=True)
class GongWebhook:
    """A verified delivery.

    ``payload`` is the parsed body (``{"isTest": ..., "callData": {...}}``), ``claims`` the
    JWT's claims, ``call_id`` Gong's call id (``callData.metaData.id``, a string; None if the
    payload has none), ``is_test`` whether it came from the rule's "Test now", and
    ``key_fingerprint`` which configured key verified it.
    """

    payload: Any = field(repr=False)
    claims: dict[str, Any] = field(repr=False)
    call_id: str | None
    is_test: bool
    key_fingerprint: str


def verify_gong_webhook(
    *,
    headers: HeaderSource,
    body: bytes,
    url: str,
    public_key: PublicKeys,
    now: float | None = None,
    leeway: float = DEFAULT_LEEWAY,
    max_body: int = MAX_BODY,
) -> GongWebhook:
    """Verify one delivery; return it, or raise :class:`~gong_authlib.WebhookRejected`.

    ``headers`` are the request's headers, ``body`` its raw bytes exactly as received (never
    re-serialized JSON), ``url`` the public URL the delivery was sent to (as the rule's author
    typed it in Gong: behind a proxy, the outside URL, not the app's own address).
    ``public_key`` is the customer's key as Gong shows it (bare base64), a PEM string, or a
    list of them (key rotation, several rules); ``now`` (POSIX seconds) defaults to the
    current time.
    """
    if not isinstance(body, bytes | bytearray | memoryview):
        raise TypeError("body is the raw request body, as bytes")
    value = _authorization(headers)
    if value is not None and len(value) > MAX_AUTHORIZATION:
        raise WebhookRejected(
            "too_large", f"the Authorization header is over {MAX_AUTHORIZATION} bytes"
        )
    if len(body) > max_body:
        raise WebhookRejected("too_large", f"the body is over {max_body} bytes")
    keys = verifying_keys(public_key)
    token = _token(value)

    from joserfc import jws
    from joserfc.errors import ExceededSizeError, JoseError

    try:
        signed = jws.extract_compact(token, registry=_registry())
    except ExceededSizeError:
        raise WebhookRejected("too_large", "a part of the JWT is over joserfc's limit") from None
    except (JoseError, ValueError, TypeError):
        raise WebhookRejected("malformed", "the Authorization header is not a signed JWT") from None
    header = signed.headers()
    _check_header(header)
    verified_by = None
    for key in keys:
        try:
            if jws.validate_compact(signed, key.key, registry=_registry()):
                verified_by = key.fingerprint
                break
        except (JoseError, ValueError):
            continue
    if verified_by is None:
        raise WebhookRejected(
            "bad_signature",
            "the signature does not verify with the configured public key"
            + ("s" if len(keys) > 1 else ""),
        )
    claims = _claims(signed.payload, time.time() if now is None else now, leeway)
    expected = hashlib.sha256(body).hexdigest().encode()
    if not hmac.compare_digest(expected, claims["body_sha256"].lower().encode()):
        raise WebhookRejected("body_mismatch", "the body is not the one that was signed")
    difference = url_difference(claims["webhook_url"], url)
    if difference is not None:
        raise WebhookRejected(
            "url_mismatch", f"it was signed for another URL ({difference} differs)"
        )
    return _delivery(bytes(body), claims, verified_by)


def _authorization(headers: HeaderSource) -> str | None:
    value = headers.get("Authorization")
    if value is None and isinstance(headers, Mapping):  # a plain dict: names in any case
        value = next(
            (v for k, v in headers.items() if isinstance(k, str) and k.lower() == "authorization"),
            None,
        )
    if value is not None and not isinstance(value, str):
        raise TypeError("header values are text")
    return value


def _token(value: str | None) -> bytes:
    text = (value or "").strip()
    scheme, _, rest = text.partition(" ")
    if scheme.lower() == _BEARER:
        text = rest.strip()
    if not text:
        raise WebhookRejected("missing", "no Authorization header (Gong puts its JWT there)")
    if not text.isascii() or " " in text:
        raise WebhookRejected("malformed", "the Authorization header is not a signed JWT")
    return text.encode("ascii")


def _check_header(header: Mapping[str, Any]) -> None:
    alg = header.get("alg")
    if alg != ALGORITHM:
        # A header's alg may be any JSON (a list, an object): only a known name is named.
        named = alg if isinstance(alg, str) and alg in _KNOWN_ALGORITHMS else "an algorithm"
        raise WebhookRejected(
            "wrong_algorithm", f"it is signed with {named}; only {ALGORITHM} is accepted"
        )
    refused = sorted(name for name in _REFUSED_HEADERS if name in header)
    if refused:
        raise WebhookRejected(
            "wrong_algorithm",
            f"its header carries {', '.join(refused)}: keys and extensions a delivery brings "
            "are never used",
        )


# Named in a refusal; anything else a header claims is "an algorithm" (never echoed).
_KNOWN_ALGORITHMS = frozenset(
    {"none", "HS256", "HS384", "HS512", "RS384", "RS512", "PS256", "PS384", "PS512"}
    | {"ES256", "ES384", "ES512", "EdDSA"}
)


def _claims(payload: bytes, now: float, leeway: float) -> dict[str, Any]:
    try:
        claims = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRejected("malformed", "the JWT's claims are not JSON") from None
    if not isinstance(claims, dict):
        raise WebhookRejected("malformed", "the JWT's claims are not a JSON object")
    exp = claims.get("exp")
    # RFC 7519 4.1.4: a NumericDate; on or after it, the token must not be accepted.
    if not isinstance(exp, int | float) or isinstance(exp, bool) or not _finite(exp):
        raise WebhookRejected("malformed", "the exp claim is missing or not a number")
    if exp <= now - leeway:
        raise WebhookRejected("expired", "its exp has passed")
    for name in ("webhook_url", "body_sha256"):
        value = claims.get(name)
        if not isinstance(value, str) or not value.isascii():
            raise WebhookRejected("malformed", f"the {name} claim is missing or not ASCII text")
    return claims


def _finite(number: float) -> bool:
    try:
        return math.isfinite(number)
    except OverflowError:  # JSON's integers are unbounded; one past any float is no date
        return False


def _delivery(body: bytes, claims: dict[str, Any], fingerprint: str) -> GongWebhook:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRejected("malformed", "the signed body is not JSON") from None
    call_data = payload.get("callData") if isinstance(payload, dict) else None
    meta = call_data.get("metaData") if isinstance(call_data, dict) else None
    call_id = None
    if isinstance(meta, dict) and isinstance(meta.get("id"), str | int):
        call_id = str(meta["id"])
    is_test = isinstance(payload, dict) and payload.get("isTest") is True
    return GongWebhook(payload, claims, call_id, is_test, fingerprint)


@cache
def _registry() -> JWSRegistry:
    """One JWS registry for every delivery: RS256 only, joserfc's own size limits, and
    header names outside the JOSE registry tolerated (the refused ones are checked above)."""
    from joserfc.jws import JWSRegistry

    return JWSRegistry(algorithms=[ALGORITHM], strict_check_header=False)
