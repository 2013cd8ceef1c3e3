"""A customer's row written back to an older one (a rollback) is seen, though not prevented.

Someone who can write the store (or a restore of one table from a backup) can put back a row
the store once held, encrypted with its key and bound to its customer: nothing in the row tells
it from the current one. Each store keeps, beside the rows, the newest issue time it ever
stored per customer; ``tokens list``, ``show`` and ``check`` flag a row issued before it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gong_authlib.stores import (
    MemoryTokenStore,
    PostgresTokenStore,
    RedisTokenStore,
    SQLiteTokenStore,
    TokenStore,
)
from gong_authlib.testing import FakeGong
from gong_authlib.token import Token
from tests.authflow import authorize_into
from tests.cliflow import CliWorld, authorized_world
from tests.stores import make_store


def _token(issued_at: float, n: int) -> Token:
    return Token(
        access_token=f"access-{n}",
        refresh_token=f"refresh-{n}",
        expires_at=issued_at + 86_400,
        api_base_url="https://acme.api.gong.io",
        issued_at=issued_at,
    )


def _raw(store: TokenStore, customer: str) -> bytes:
    """The stored row as someone with the database (not the key) copies it."""
    if isinstance(store, MemoryTokenStore):
        return store._data[customer]
    if isinstance(store, SQLiteTokenStore):
        db = store._connection()
        row = db.execute("SELECT data FROM tokens WHERE customer = ?", (customer,)).fetchone()
        return bytes(row[0])
    if isinstance(store, RedisTokenStore):
        data = store._redis.get(store._key("token", customer))
        assert isinstance(data, bytes)
        return data
    assert isinstance(store, PostgresTokenStore)
    _, rows = store._execute("SELECT data FROM {tokens} WHERE customer = %s", (customer,))
    return bytes(rows[0][0])


def _write_back(store: TokenStore, customer: str, data: bytes) -> None:
    if isinstance(store, MemoryTokenStore):
        store._data[customer] = data
    elif isinstance(store, SQLiteTokenStore):
        db = store._connection()
        db.execute("UPDATE tokens SET data = ? WHERE customer = ?", (data, customer))
    elif isinstance(store, RedisTokenStore):
        store._redis.set(store._key("token", customer), data)
    else:
        assert isinstance(store, PostgresTokenStore)
        store._execute("UPDATE {tokens} SET data = %s WHERE customer = %s", (data, customer))


@pytest.fixture(params=["memory-encrypted", "sqlite-encrypted", "redis-encrypted", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TokenStore]:
    with make_store(request.param, request, tmp_path) as made:
        yield made


def test_each_store_keeps_the_newest_issue_time_beside_the_rows(store: TokenStore) -> None:
    assert store.newest_issue("acme") is None
    store.put("acme", _token(1_000.0, 1))  # connected to the wrong company, say
    old_row = _raw(store, "acme")
    store.put("acme", _token(5_000.0, 2))  # re-authorized
    store.put("acme", _token(3_000.0, 3))  # a worker whose clock is behind: the mark stays
    assert store.newest_issue("acme") == 5_000.0
    _write_back(store, "acme", old_row)
    restored = store.get("acme")
    assert restored is not None
    assert restored.issued_at == 1_000.0  # accepted: the store alone cannot prevent it
    assert store.newest_issue("acme") == 5_000.0  # but it can tell
    store.rotate_encryption()  # rewriting a row keeps its issue time and the mark
    assert store.newest_issue("acme") == 5_000.0
    assert store.delete("acme")
    assert store.newest_issue("acme") is None  # a deleted customer leaves nothing behind


@pytest.fixture
def world(tmp_path: Path) -> Iterator[CliWorld]:
    with authorized_world(tmp_path, "acme", "globex") as world:
        yield world


def _roll_back_acme(store: TokenStore, gong: FakeGong) -> Token:
    first = authorize_into(gong, store, "acme")
    authorize_into(gong, store, "globex")
    old_row = _raw(store, "acme")
    newer = replace(first, issued_at=first.issued_at + 3_600, access_token="reauthorized")
    store.put("acme", newer)
    _write_back(store, "acme", old_row)
    return newer


def _rows(world: CliWorld, *options: str) -> dict[str, dict[str, object]]:
    result = world.run(*world.args("tokens", "list", "--format", "json", *options))
    assert result.returncode == 0, result.stderr
    return {row["customer"]: row for row in json.loads(result.stdout)["customers"]}


def _assert_rollback_shown(world: CliWorld, newer: Token, *options: str) -> None:
    rows = _rows(world, *options)
    assert rows["acme"]["status"] == "rolled-back"
    assert rows["acme"]["attention"] is True
    newest = datetime.fromtimestamp(newer.issued_at, UTC).isoformat(timespec="seconds")
    assert rows["acme"]["newest_issued_at"] == newest
    assert rows["globex"]["status"] == "active"
    assert rows["globex"]["newest_issued_at"] == rows["globex"]["issued_at"]
    text = world.run(*world.args("tokens", "list", *options))
    [line] = [line for line in text.stdout.splitlines() if line.startswith("acme")]
    assert "ROLLED-BACK" in line
    assert "a token issued at " in line
    show = world.run(*world.args("tokens", "show", "--customer", "acme", *options))
    assert show.returncode == 0, show.stderr
    assert "rolled-back" in show.stdout
    check = world.run(*world.args("tokens", "check", *options))
    assert check.returncode == 1
    assert check.stdout.startswith("acme")


def test_tokens_list_show_and_check_flag_a_rolled_back_row_sqlite(world: CliWorld) -> None:
    with SQLiteTokenStore(world.folder / "tokens.db") as store:
        newer = _roll_back_acme(store, world.gong)
    _assert_rollback_shown(world, newer)


def test_tokens_list_show_and_check_flag_a_rolled_back_row_redis(
    world: CliWorld, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("redis_server").url.removesuffix("/0") + "/5"
    with RedisTokenStore(url) as store:
        store._redis.flushdb()
        newer = _roll_back_acme(store, world.gong)
    _assert_rollback_shown(world, newer, "--store", url)
