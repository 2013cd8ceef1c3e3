"""FakeGong's automation rules: deliveries signed as Gong signs a "Fire webhook" action.

Each customer gets its own RSA key pair (made with ``cryptography`` on first use, 2048 bits,
as Gong's are); its public half is shown as Gong's UI shows it, bare base64 of the DER
SubjectPublicKeyInfo. A delivery is the call's data as JSON and an ``Authorization`` header
holding the JWT alone (no "Bearer "), RS256, with ``webhook_url``, ``body_sha256`` and
``exp``. Pure: no sockets here; :meth:`FakeGong.fire_webhook` posts what this signs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# How long a delivery's JWT is valid. Gong does not document its own; a few minutes is what
# receivers see in practice, and it is long enough for a test's slowest server to answer.
WEBHOOK_JWT_LIFETIME = 300
RSA_BITS = 2048


@dataclass(frozen=True)
class SignedDelivery:
    """What FakeGong sends: the headers and the exact body bytes (the JWT is in
    ``headers["Authorization"]``; the repr shows neither)."""

    url: str = field(repr=True)
    headers: dict[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    payload: dict[str, Any] = field(repr=False)


class WebhookSigner:
    """Per-customer webhook keys and deliveries signed with them."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._keys: dict[str, Any] = {}  # customer -> cryptography RSAPrivateKey
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"WebhookSigner(customers={sorted(self._keys)!r})"

    def _private_key(self, customer: str) -> Any:
        with self._lock:
            key = self._keys.get(customer)
            if key is None:
                from cryptography.hazmat.primitives.asymmetric import rsa

                key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
                self._keys[customer] = key
            return key

    def public_key(self, customer: str) -> str:
        """``customer``'s public key as Gong's UI shows it: bare base64 DER, no armour."""
        from cryptography.hazmat.primitives import serialization

        der = (
            self._private_key(customer)
            .public_key()
            .public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        return base64.b64encode(der).decode("ascii")

    def sign(
        self,
        url: str,
        payload: Mapping[str, Any],
        *,
        customer: str,
        lifetime: float = WEBHOOK_JWT_LIFETIME,
    ) -> SignedDelivery:
        """The delivery of ``payload`` to ``url`` signed with ``customer``'s key."""
        from joserfc import jws
        from joserfc.jwk import RSAKey

        body = json.dumps(payload, separators=(",", ":")).encode()
        claims = {
            "webhook_url": url,
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "exp": int(self.clock() + lifetime),
        }
        private = self._private_key(customer)
        token = jws.serialize_compact(
            {"alg": "RS256", "typ": "JWT"},
            json.dumps(claims, separators=(",", ":")).encode(),
            RSAKey(private, private),  # the key object itself: re-reading it costs ~0.1 s
            algorithms=["RS256"],
        )
        headers = {"Authorization": token, "Content-Type": "application/json"}
        return SignedDelivery(url, headers, body, dict(payload))
