"""Every store the contract suite runs, each made fresh and empty for one test."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

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
    keys = [KEY] if kind.endswith("-encrypted") else []
    base = kind.removesuffix("-encrypted")
    unique = uuid.uuid4().hex[:12]
    if base == "memory":
        return MemoryTokenStore(encryption_keys=keys)
    if base == "sqlite":
        return SQLiteTokenStore(tmp_path / "tokens.db", encryption_keys=keys)
    if base == "redis":
        server = request.getfixturevalue("redis_server")
        return RedisTokenStore(server.url, namespace=f"test-{unique}", encryption_keys=keys)
    server = request.getfixturevalue("postgres_server")
    return PostgresTokenStore(server.dsn(), table_prefix=f"t_{unique}", encryption_keys=keys)
