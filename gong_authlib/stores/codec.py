"""How a Token becomes bytes in a store, optionally encrypted at rest with Fernet.

With keys, tokens are encrypted with the first (newest) key and decrypted with any of them
(:class:`cryptography.fernet.MultiFernet`), so a key can be rotated by putting the new key first
and calling the store's ``rotate_encryption()``. A wrong key is a clear error that never leads
to data being overwritten: reads fail, so nothing is refreshed or written back.

Each row names its customer inside the encrypted payload, so Fernet's authentication covers
the name: a row copied (by someone with the database but not the key) from one customer to
another fails to read instead of lending one customer's Gong company to another. Rows written
before binding existed carry no name; they are read, and bound when next written (or by
``rotate_encryption()``). A plaintext row in an encrypted store is refused (someone who can
write the database could plant a token of their choosing) unless ``migrate_plaintext`` is on,
for the one run that encrypts an existing plaintext store.

OAuth state records are sealed the same way (:meth:`TokenCodec.seal_state`): with keys, a
record is Fernet-encrypted together with the hash it is kept under, so someone who can write
the store but has no key can neither plant a state naming a customer of their choosing nor
change the customer, redirect URI, binding or issue time of a state another user started, nor
move a record to another state. Without keys, nothing protects a record from a store writer
(who could as well write tokens): a store that others can write must be encrypted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from gong_authlib.errors import StateError, TokenStoreError
from gong_authlib.token import Token

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

_FERNET_PREFIX = b"gAAAAA"
_STATE_SEPARATOR = b"\n"


class TokenCodec:
    """Serializes tokens to bytes and back; encrypts when given Fernet keys."""

    def __init__(
        self, encryption_keys: Sequence[str | bytes] = (), *, migrate_plaintext: bool = False
    ) -> None:
        self.migrate_plaintext = migrate_plaintext
        self._fernet: MultiFernet | None = None
        if encryption_keys:
            from cryptography.fernet import Fernet, MultiFernet

            try:
                self._fernet = MultiFernet([Fernet(key) for key in encryption_keys])
            except (ValueError, TypeError):
                raise TokenStoreError(
                    "an encryption key is not a Fernet key (url-safe base64 of 32 bytes); "
                    "make one with `python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'`"
                ) from None

    @property
    def encrypted(self) -> bool:
        return self._fernet is not None

    def encode(self, token: Token, *, customer: str | None = None) -> bytes:
        """The row for ``token``; bound to ``customer`` when given (our stores always do)."""
        data = token.to_dict()
        if customer is not None:
            data["customer"] = customer
        raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
        return self._fernet.encrypt(raw) if self._fernet else raw

    def decode(self, data: bytes | str, *, customer: str) -> Token:
        raw = data.encode() if isinstance(data, str) else bytes(data)
        context = f"the stored token of customer {customer!r}"
        if self._fernet is not None and not raw.startswith(_FERNET_PREFIX):
            if not self.migrate_plaintext:
                raise TokenStoreError(
                    f"{context} is not encrypted, but this store is: refusing it (a plaintext "
                    "row could have been planted); to encrypt an existing plaintext store, "
                    "open it once with migrate_plaintext=True and run rotate_encryption()"
                )
            return self._bound(Token.from_json(raw, context=context), raw, customer, context)
        if raw.startswith(_FERNET_PREFIX):
            if self._fernet is None:
                raise TokenStoreError(
                    f"{context} is encrypted, but no encryption key is configured"
                )
            from cryptography.fernet import InvalidToken

            try:
                raw = self._fernet.decrypt(raw)
            except InvalidToken:
                raise TokenStoreError(
                    f"{context} cannot be decrypted with the configured keys (wrong key?); "
                    "nothing was changed"
                ) from None
        return self._bound(Token.from_json(raw, context=context), raw, customer, context)

    @staticmethod
    def _bound(token: Token, raw: bytes, customer: str, context: str) -> Token:
        """``token`` if the row names ``customer`` or no one (written before binding)."""
        try:
            named = json.loads(raw).get("customer")
        except (ValueError, AttributeError):
            named = None
        if named is not None and named != customer:
            raise TokenStoreError(
                f"{context} was written for another customer: refusing it (a row copied "
                "between customers); re-authorize this customer"
            )
        return token

    def seal_state(self, key: str, record: bytes) -> bytes:
        """The stored form of the state record kept under ``key`` (the state's hash): sealed
        with the newest key together with ``key``, or ``record`` itself in a plaintext store."""
        if self._fernet is None:
            return record
        return self._fernet.encrypt(key.encode() + _STATE_SEPARATOR + record)

    def open_state(self, key: str, stored: bytes) -> bytes:
        """The record a state was issued with, if this store sealed it under ``key``.

        StateError (the callback is refused, the authorization must start again) for a record
        that is not sealed in an encrypted store, does not open with the configured keys or
        was sealed for another state: each means someone wrote the store, or a key was dropped
        while the state waited.
        """
        raw = bytes(stored)
        if self._fernet is None:
            if raw.startswith(_FERNET_PREFIX):
                raise StateError(
                    "a stored OAuth state is encrypted, but this store has no encryption key; "
                    "start the authorization again"
                )
            return raw
        from cryptography.fernet import InvalidToken

        refused = StateError(
            "a stored OAuth state was not sealed by this store's encryption keys (it could "
            "have been planted or altered by someone who can write the store): refusing the "
            "callback; start the authorization again"
        )
        if not raw.startswith(_FERNET_PREFIX):
            raise refused
        try:
            opened = self._fernet.decrypt(raw)
        except InvalidToken:
            raise refused from None
        sealed_for, _, record = opened.partition(_STATE_SEPARATOR)
        if sealed_for != key.encode():
            raise refused
        return record
