"""Every store the contract suite runs, each made fresh and empty for one test."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from gong_authlib import StateError
from gong_authlib.stores import (
    MemoryTokenStore,
    PostgresTokenStore,
    RedisTokenStore,
    SQLiteTokenStore,
    TokenStore,
)

KEY = Fernet.generate_key()

STORE_KINDS = [
    "memory",
    "memory-encrypted",
    "sqlite",
    "sqlite-encrypted",
    "redis",
    "redis-encrypted",
    "postgres",
    "postgres-encrypted",
]


def make_store(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> TokenStore:
    return make_store_and_spec(kind, request, tmp_path)[0]


def make_store_and_spec(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> tuple[TokenStore, StoreSpec | None]:
    """A fresh store, and how to open it again in another process (None for memory)."""
    keys = [KEY] if kind.endswith("-encrypted") else []
    base = kind.removesuffix("-encrypted")
    unique = uuid.uuid4().hex[:12]
    if base == "memory":
        return MemoryTokenStore(encryption_keys=keys), None
    if base == "sqlite":
        path = tmp_path / "tokens.db"
        return SQLiteTokenStore(path, encryption_keys=keys), StoreSpec("sqlite", str(path))
    if base == "redis":
        server = request.getfixturevalue("redis_server")
        namespace = f"test-{unique}"
        redis_store = RedisTokenStore(server.url, namespace=namespace, encryption_keys=keys)
        return redis_store, StoreSpec("redis", server.url, namespace)
    server = request.getfixturevalue("postgres_server")
    prefix = f"t_{unique}"
    store = PostgresTokenStore(server.dsn(), table_prefix=prefix, encryption_keys=keys)
    return store, StoreSpec("postgres", server.dsn(), prefix)


def two_stores(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> tuple[TokenStore, ...]:
    """Two stores on one backend, as two app servers would open it."""
    unique = uuid.uuid4().hex[:12]
    if kind == "memory":
        store = MemoryTokenStore()
        return store, store
    if kind == "sqlite":
        return SQLiteTokenStore(tmp_path / "t.db"), SQLiteTokenStore(tmp_path / "t.db")
    if kind == "redis":
        url = request.getfixturevalue("redis_server").url
        return RedisTokenStore(url, namespace=unique), RedisTokenStore(url, namespace=unique)
    dsn = request.getfixturevalue("postgres_server").dsn()
    prefix = f"r_{unique}"
    return PostgresTokenStore(dsn, table_prefix=prefix), PostgresTokenStore(
        dsn, table_prefix=prefix
    )


@dataclass(frozen=True)
class StoreSpec:
    """How to open the same store again in another process."""

    kind: str
    location: str
    scope: str = ""  # Redis namespace or PostgreSQL table prefix


def open_spec(spec: StoreSpec) -> TokenStore:
    if spec.kind == "sqlite":
        return SQLiteTokenStore(spec.location)
    if spec.kind == "redis":
        return RedisTokenStore(spec.location, namespace=spec.scope)
    return PostgresTokenStore(spec.location, table_prefix=spec.scope, min_size=1, max_size=1)


def take_state_in_child(
    spec: StoreSpec, state: str, redirect_uri: str, start: Event, results: Queue[str]
) -> None:
    """In a child process: wait for the start signal, then try to consume ``state``."""
    with open_spec(spec) as store:
        start.wait(30)
        try:
            results.put(str(store.consume(state, redirect_uri=redirect_uri).customer))
        except StateError:
            results.put("refused")
