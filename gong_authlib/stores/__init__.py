"""Token stores: one small interface, several homes for customers' tokens.

=========================  =====================================================  ==========
store                      when                                                   URL
=========================  =====================================================  ==========
MemoryTokenStore           tests, one-off scripts                                 memory://
SQLiteTokenStore           one machine, any number of processes (the default)      sqlite:///
RedisTokenStore            many app servers; Redis with persistence on             redis://
PostgresTokenStore         many app servers; tokens beside the app's own data      postgresql://
=========================  =====================================================  ==========

The Redis and PostgreSQL stores import their drivers only when used (extras
``gong-authlib[redis]`` and ``gong-authlib[postgres]``).
"""

from __future__ import annotations

from collections.abc import Sequence

from gong_authlib.stores.base import (
    ACTIVE,
    DEFAULT_LEASE,
    REAUTHORIZATION_REQUIRED,
    STATUSES,
    UNTRUSTED_ORIGIN,
    CustomerStatus,
    TokenStore,
)
from gong_authlib.stores.leases import Lease
from gong_authlib.stores.memory import MemoryTokenStore
from gong_authlib.stores.postgres import PostgresTokenStore
from gong_authlib.stores.redis import RedisTokenStore
from gong_authlib.stores.sqlite import SQLiteTokenStore
from gong_authlib.stores.urls import sqlite_path, store_scheme
from gong_authlib.stores.writes import put_with_retries

__all__ = [
    "ACTIVE",
    "DEFAULT_LEASE",
    "REAUTHORIZATION_REQUIRED",
    "STATUSES",
    "UNTRUSTED_ORIGIN",
    "CustomerStatus",
    "Lease",
    "MemoryTokenStore",
    "PostgresTokenStore",
    "RedisTokenStore",
    "SQLiteTokenStore",
    "TokenStore",
    "open_store",
    "put_with_retries",
]


def open_store(
    url: str, *, encryption_keys: Sequence[str | bytes] = (), migrate_plaintext: bool = False
) -> TokenStore:
    """Open the store a URL names.

    ``sqlite:///relative/path.db`` and ``sqlite:////absolute/path.db`` follow SQLAlchemy's
    convention (three slashes then a relative path; four for an absolute one);
    ``redis://[:password@]host:port/db`` and ``postgresql://user@host:port/db`` take the
    drivers' own URL forms; ``memory://`` is a fresh in-process store.
    ``migrate_plaintext`` lets an encrypted store read plaintext rows (once, to encrypt an
    existing store with ``rotate_encryption()``).
    """
    scheme = store_scheme(url)  # a malformed URL fails here, its text never echoed
    if scheme == "sqlite":
        return SQLiteTokenStore(
            sqlite_path(url), encryption_keys=encryption_keys, migrate_plaintext=migrate_plaintext
        )
    if scheme == "memory":
        return MemoryTokenStore(
            encryption_keys=encryption_keys, migrate_plaintext=migrate_plaintext
        )
    if scheme in ("redis", "rediss", "unix"):
        return RedisTokenStore(
            url, encryption_keys=encryption_keys, migrate_plaintext=migrate_plaintext
        )
    return PostgresTokenStore(
        url, encryption_keys=encryption_keys, migrate_plaintext=migrate_plaintext
    )
