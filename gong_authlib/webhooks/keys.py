"""The keys a delivery may be verified with: every form Gong's keys come in, read once.

Reading a public key costs more than verifying a signature with it, and a receiver sees the
same few keys on every delivery: each key's text is read once and kept (a bounded cache).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from gong_authlib.errors import WebhookRejected
from gong_authlib.stores.webhook_keys import KeyProblem, WebhookKey

if TYPE_CHECKING:
    from joserfc.jwk import RSAKey

# What a caller may pass as ``public_key``: one key or several (rotation, several rules).
PublicKeys = str | bytes | WebhookKey | Iterable[str | bytes | WebhookKey]

# Each distinct key text read is kept: a fleet's customers have a few keys each.
_CACHE_SIZE = 1024


@dataclass(frozen=True, slots=True)
class VerifyingKey:
    fingerprint: str
    key: RSAKey


def verifying_keys(public_key: PublicKeys) -> tuple[VerifyingKey, ...]:
    """Every key in ``public_key``, read; WebhookRejected("bad_key") for none or a bad one."""
    if isinstance(public_key, str | bytes | WebhookKey):
        given: list[str | bytes | WebhookKey] = [public_key]
    else:
        given = list(public_key)
    if not given:
        raise WebhookRejected("bad_key", "no public key is configured to verify it with")
    keys = []
    for number, item in enumerate(given, 1):
        text = item.public_key if isinstance(item, WebhookKey) else item
        try:
            keys.append(_read(text))
        except KeyProblem as problem:
            where = f"public key {number} of {len(given)}" if len(given) > 1 else "the public key"
            raise WebhookRejected("bad_key", f"{where} is unusable: {problem}") from None
    return tuple(keys)


@lru_cache(maxsize=_CACHE_SIZE)
def _read(text: str | bytes) -> VerifyingKey:
    from joserfc.jwk import RSAKey

    key = WebhookKey.parse(text)
    return VerifyingKey(key.fingerprint, RSAKey.import_key(key.der))
