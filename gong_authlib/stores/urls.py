"""Store URLs checked before any driver sees them, with messages that never echo the URL.

A store URL often carries a password (``redis://:pw@host``, ``postgresql://app:pw@host/db``),
and a string given where a URL belongs may be a whole DSN with one. So a message names the
scheme, the part (port, database, option name) and what is expected, never the text itself;
and a malformed URL fails here at once instead of inside a driver's retry loop (psycopg's pool
waited its 5 s timeout, logging the URL at each attempt).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote, urlsplit

from gong_authlib.errors import TokenStoreError

if TYPE_CHECKING:
    from gong_authlib.stores.contracts import TokenStore

# The one list of store URL schemes: scheme -> (module, class) of the backend that opens it.
# open_store imports only the backend a URL names (its driver is an optional extra).
BACKENDS: dict[str, tuple[str, str]] = {
    "sqlite": ("gong_authlib.stores.sqlite", "SQLiteTokenStore"),
    "memory": ("gong_authlib.stores.memory", "MemoryTokenStore"),
    "redis": ("gong_authlib.stores.redis", "RedisTokenStore"),
    "rediss": ("gong_authlib.stores.redis", "RedisTokenStore"),
    "unix": ("gong_authlib.stores.redis", "RedisTokenStore"),
    "postgresql": ("gong_authlib.stores.postgres", "PostgresTokenStore"),
    "postgres": ("gong_authlib.stores.postgres", "PostgresTokenStore"),
}
SCHEMES = tuple(BACKENDS)
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]{0,30})://")
_USAGE = "use sqlite:///path, redis://, postgresql:// or memory://"
_SSL_CERT_REQS = ("none", "optional", "required")
# redis-py parses these as any float and fails only at first use, outside its own errors: a
# negative, NaN or huge timeout raises ValueError or OverflowError from the socket layer.
_REDIS_SECONDS = {
    "socket_timeout": 0.0,
    "socket_connect_timeout": 0.0,
    "health_check_interval": -1.0,
}  # option -> the value it must exceed
_MAX_SECONDS = 86_400.0


def store_scheme(url: str) -> str:
    """The URL's scheme, lower-cased, once the URL is known to be well formed for it."""
    match = _SCHEME.match(url)
    if match is None:
        raise TokenStoreError(f"the token store URL has no scheme; {_USAGE}")
    scheme = match.group(1).lower()
    if scheme not in SCHEMES:
        raise TokenStoreError(f"unsupported token store URL scheme {scheme!r}; {_USAGE}")
    if scheme == "sqlite":
        sqlite_path(url)
    elif scheme in ("redis", "rediss", "unix"):
        _check_redis(url, scheme)
    elif scheme in ("postgresql", "postgres"):
        _check_postgres(url)
    return scheme


def sqlite_path(url: str) -> str:
    path = unquote(url[len("sqlite:///") :]) if url.lower().startswith("sqlite:///") else ""
    if not path:
        raise TokenStoreError(
            "an SQLite store URL is sqlite:///relative/path.db or sqlite:////absolute/path.db"
        )
    if "\x00" in path:
        raise TokenStoreError("the SQLite path contains a NUL byte")
    return path


def _port_message(scheme: str) -> str:
    return f"the {scheme} URL's port must be a number from 1 to 65535"


def _check_redis(url: str, scheme: str) -> None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TokenStoreError(_port_message("Redis") + " (or the URL is malformed)") from None
    if port == 0:
        raise TokenStoreError(_port_message("Redis"))
    if scheme != "unix" and parts.path not in ("", "/") and not parts.path[1:].isdigit():
        raise TokenStoreError("the Redis database is a number: redis://host:port/0")
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        _check_redis_option(key, value)
    _check_redis_options(url)


def _check_redis_option(key: str, value: str) -> None:
    """Values redis-py would take and then fail on deep in a command (never echoed)."""
    if key == "ssl_cert_reqs" and value.lower() not in _SSL_CERT_REQS:
        raise TokenStoreError("the Redis URL option 'ssl_cert_reqs' is none, optional or required")
    if key in _REDIS_SECONDS:
        above = _REDIS_SECONDS[key]
        try:
            seconds = float(value)
        except ValueError:
            return  # not a number: redis-py's own parsing names the option
        if not above < seconds <= _MAX_SECONDS:  # False for NaN too
            lowest = "above 0" if above == 0 else "from 0"
            raise TokenStoreError(
                f"the Redis URL option {key!r} is a number of seconds {lowest} "
                f"up to {_MAX_SECONDS:,.0f}"
            )
    if key == "protocol" and value not in ("2", "3"):
        raise TokenStoreError("the Redis URL option 'protocol' is 2 or 3")
    if key == "retry_on_error":
        raise TokenStoreError("the Redis URL option 'retry_on_error' is not accepted in a URL")


def _check_redis_options(url: str) -> None:
    """Let redis-py parse the options and build (not open) a connection, naming any bad one."""
    try:
        import redis
    except ImportError:
        return  # the store will say which extra to install
    try:
        pool = redis.ConnectionPool.from_url(url)
        pool.make_connection()
        pool.disconnect()
    except ValueError as exc:
        raise TokenStoreError(
            f"invalid value for the Redis URL option {_option_named(exc)}"
        ) from None
    except TypeError as exc:
        raise TokenStoreError(
            f"the Redis URL option {_option_named(exc)} is not supported for this scheme"
        ) from None


def _option_named(exc: Exception) -> str:
    """The option name redis-py quotes in its message, never the value."""
    match = re.search(r"'([A-Za-z_][A-Za-z0-9_]{0,40})'", str(exc))
    return repr(match.group(1)) if match else "(one of its query options)"


def _check_postgres(url: str) -> None:
    try:
        import psycopg
    except ImportError:
        return
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        raise TokenStoreError(
            "the PostgreSQL URL is malformed (check the brackets around an IPv6 host, the "
            "port, and %-escaping in the user name and password)"
        ) from None
    for port in str(info.get("port") or "5432").split(","):
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            raise TokenStoreError(_port_message("PostgreSQL"))


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
    module, name = BACKENDS[scheme]
    store_class = getattr(importlib.import_module(module), name)
    keys = {"encryption_keys": encryption_keys, "migrate_plaintext": migrate_plaintext}
    if scheme == "sqlite":
        store: TokenStore = store_class(sqlite_path(url), **keys)
    elif scheme == "memory":
        store = store_class(**keys)
    else:
        store = store_class(url, **keys)
    return store
