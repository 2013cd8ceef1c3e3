"""The verdict table: deliveries tried against verify_gong_webhook and what each one earns.

Deliveries come from FakeGong (signed as Gong signs a "Fire webhook" action) or are forged
here the ways attackers forge JWTs. Every rejection is a WebhookRejected with its reason, and
its message quotes neither the JWT nor the body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jws
from joserfc.jwk import ECKey, RSAKey

from gong_authlib import (
    GongAuthError,
    GongWebhook,
    WebhookKey,
    WebhookRejected,
    new_webhook_url_key,
    verify_gong_webhook,
    webhook_url_key_matches,
)
from gong_authlib.errors import WEBHOOK_REJECTION_REASONS
from gong_authlib.stores.webhook_keys import KeyProblem, normal_fingerprint
from gong_authlib.testing import FakeGong
from gong_authlib.testing.webhook_signer import SignedDelivery
from gong_authlib.webhooks.verify import DEFAULT_LEEWAY

ACME_URL = "https://app.example.com/hooks/gong/webhook/acme"
GLOBEX_URL = "https://app.example.com/hooks/gong/webhook/globex"


@dataclass(frozen=True)
class World:
    gong: FakeGong
    acme_key: str  # bare base64, as Gong's UI shows it
    globex_key: str
    attacker: rsa.RSAPrivateKey  # a key nobody configured

    def delivery(self, url: str = ACME_URL, customer: str = "acme") -> SignedDelivery:
        return self.gong.sign_webhook(url, customer=customer)

    def now(self) -> float:
        return self.gong.clock()


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with FakeGong() as gong:
        gong.add_customer("acme")
        gong.add_customer("globex")
        yield World(
            gong,
            gong.webhook_public_key("acme"),
            gong.webhook_public_key("globex"),
            rsa.generate_private_key(public_exponent=65537, key_size=2048),
        )


def pem(bare: str) -> str:
    lines = [bare[i : i + 64] for i in range(0, len(bare), 64)]
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_for(delivery: SignedDelivery, world: World, **changes: Any) -> dict[str, Any]:
    claims = {
        "webhook_url": delivery.url,
        "body_sha256": hashlib.sha256(delivery.body).hexdigest(),
        "exp": int(world.now()) + 300,
    }
    return {**claims, **changes}


def signed_by(key: rsa.RSAPrivateKey, header: dict[str, Any], claims: dict[str, Any]) -> str:
    registry = jws.JWSRegistry(algorithms=["RS256"], strict_check_header=False)
    return jws.serialize_compact(
        header, json.dumps(claims).encode(), RSAKey(key, key), registry=registry
    )


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    head = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    return head + "." + b64url(signature)


def hs256_with_public_key(world: World, delivery: SignedDelivery, secret: str) -> str:
    """The key-confusion forgery: HMAC "signed" with the public key everyone can read."""
    head = unsigned({"alg": "HS256", "typ": "JWT"}, claims_for(delivery, world)).rsplit(".", 1)[0]
    mac = hmac.new(secret.encode(), head.encode(), hashlib.sha256).digest()
    return head + "." + b64url(mac)


@dataclass(frozen=True)
class Try:
    """One delivery as the receiver sees it; None in ``reason`` means accepted."""

    headers: dict[str, str]
    body: bytes
    url: str
    public_key: Any
    reason: str | None
    now: float | None = None


Case = Callable[[World], Try]


def as_sent(world: World, *, key: Any = None, url: str = ACME_URL, **changes: Any) -> Try:
    delivery = world.delivery()
    base = Try(delivery.headers, delivery.body, url, world.acme_key if key is None else key, None)
    return replace(base, **changes)


def with_token(world: World, token: str, reason: str) -> Try:
    return as_sent(world, headers={"Authorization": token}, reason=reason)


def attacker_token(world: World, header: dict[str, Any]) -> str:
    return signed_by(world.attacker, header, claims_for(world.delivery(), world))


# A key small enough for joserfc's 512-byte header limit (an RSA one is refused as too large).
SMALL_JWK = ECKey.generate_key("P-256").as_dict(private=False)


def attacker_public(world: World) -> WebhookKey:
    return WebhookKey.parse(
        world.attacker.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


VERDICTS: dict[str, Case] = {
    # Accepted.
    "valid, bare key as Gong shows it": as_sent,
    "valid, PEM key": lambda w: as_sent(w, key=pem(w.acme_key)),
    "valid, Bearer prefix": lambda w: as_sent(
        w, headers={"authorization": "Bearer " + w.delivery().headers["Authorization"]}
    ),
    "valid, host in other case": lambda w: as_sent(w, url=ACME_URL.replace("app.", "APP.")),
    "valid, trailing slash": lambda w: as_sent(w, url=ACME_URL + "/"),
    "valid, default port spelled": lambda w: as_sent(w, url=ACME_URL.replace(".com/", ".com:443/")),
    "valid, key list with the right key in it": lambda w: as_sent(
        w, key=[w.globex_key, pem(w.acme_key)]
    ),
    "valid, kid ignored": lambda w: as_sent(
        w,
        headers={
            "Authorization": signed_by(
                w.attacker, {"alg": "RS256", "kid": "k1"}, claims_for(w.delivery(), w)
            )
        },
        key=attacker_public(w),
    ),
    "valid, just before exp plus the leeway": lambda w: as_sent(
        w, now=w.now() + 300 + DEFAULT_LEEWAY - 2
    ),
    # Refused.
    "body tampered": lambda w: as_sent(
        w,
        body=w.delivery().body.replace(b'"isTest":false', b'"isTest":true '),
        reason="body_mismatch",
    ),
    "URL of another customer": lambda w: as_sent(w, url=GLOBEX_URL, reason="url_mismatch"),
    "other scheme": lambda w: as_sent(
        w, url=ACME_URL.replace("https:", "http:"), reason="url_mismatch"
    ),
    "expired": lambda w: as_sent(w, now=w.now() + 300 + DEFAULT_LEEWAY + 2, reason="expired"),
    "wrong key": lambda w: as_sent(w, key=w.globex_key, reason="bad_signature"),
    "key list without the right key": lambda w: as_sent(
        w, key=[w.globex_key, pem(w.globex_key)], reason="bad_signature"
    ),
    "alg none": lambda w: with_token(
        w, unsigned({"alg": "none"}, claims_for(w.delivery(), w)), "wrong_algorithm"
    ),
    "HS256 with the public key as secret": lambda w: with_token(
        w, hs256_with_public_key(w, w.delivery(), w.acme_key), "wrong_algorithm"
    ),
    "HS256 with the PEM key as secret": lambda w: with_token(
        w, hs256_with_public_key(w, w.delivery(), pem(w.acme_key)), "wrong_algorithm"
    ),
    "jku names a key to fetch": lambda w: with_token(
        w, attacker_token(w, {"alg": "RS256", "jku": "https://evil.example/k"}), "wrong_algorithm"
    ),
    "jwk carries its own key": lambda w: with_token(
        w,
        attacker_token(w, {"alg": "RS256", "jwk": SMALL_JWK}),
        "wrong_algorithm",
    ),
    "x5u names a certificate": lambda w: with_token(
        w, attacker_token(w, {"alg": "RS256", "x5u": "https://evil.example/c"}), "wrong_algorithm"
    ),
    "1 MB header": lambda w: with_token(w, "e" * 1_000_000, "too_large"),
    "body over the limit": lambda w: as_sent(
        w, body=b"{" * (10 * 1024 * 1024 + 1), reason="too_large"
    ),
    "garbage": lambda w: with_token(w, "not.a.jwt", "malformed"),
    "binary garbage": lambda w: with_token(w, "\u00e9\u00e8.\u00e0.x", "malformed"),
    "two segments": lambda w: with_token(w, "abc.def", "malformed"),
    "missing header": lambda w: as_sent(
        w, headers={"Content-Type": "application/json"}, reason="missing"
    ),
    "empty Bearer": lambda w: with_token(w, "Bearer ", "missing"),
    "unsigned claims without body_sha256": lambda w: with_token(
        w,
        signed_by(w.attacker, {"alg": "RS256"}, {"webhook_url": ACME_URL, "exp": 2**40}),
        "bad_signature",  # the signature is checked before any claim is read
    ),
    "signed claims without body_sha256": lambda w: as_sent(
        w,
        headers={
            "Authorization": signed_by(
                w.attacker, {"alg": "RS256"}, {"webhook_url": ACME_URL, "exp": 2**40}
            )
        },
        key=attacker_public(w),
        reason="malformed",
    ),
    "exp that is not a number": lambda w: as_sent(
        w,
        headers={
            "Authorization": signed_by(
                w.attacker,
                {"alg": "RS256"},
                claims_for(w.delivery(), w, exp=float("nan")),
            )
        },
        key=attacker_public(w),
        reason="malformed",
    ),
    "alg that is not text (a list)": lambda w: with_token(
        w, unsigned({"alg": ["RS256"]}, claims_for(w.delivery(), w)), "wrong_algorithm"
    ),
    "alg that is not text (an object)": lambda w: with_token(
        w, unsigned({"alg": {"RS256": 1}}, claims_for(w.delivery(), w)), "wrong_algorithm"
    ),
    "exp past any float": lambda w: as_sent(
        w,
        headers={
            "Authorization": signed_by(
                w.attacker, {"alg": "RS256"}, claims_for(w.delivery(), w, exp=10**400)
            )
        },
        key=attacker_public(w),
        reason="malformed",
    ),
    "header over joserfc's limit": lambda w: with_token(
        w, attacker_token(w, {"alg": "RS256", "x": "y" * 600}), "too_large"
    ),
    "no key configured": lambda w: as_sent(w, key=[], reason="bad_key"),
    "a key that is not a key": lambda w: as_sent(w, key="bm90IGEga2V5", reason="bad_key"),
}


@pytest.mark.parametrize("name", list(VERDICTS))
def test_verdict(world: World, name: str) -> None:
    attempt = VERDICTS[name](world)
    now = world.now() if attempt.now is None else attempt.now

    def verify() -> GongWebhook:
        return verify_gong_webhook(
            headers=attempt.headers,
            body=attempt.body,
            url=attempt.url,
            public_key=attempt.public_key,
            now=now,
        )

    if attempt.reason is None:
        webhook = verify()
        assert webhook.call_id is not None
        assert webhook.call_id.isdigit()
        assert webhook.is_test is False
        assert webhook.payload["callData"]["metaData"]["id"] == webhook.call_id
        assert webhook.key_fingerprint.startswith("sha256:")
        return
    with pytest.raises(WebhookRejected) as raised:
        verify()
    assert raised.value.reason == attempt.reason
    assert isinstance(raised.value, GongAuthError)
    message = str(raised.value)
    assert message.startswith(f"webhook rejected ({attempt.reason}): ")
    token = attempt.headers.get("Authorization", "").removeprefix("Bearer ")
    for part in [*token.split("."), attempt.body.decode("utf-8", "replace")]:
        if len(part) >= 8:
            assert part[:64] not in message
    assert "evil.example" not in message


def test_every_reason_appears_in_the_table(world: World) -> None:
    seen = {VERDICTS[name](world).reason for name in VERDICTS}
    assert seen - {None} == set(WEBHOOK_REJECTION_REASONS)


def test_the_clean_signal_with_the_real_key_and_a_url_with_a_query(world: World) -> None:
    url = ACME_URL + "?rule=calls&k=1"
    delivery = world.gong.sign_webhook(url, customer="acme", is_test=True)
    same = ACME_URL + "?k=1&rule=calls"  # order does not matter
    webhook = verify_gong_webhook(
        headers=delivery.headers, body=delivery.body, url=same, public_key=world.acme_key
    )
    assert webhook.is_test is True
    assert "GongWebhook(" in repr(webhook)
    assert "callData" not in repr(webhook)
    with pytest.raises(WebhookRejected) as raised:
        verify_gong_webhook(
            headers=delivery.headers,
            body=delivery.body,
            url=ACME_URL + "?rule=calls&k=2",
            public_key=world.acme_key,
        )
    assert raised.value.reason == "url_mismatch"
    assert "k=" not in str(raised.value)  # a URL key could be there: never echoed


def test_a_url_signed_without_a_query_accepts_any_query(world: World) -> None:
    delivery = world.delivery()
    webhook = verify_gong_webhook(
        headers=delivery.headers,
        body=delivery.body,
        url=ACME_URL + "?utm=x",
        public_key=world.acme_key,
    )
    assert webhook.call_id


def test_body_must_be_the_raw_bytes(world: World) -> None:
    delivery = world.delivery()
    with pytest.raises(TypeError, match="raw request body"):
        verify_gong_webhook(
            headers=delivery.headers,
            body=delivery.body.decode(),  # type: ignore[arg-type]
            url=ACME_URL,
            public_key=world.acme_key,
        )


def test_keys_are_read_in_every_form_gong_and_apps_use(world: World) -> None:
    bare = world.acme_key
    key = WebhookKey.parse(bare)
    der = base64.b64decode(bare)
    public = serialization.load_der_public_key(der)
    pkcs1 = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    wrapped = "\n".join(bare[i : i + 76] for i in range(0, len(bare), 76)) + "\n"
    for form in (pem(bare), pkcs1, pkcs1.decode(), der, wrapped, "  " + bare + "\n"):
        assert WebhookKey.parse(form) == key
    assert key.fingerprint == normal_fingerprint(key.fingerprint.upper().removeprefix("SHA256:"))
    assert key.public_key == bare


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda: "", "not a public key"),
        (lambda: "###", "not base64"),
        (lambda: "A" * 20_000, "at most"),
        (
            lambda: (
                ec.generate_private_key(ec.SECP256R1())
                .public_key()
                .public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
            ),
            "not an RSA public key",
        ),
        (
            lambda: (
                rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - refused, on purpose
                .public_key()
                .public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
            ),
            "1024 bits",
        ),
    ],
)
def test_unusable_keys_are_refused_with_a_reason(make: Callable[[], Any], problem: str) -> None:
    with pytest.raises(KeyProblem, match=problem):
        WebhookKey.parse(make())


def test_url_keys_are_long_random_and_checked_whole() -> None:
    key = new_webhook_url_key()
    assert len(key) >= 43
    assert key != new_webhook_url_key()
    assert webhook_url_key_matches(key, key)
    assert webhook_url_key_matches(key, ["old-key", key])  # during a rotation
    assert not webhook_url_key_matches(key[:-1], key)
    assert not webhook_url_key_matches(key + "x", key)
    assert not webhook_url_key_matches("", key)
    assert not webhook_url_key_matches(None, key)
    assert not webhook_url_key_matches(key, [])
    assert not webhook_url_key_matches("x" * 100_000, "x" * 100_000)  # over the bound


def test_no_repr_shows_a_jwt_a_body_or_a_private_key(world: World) -> None:
    delivery = world.delivery()
    token = delivery.headers["Authorization"]
    shown = " ".join(
        repr(thing) for thing in (delivery, world.gong, world.gong.webhooks, world.gong.stats)
    )
    assert token[:20] not in shown
    assert token.split(".")[2][:20] not in shown
    assert "Discovery call" not in shown  # the body's text
    assert "PRIVATE" not in shown
    assert "SignedDelivery(url=" in shown


def test_the_verifier_and_gong_auth_each_load_only_their_own_side() -> None:
    probe = (
        "import json, sys\n"
        "from gong_authlib import GongAuth\n"
        "auth = sorted(m for m in sys.modules if m.startswith('gong_authlib.webhooks'))\n"
        "for name in [m for m in sys.modules if m.startswith(('gong_authlib', 'requests'))]:\n"
        "    del sys.modules[name]\n"
        "from gong_authlib import verify_gong_webhook\n"
        "verifier = sorted({m.split('.')[0] for m in sys.modules})\n"
        "print(json.dumps([auth, verifier]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    auth, verifier = json.loads(result.stdout)
    assert auth == []  # GongAuth's import pays nothing for webhooks
    assert [name for name in ("requests", "sqlite3", "redis", "psycopg") if name in verifier] == []
