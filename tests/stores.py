"""Store factories for the contract suite: each returns a fresh, empty store.

The Redis and PostgreSQL stores plug in here; every store then runs every contract test.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet

from gong_authlib.stores import MemoryTokenStore, SQLiteTokenStore, TokenStore

KEY = Fernet.generate_key()

StoreFactory = Callable[[Path], TokenStore]

STORE_FACTORIES: dict[str, StoreFactory] = {
    "memory": lambda tmp: MemoryTokenStore(),
    "memory-encrypted": lambda tmp: MemoryTokenStore(encryption_keys=[KEY]),
    "sqlite": lambda tmp: SQLiteTokenStore(tmp / "tokens.db"),
    "sqlite-encrypted": lambda tmp: SQLiteTokenStore(tmp / "tokens.db", encryption_keys=[KEY]),
}
