"""SQLiteTokenStore specifics: file modes, schema versions, damage, encryption at rest."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from gong_authlib import TokenStoreError, open_store
from gong_authlib.stores import MemoryTokenStore, SQLiteTokenStore
from gong_authlib.stores.sqlite import MIGRATIONS, SCHEMA_VERSION
from tests.test_contract_tokens import make_token


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "new-folder" / "tokens.db"
    with SQLiteTokenStore(path) as store:
        store.put("acme", make_token())
        assert _mode(path.parent) == 0o700
        files = sorted(p.name for p in path.parent.iterdir())
        assert files == ["tokens.db", "tokens.db-shm", "tokens.db-wal"]
        assert {_mode(p) for p in path.parent.iterdir()} == {0o600}


def test_a_world_readable_file_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "tokens.db"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)
    SQLiteTokenStore(path).close()
    assert _mode(path) == 0o600


def test_tokens_survive_reopening(tmp_path: Path) -> None:
    with SQLiteTokenStore(tmp_path / "t.db") as store:
        store.put("acme", make_token(7))
    with SQLiteTokenStore(tmp_path / "t.db") as store:
        assert store.get("acme") == make_token(7)


def test_schema_version_is_recorded_and_newer_files_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    SQLiteTokenStore(path).close()
    with sqlite3.connect(path) as db:
        version = db.execute(
            "SELECT value FROM gong_authlib_meta WHERE key = 'schema_version'"
        ).fetchone()
        assert version == (str(SCHEMA_VERSION),)
        db.execute("UPDATE gong_authlib_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(TokenStoreError, match="schema version 99, written by a newer"):
        SQLiteTokenStore(path)


def test_a_version_1_file_is_migrated_and_keeps_its_tokens(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    with sqlite3.connect(path) as db:  # a file as the first release wrote it
        db.execute("CREATE TABLE gong_authlib_meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("INSERT INTO gong_authlib_meta VALUES ('schema_version', '1')")
        for statement in MIGRATIONS[1]:
            db.execute(statement)
        db.execute("INSERT INTO tokens VALUES ('acme', ?, 0)", (make_token(3).to_json().encode(),))
    with SQLiteTokenStore(path) as store:
        assert store.get("acme") == make_token(3)
        state = store.issue(customer="acme", redirect_uri="http://127.0.0.1:1/cb")
        assert store.consume(state, redirect_uri="http://127.0.0.1:1/cb").customer == "acme"


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    path.write_bytes(b"this is a text file, not SQLite" * 100)
    with pytest.raises(TokenStoreError, match="not a gong-authlib SQLite store"):
        SQLiteTokenStore(path)
    assert path.read_bytes().startswith(b"this is a text file"), "nothing was overwritten"


def test_a_damaged_row_names_the_customer_and_no_secret(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    with SQLiteTokenStore(path) as store:
        store.put("acme", make_token())
        with sqlite3.connect(path) as db:
            db.execute("UPDATE tokens SET data = ?", (b'{"version": 1, "access_token": "x"',))
        with pytest.raises(TokenStoreError, match="customer 'acme' is not valid JSON"):
            store.get("acme")


def test_unwritable_location_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(TokenStoreError, match="cannot open the token store"):
        SQLiteTokenStore(blocker / "tokens.db")


def test_encrypted_at_rest(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    with SQLiteTokenStore(path, encryption_keys=[Fernet.generate_key()]) as store:
        store.put("acme", make_token())
    with sqlite3.connect(path) as db:
        [(raw,)] = db.execute("SELECT data FROM tokens").fetchall()
    assert raw.startswith(b"gAAAAA")
    assert b"access-1" not in raw
    assert b"refresh-1" not in raw


def test_wrong_key_fails_clearly_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    with SQLiteTokenStore(path, encryption_keys=[Fernet.generate_key()]) as store:
        store.put("acme", make_token())
    before = sqlite3.connect(path).execute("SELECT data FROM tokens").fetchall()
    with SQLiteTokenStore(path, encryption_keys=[Fernet.generate_key()]) as wrong:
        with pytest.raises(TokenStoreError, match="wrong key"):
            wrong.get("acme")
        with pytest.raises(TokenStoreError, match="wrong key"):
            wrong.rotate_encryption()
    assert sqlite3.connect(path).execute("SELECT data FROM tokens").fetchall() == before
    with (
        SQLiteTokenStore(path) as keyless,
        pytest.raises(TokenStoreError, match="no encryption key is configured"),
    ):
        keyless.get("acme")


def test_key_rotation(tmp_path: Path) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    path = tmp_path / "t.db"
    with SQLiteTokenStore(path, encryption_keys=[old]) as store:
        store.put("acme", make_token())
    with SQLiteTokenStore(path, encryption_keys=[new, old]) as both:
        assert both.get("acme") == make_token()  # old ciphertext still reads
        assert both.rotate_encryption() == 1
    with SQLiteTokenStore(path, encryption_keys=[new]) as only_new:
        assert only_new.get("acme") == make_token()
    with (
        SQLiteTokenStore(path, encryption_keys=[old]) as only_old,
        pytest.raises(TokenStoreError, match="wrong key"),
    ):
        only_old.get("acme")


def test_plaintext_store_is_encrypted_by_rotation(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    with SQLiteTokenStore(path) as plain:
        plain.put("acme", make_token())
    key = Fernet.generate_key()
    with SQLiteTokenStore(path, encryption_keys=[key], migrate_plaintext=True) as store:
        assert store.get("acme") == make_token()
        store.rotate_encryption()
    raw = sqlite3.connect(path).execute("SELECT data FROM tokens").fetchone()[0]
    assert raw.startswith(b"gAAAAA")


def test_a_malformed_key_is_explained() -> None:
    with pytest.raises(TokenStoreError, match="not a Fernet key"):
        MemoryTokenStore(encryption_keys=["not-a-key"])


def test_open_store_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = open_store("sqlite:///data/tokens.db")
    assert isinstance(relative, SQLiteTokenStore)
    assert relative.path == Path("data/tokens.db")
    assert (tmp_path / "data" / "tokens.db").exists()
    absolute = open_store(f"sqlite:///{tmp_path}/abs.db")
    assert isinstance(absolute, SQLiteTokenStore)
    assert absolute.path == tmp_path / "abs.db"
    assert isinstance(open_store("memory://"), MemoryTokenStore)
    for bad in ("sqlite://", "sqlite:///", "ftp://x", "tokens.db"):
        with pytest.raises(TokenStoreError):
            open_store(bad)
