"""After a key rotation, a plaintext migration or a delete, the store's own files hold no old
copy of a token: no plaintext refresh token, no row under the retired key, no deleted customer.

Read from the files themselves (PostgreSQL's relation files after a CHECKPOINT, SQLite's file
and its write-ahead log), as someone who copies the disk would.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import psycopg
from cryptography.fernet import Fernet

from gong_authlib.stores import PostgresTokenStore, SQLiteTokenStore
from gong_authlib.token import Token
from tests.servers import PostgresServer

CUSTOMERS = ("acme", "globex", "initech")


def _token(customer: str) -> Token:
    return Token(
        access_token=f"at-{customer}-{uuid.uuid4().hex}",
        refresh_token=f"rt-{customer}-{uuid.uuid4().hex}",
        expires_at=4_000_000_000,
        api_base_url=f"https://{customer}.api.gong.io",
    )


def _absent(needle: bytes, files: bytes, what: str) -> None:
    # Not `assert needle not in files`: pytest would print both, a token among them.
    found = needle in files
    assert not found, what


def _postgres_files(server: PostgresServer, dsn: str) -> bytes:
    with psycopg.connect(dsn, autocommit=True) as db:
        db.execute("CHECKPOINT")  # every table page on disk, as a disk copy would have it
        row = db.execute(
            "SELECT oid FROM pg_database WHERE datname = current_database()"
        ).fetchone()
    assert row is not None
    folder = server.data / "base" / str(row[0])
    return b"".join(path.read_bytes() for path in folder.iterdir() if path.is_file())


def _postgres_rows(dsn: str, prefix: str) -> dict[str, bytes]:
    with psycopg.connect(dsn) as db:
        found = db.execute(f"SELECT customer, data FROM {prefix}_tokens").fetchall()  # noqa: S608
    return {customer: bytes(data) for customer, data in found}


def test_postgres_files_keep_no_plaintext_no_retired_key_row_and_no_deleted_customer(
    postgres_server: PostgresServer,
) -> None:
    dsn, prefix = postgres_server.dsn(), f"e_{uuid.uuid4().hex[:10]}"
    first, second = Fernet.generate_key(), Fernet.generate_key()
    tokens = {customer: _token(customer) for customer in CUSTOMERS}
    with PostgresTokenStore(dsn, table_prefix=prefix) as plain:
        for customer, token in tokens.items():
            plain.put(customer, token)
    with PostgresTokenStore(
        dsn, table_prefix=prefix, encryption_keys=[first], migrate_plaintext=True
    ) as migrating:
        assert migrating.rotate_encryption() == 3
    under_first = _postgres_rows(dsn, prefix)
    with PostgresTokenStore(dsn, table_prefix=prefix, encryption_keys=[second, first]) as rotated:
        assert rotated.rotate_encryption() == 3
        under_second = _postgres_rows(dsn, prefix)
        assert rotated.delete("initech")
        assert rotated.get("acme") == tokens["acme"]
    files = _postgres_files(postgres_server, dsn)
    live = under_second["acme"] in files
    assert live, "the live rows are not in the files read: the wrong files were read"
    for customer, token in tokens.items():
        _absent(token.refresh_token.encode(), files, f"{customer}'s plaintext copy")
        _absent(under_first[customer], files, f"{customer}'s row under the retired key")
    _absent(under_second["initech"], files, "the deleted customer's row")


def test_sqlite_files_keep_no_plaintext_no_retired_key_row_and_no_deleted_customer(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tokens.db"
    first, second = Fernet.generate_key(), Fernet.generate_key()
    tokens = {customer: _token(customer) for customer in CUSTOMERS}
    with SQLiteTokenStore(path) as plain:
        for customer, token in tokens.items():
            plain.put(customer, token)
    with SQLiteTokenStore(path, encryption_keys=[first], migrate_plaintext=True) as migrating:
        assert migrating.rotate_encryption() == 3
        with sqlite3.connect(path) as db:
            under_first = {c: bytes(d) for c, d in db.execute("SELECT customer, data FROM tokens")}
    with SQLiteTokenStore(path, encryption_keys=[second, first]) as rotated:
        assert rotated.rotate_encryption() == 3
        assert rotated.delete("initech")
        assert rotated.get("acme") == tokens["acme"]
        connection = rotated._connection()
        assert connection.execute("PRAGMA secure_delete").fetchone() == (1,)
        files = b"".join(
            p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("tokens.db")
        )
    for customer, token in tokens.items():
        _absent(token.refresh_token.encode(), files, f"{customer}'s plaintext copy")
        _absent(under_first[customer], files, f"{customer}'s row under the retired key")
    _absent(b"initech", files, "the deleted customer")
