"""Token stores: one set of contracts, several homes for customers' tokens.

=========================  =====================================================  ==========
store                      when                                                   URL
=========================  =====================================================  ==========
MemoryTokenStore           tests, one-off scripts                                 memory://
SQLiteTokenStore           one machine, any number of processes (the default)      sqlite:///
RedisTokenStore            many app servers; Redis with persistence on             redis://
PostgresTokenStore         many app servers; tokens beside the app's own data      postgresql://
=========================  =====================================================  ==========

The contracts every store keeps are in :mod:`gong_authlib.stores.contracts`; the URL schemes
:func:`open_store` knows are in :data:`gong_authlib.stores.urls.BACKENDS`. Names are imported
lazily (PEP 562): importing the pure rate code or the contracts loads no backend, no
``sqlite3`` and no driver (``gong-authlib[redis]``, ``gong-authlib[postgres]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gong_authlib.lazy import lazy_names

# public name -> module that defines it
_LAZY: dict[str, str] = {
    "ACTIVE": "gong_authlib.stores.status",
    "REAUTHORIZATION_REQUIRED": "gong_authlib.stores.status",
    "STATUSES": "gong_authlib.stores.status",
    "UNTRUSTED_ORIGIN": "gong_authlib.stores.status",
    "CustomerStatus": "gong_authlib.stores.status",
    "DEFAULT_LEASE": "gong_authlib.stores.contracts",
    "TokenStore": "gong_authlib.stores.contracts",
    "Lease": "gong_authlib.stores.leases",
    "MemoryTokenStore": "gong_authlib.stores.memory",
    "PostgresTokenStore": "gong_authlib.stores.postgres",
    "RedisTokenStore": "gong_authlib.stores.redis",
    "SQLiteTokenStore": "gong_authlib.stores.sqlite",
    "open_store": "gong_authlib.stores.urls",
    "put_with_retries": "gong_authlib.stores.writes",
}

if TYPE_CHECKING:
    from gong_authlib.stores.contracts import DEFAULT_LEASE, TokenStore
    from gong_authlib.stores.leases import Lease
    from gong_authlib.stores.memory import MemoryTokenStore
    from gong_authlib.stores.postgres import PostgresTokenStore
    from gong_authlib.stores.redis import RedisTokenStore
    from gong_authlib.stores.sqlite import SQLiteTokenStore
    from gong_authlib.stores.status import (
        ACTIVE,
        REAUTHORIZATION_REQUIRED,
        STATUSES,
        UNTRUSTED_ORIGIN,
        CustomerStatus,
    )
    from gong_authlib.stores.urls import open_store
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


__getattr__, __dir__ = lazy_names(__name__, _LAZY)
