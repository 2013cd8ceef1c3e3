"""How a Token becomes bytes in a store, optionally encrypted at rest with Fernet.

With keys, tokens are encrypted with the first (newest) key and decrypted with any of them
(:class:`cryptography.fernet.MultiFernet`), so a key can be rotated by putting the new key first
and calling the store's ``rotate_encryption()``. A wrong key is a clear error that never leads
to data being overwritten: reads fail, so nothing is refreshed or written back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from gong_authlib.errors import TokenStoreError
from gong_authlib.token import Token

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

_FERNET_PREFIX = b"gAAAAA"


class TokenCodec:
    """Serializes tokens to bytes and back; encrypts when given Fernet keys."""

    def __init__(self, encryption_keys: Sequence[str | bytes] = ()) -> None:
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

    def encode(self, token: Token) -> bytes:
        raw = token.to_json().encode()
        return self._fernet.encrypt(raw) if self._fernet else raw

    def decode(self, data: bytes | str, *, customer: str) -> Token:
        raw = data.encode() if isinstance(data, str) else bytes(data)
        context = f"the stored token of customer {customer!r}"
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
        return Token.from_json(raw, context=context)
