"""Token stores: one small interface, several homes for customers' tokens.

=========================  =====================================================  ==========
store                      when                                                   URL
=========================  =====================================================  ==========
MemoryTokenStore           tests, one-off scripts                                 memory://
SQLiteTokenStore           one machine, any number of processes (the default)      sqlite:///
=========================  =====================================================  ==========
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

from gong_authlib.errors import TokenStoreError
from gong_authlib.stores.base import DEFAULT_LEASE, TokenStore
from gong_authlib.stores.memory import MemoryTokenStore
from gong_authlib.stores.sqlite import SQLiteTokenStore

__all__ = [
    "DEFAULT_LEASE",
    "MemoryTokenStore",
    "SQLiteTokenStore",
    "TokenStore",
    "open_store",
]


def open_store(url: str, *, encryption_keys: Sequence[str | bytes] = ()) -> TokenStore:
    """Open the store a URL names.

    ``sqlite:///relative/path.db`` and ``sqlite:////absolute/path.db`` follow SQLAlchemy's
    convention (three slashes then a relative path; four for an absolute one); ``memory://``
    is a fresh in-process store.
    """
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "sqlite":
        path = unquote(url[len("sqlite:///") :]) if url.startswith("sqlite:///") else ""
        if not path:
            raise TokenStoreError(
                "an SQLite store URL is sqlite:///relative/path.db or sqlite:////absolute/path.db"
            )
        return SQLiteTokenStore(path, encryption_keys=encryption_keys)
    if scheme == "memory":
        return MemoryTokenStore(encryption_keys=encryption_keys)
    shown = urlsplit(url).scheme or url.split(":", 1)[0]
    raise TokenStoreError(
        f"unsupported token store URL scheme {shown!r}; use sqlite:///path or memory://"
    )
