"""Schema version 4 (issue 26): version 3 stores gain the refresh intent and the identity
record when opened, tokens and statuses intact; SQLite's write-ahead log stays bounded."""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path
from typing import LiteralString

from gong_authlib.stores import REAUTHORIZATION_REQUIRED, PostgresTokenStore, SQLiteTokenStore
from gong_authlib.stores.intents import RefreshIntent
from gong_authlib.stores.sqlite import MIGRATIONS
from gong_authlib.token import fingerprint
from tests.servers import PostgresServer
from tests.test_contract_tokens import make_token


def _intent_works(store: SQLiteTokenStore | PostgresTokenStore) -> None:
    intent = RefreshIntent("worker-a", fingerprint("refresh-3"), time.time() + 60)
    assert store.open_intent("acme", intent)
    assert store.intent("acme") == intent
    assert store.settle("acme", make_token(4), spent=fingerprint("refresh-3"))
    assert store.get("acme") == make_token(4)
    assert store.identity_seen() == store.store_identity()


def test_a_version_3_sqlite_file_is_migrated_to_4(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    with sqlite3.connect(path) as db:  # as release 3 left it
        db.execute("CREATE TABLE gong_authlib_meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("INSERT INTO gong_authlib_meta VALUES ('schema_version', '3')")
        for version in (1, 2, 3):
            for statement in MIGRATIONS[version]:
                db.execute(statement)
        db.execute(
            "INSERT INTO tokens (customer, data, updated_at, status) VALUES ('acme', ?, 0, ?)",
            (make_token(3).to_json().encode(), REAUTHORIZATION_REQUIRED),
        )
    with SQLiteTokenStore(path) as store:
        assert store.get("acme") == make_token(3)
        assert store.status("acme").state == REAUTHORIZATION_REQUIRED
        assert store.intent("acme") is None
        _intent_works(store)
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT value FROM gong_authlib_meta WHERE key = 'schema_version'")
        assert row.fetchone() == ("4",)


def test_a_version_3_postgres_store_is_migrated_to_4(postgres_server: PostgresServer) -> None:
    import psycopg
    from psycopg import sql

    prefix = f"m_{uuid.uuid4().hex[:10]}"
    with PostgresTokenStore(postgres_server.dsn(), table_prefix=prefix) as store:
        store.put("acme", make_token(3))
    tables = {kind: sql.Identifier(f"{prefix}_{kind}") for kind in ("meta", "tokens")}

    def query(text: LiteralString) -> sql.Composed:
        return sql.SQL(text).format(**tables)

    with psycopg.connect(postgres_server.dsn(), autocommit=True) as db:  # back to version 3
        db.execute(
            query(
                "ALTER TABLE {tokens} DROP COLUMN intent_owner, DROP COLUMN intent_spent,"
                " DROP COLUMN intent_deadline"
            )
        )
        db.execute(query("UPDATE {meta} SET value = '3' WHERE key = 'schema_version'"))
    with PostgresTokenStore(postgres_server.dsn(), table_prefix=prefix) as store:
        assert store.get("acme") == make_token(3)
        _intent_works(store)
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as db:
        row = db.execute(query("SELECT value FROM {meta} WHERE key = 'schema_version'"))
        assert row.fetchone() == ("4",)


def wal_peak(path: Path, writes: int = 400) -> int:
    """The largest ``-wal`` seen over ``writes`` puts of rows about four pages long, with a
    reader holding a snapshot over one in five now and then (what makes a log grow)."""
    big = "x" * 15_000
    largest = 0
    with SQLiteTokenStore(path) as store:
        reader = sqlite3.connect(path)
        for n in range(writes):
            if n % 100 == 0:
                reader.execute("BEGIN")
                reader.execute("SELECT count(*) FROM tokens").fetchone()
            if n % 100 == 20:
                reader.execute("COMMIT")
            store.put(f"customer-{n % 40}", make_token(n, access_token=big + str(n)))
            largest = max(largest, Path(f"{path}-wal").stat().st_size)
        reader.close()
    return largest


def test_the_sqlite_write_ahead_log_stays_bounded(tmp_path: Path) -> None:
    """Unbounded (SQLite's default checkpoint every 1,000 pages, the file kept at its peak),
    the log grew to 4 MB under a fleet's refreshes and filled a 5 MiB filesystem by itself:
    this run peaks near 5 MB without the bounds."""
    assert wal_peak(tmp_path / "t.db") < 1280 * 1024  # 1 MiB limit + one checkpoint span
