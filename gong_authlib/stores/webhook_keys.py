"""Gong's webhook public keys: read as Gong shows them, kept in one canonical form.

Gong's UI ("Show public key" on an automation rule's "Signed JWT header") shows the key as
bare base64 of the DER SubjectPublicKeyInfo, with no PEM armour; apps that stored it with
armour, or as a PKCS#1 ``RSA PUBLIC KEY``, are read too. Every form becomes the bare base64
of the DER SubjectPublicKeyInfo, and a key is named by the SHA-256 of those DER bytes (its
fingerprint), so the same key pasted twice, in two forms, is one key.

Only RSA keys of 2048 bits or more are accepted: Gong signs with RS256, and a smaller or
other kind of key can only be a mistake (or someone's attempt at one).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import re
from dataclasses import dataclass

MIN_RSA_BITS = 2048
# A 16384-bit RSA key in PEM is about 2.9 KB: anything far beyond is not a public key.
MAX_KEY_TEXT = 16 * 1024
FINGERPRINT_PREFIX = "sha256:"
FINGERPRINT_HEX = 16  # 64 bits: enough to tell a customer's few keys apart when naming them

_WHITESPACE = re.compile(r"\s+")


class KeyProblem(ValueError):
    """Text that is not a usable webhook public key; the message says why (never the text)."""


@dataclass(frozen=True, slots=True)
class WebhookKey:
    """One webhook public key of a customer, as a store keeps it.

    ``public_key`` is the bare base64 DER (as Gong's UI shows it), ``fingerprint`` names it
    (``sha256:`` and 16 hex digits of the DER's SHA-256), ``added_at`` is POSIX seconds.
    """

    fingerprint: str
    public_key: str
    added_at: float = 0.0

    @classmethod
    def parse(cls, text: str | bytes, *, added_at: float = 0.0) -> WebhookKey:
        der = public_key_der(text)
        return cls(key_fingerprint(der), base64.b64encode(der).decode("ascii"), added_at)

    @property
    def der(self) -> bytes:
        return base64.b64decode(self.public_key)


def key_fingerprint(der: bytes) -> str:
    """``sha256:`` and the first 16 hex digits of the SHA-256 of the key's DER bytes."""
    return FINGERPRINT_PREFIX + hashlib.sha256(der).hexdigest()[:FINGERPRINT_HEX]


def stored_added_at(value: str | bytes | float) -> float:
    """A row's ``added_at`` as a backend holds it (a number, or text in Redis and in SQLite's
    untyped columns); 0.0 for one that is not a finite number. Such a row was not written by
    the store: it is then judged by its seal like any other, never crashed on."""
    try:
        added = float(value)
    except (TypeError, ValueError):
        return 0.0
    return added if math.isfinite(added) else 0.0


def normal_fingerprint(text: str) -> str:
    """A fingerprint as a user types it (with or without ``sha256:``, any case)."""
    digits = text.strip().lower().removeprefix(FINGERPRINT_PREFIX)
    if len(digits) != FINGERPRINT_HEX or any(c not in "0123456789abcdef" for c in digits):
        raise KeyProblem(
            f"a key fingerprint is {FINGERPRINT_PREFIX} and {FINGERPRINT_HEX} hex digits "
            "(as `gong-authlib webhooks list-keys` shows it)"
        )
    return FINGERPRINT_PREFIX + digits


def public_key_der(text: str | bytes) -> bytes:
    """The DER SubjectPublicKeyInfo of an RSA public key given as Gong shows it (bare base64
    DER), as PEM (``PUBLIC KEY`` or ``RSA PUBLIC KEY``), or as DER bytes."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if len(text) > MAX_KEY_TEXT:
        raise KeyProblem(f"a public key is at most {MAX_KEY_TEXT} bytes of text; this is longer")
    raw = text.encode("ascii", "replace") if isinstance(text, str) else bytes(text)
    armoured = b"-----BEGIN" in raw
    der = b"" if armoured or raw[:1] == b"\x30" else _bare_base64(raw)
    try:
        if armoured:
            key = serialization.load_pem_public_key(raw)
        else:
            key = serialization.load_der_public_key(der or raw)
    except (ValueError, TypeError):
        raise KeyProblem(
            "not a public key: expected the bare base64 key Gong shows (Show public key), "
            "or a PEM public key"
        ) from None
    except Exception as exc:  # cryptography's UnsupportedAlgorithm and kin
        raise KeyProblem(f"not a usable public key ({type(exc).__name__})") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyProblem("not an RSA public key: Gong signs webhooks with RS256")
    if key.key_size < MIN_RSA_BITS:
        raise KeyProblem(f"an RSA key of {key.key_size} bits: at least {MIN_RSA_BITS} are needed")
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _bare_base64(raw: bytes) -> bytes:
    compact = _WHITESPACE.sub("", raw.decode("ascii", "replace"))
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise KeyProblem(
            "not base64: expected the key as Gong shows it (Show public key), or PEM"
        ) from None
