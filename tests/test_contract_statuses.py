"""Per-customer status, rows bound to their customer, lease renewal and retried writes: every
store, the same behaviour, on real SQLite, Redis and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from gong_authlib import TokenStoreError
from gong_authlib.stores import (
    ACTIVE,
    REAUTHORIZATION_REQUIRED,
    UNTRUSTED_ORIGIN,
    MemoryTokenStore,
    PostgresTokenStore,
    RedisTokenStore,
    SQLiteTokenStore,
    TokenStore,
    put_with_retries,
)
from tests.stores import STORE_KINDS, make_store
from tests.test_contract_tokens import make_token


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TokenStore]:
    with make_store(request.param, request, tmp_path) as opened:
        yield opened


def test_status_is_set_listed_and_cleared_by_put(store: TokenStore) -> None:
    store.put("acme", make_token(1))
    store.put("globex", make_token(2))
    assert store.status("acme").state == ACTIVE
    assert store.status("nobody").state == ACTIVE
    store.set_status(
        "acme", REAUTHORIZATION_REQUIRED, reason="Token has been expired or revoked.", since=1e9
    )
    store.set_status("globex", UNTRUSTED_ORIGIN, reason="https://evil.example is not trusted")
    status = store.status("acme")
    assert (status.state, status.reason, status.since) == (
        REAUTHORIZATION_REQUIRED,
        "Token has been expired or revoked.",
        1e9,
    )
    assert not status.active
    assert store.customers_with_status(REAUTHORIZATION_REQUIRED) == ["acme"]
    assert store.customers_with_status(UNTRUSTED_ORIGIN) == ["globex"]
    assert store.customers_with_status(ACTIVE) == []
    assert {name: s.state for name, s in store.statuses().items()} == {
        "acme": REAUTHORIZATION_REQUIRED,
        "globex": UNTRUSTED_ORIGIN,
    }
    assert store.customers() == ["acme", "globex"]  # unchanged by statuses
    token, seen = store.get_with_status("acme")
    assert token == make_token(1)
    assert seen.state == REAUTHORIZATION_REQUIRED
    store.put("acme", make_token(3))  # a new authorization clears it
    assert store.status("acme").state == ACTIVE
    assert store.customers_with_status(ACTIVE) == ["acme"]
    store.delete("globex")
    assert store.status("globex").state == ACTIVE
    assert store.statuses().keys() == {"acme"}


def test_unknown_status_is_refused(store: TokenStore) -> None:
    store.put("acme", make_token())
    with pytest.raises(ValueError, match="status"):
        store.set_status("acme", "sleeping")


def test_lease_can_be_renewed_while_held(store: TokenStore) -> None:
    with store.lock("acme", lease=0.3) as lease:
        assert lease.renew(30)
        # Well past the first 0.3 s lease, it is still ours.
        with pytest.raises(TokenStoreError), store.lock("acme", lease=30, timeout=0.6):
            pass
        assert lease.remaining() > 20
    with store.lock("acme", lease=30, timeout=1):
        pass  # released on exit


def test_a_lost_lease_is_not_renewed(store: TokenStore) -> None:
    dead = store.lock("acme", lease=0.2)
    lease = dead.__enter__()
    with store.lock("acme", lease=30, timeout=5):  # waits the 0.2 s lease out
        assert not lease.renew(30)
    dead.__exit__(None, None, None)


def _raw_copy(store: TokenStore, source: str, target: str) -> None:
    """Copy ``source``'s stored row under ``target``'s name, as someone with the database
    (not the key) could."""
    if isinstance(store, MemoryTokenStore):
        store._data[target] = store._data[source]
    elif isinstance(store, SQLiteTokenStore):
        db = store._connection()
        data = db.execute("SELECT data FROM tokens WHERE customer = ?", (source,)).fetchone()[0]
        db.execute("UPDATE tokens SET data = ? WHERE customer = ?", (data, target))
    elif isinstance(store, RedisTokenStore):
        data = store._redis.get(store._key("token", source))
        store._redis.set(store._key("token", target), data)  # type: ignore[arg-type]
    else:
        assert isinstance(store, PostgresTokenStore)
        _, rows = store._execute("SELECT data FROM {tokens} WHERE customer = %s", (source,))
        store._execute("UPDATE {tokens} SET data = %s WHERE customer = %s", (rows[0][0], target))


def test_an_encrypted_row_copied_to_another_customer_is_refused(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    for kind in [k for k in STORE_KINDS if k.endswith("-encrypted")]:
        with make_store(kind, request, tmp_path / kind) as store:
            store.put("acme", make_token(1))
            store.put("globex", make_token(2))
            _raw_copy(store, "acme", "globex")
            with pytest.raises(TokenStoreError, match="another customer") as caught:
                store.get("globex")
            assert "globex" in str(caught.value)
            assert "refresh-1" not in str(caught.value)
            assert store.get("acme") == make_token(1)


def test_a_plaintext_row_in_an_encrypted_store_is_refused_unless_migrating(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.db"
    with SQLiteTokenStore(path) as plain:
        plain.put("acme", make_token())
    key = Fernet.generate_key()
    with SQLiteTokenStore(path, encryption_keys=[key]) as store:
        with pytest.raises(TokenStoreError, match="not encrypted") as caught:
            store.get("acme")
        assert "migrate_plaintext" in str(caught.value)
    with SQLiteTokenStore(path, encryption_keys=[key], migrate_plaintext=True) as store:
        assert store.get("acme") == make_token()
        assert store.rotate_encryption() == 1
    with SQLiteTokenStore(path, encryption_keys=[key]) as store:
        assert store.get("acme") == make_token()
    raw = sqlite3.connect(path).execute("SELECT data FROM tokens").fetchone()[0]
    assert raw.startswith(b"gAAAAA")


V1_TABLES = (
    "CREATE TABLE gong_authlib_meta (key TEXT PRIMARY KEY, value TEXT)",
    "INSERT INTO gong_authlib_meta VALUES ('schema_version', '1')",
    "CREATE TABLE tokens (customer TEXT PRIMARY KEY, data BLOB NOT NULL, updated_at REAL NOT NULL)",
    "CREATE TABLE locks (customer TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at REAL NOT NULL)",
)


def test_a_version_1_sqlite_file_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        for statement in V1_TABLES:
            db.execute(statement)
        db.execute("INSERT INTO tokens VALUES ('acme', ?, 0)", (make_token(4).to_json().encode(),))
    with SQLiteTokenStore(path) as store:
        assert store.get("acme") == make_token(4)
        assert store.status("acme").state == ACTIVE
        store.set_status("acme", REAUTHORIZATION_REQUIRED, reason="revoked")
        assert store.customers_with_status(REAUTHORIZATION_REQUIRED) == ["acme"]


def test_a_version_1_postgres_schema_is_migrated(
    request: pytest.FixtureRequest,
) -> None:
    import psycopg

    server = request.getfixturevalue("postgres_server")
    prefix = "t_v1_" + Fernet.generate_key().hex()[:8]
    # The table names are made here of hex digits: no injection to fear.
    with psycopg.connect(server.dsn(), autocommit=True) as db:
        db.execute(f"CREATE TABLE {prefix}_meta (key text PRIMARY KEY, value text)")
        db.execute(f"INSERT INTO {prefix}_meta VALUES ('schema_version', '1')")  # noqa: S608
        db.execute(
            f"CREATE TABLE {prefix}_tokens (customer text PRIMARY KEY, data bytea NOT NULL,"
            " updated_at timestamptz NOT NULL DEFAULT clock_timestamp())"
        )
        db.execute(
            f"CREATE TABLE {prefix}_locks (customer text PRIMARY KEY, owner text NOT NULL,"
            " expires_at timestamptz NOT NULL)"
        )
        db.execute(
            f"INSERT INTO {prefix}_tokens (customer, data) VALUES ('acme', %s)",  # noqa: S608
            (make_token(5).to_json().encode(),),
        )
    with PostgresTokenStore(server.dsn(), table_prefix=prefix) as store:
        assert store.get("acme") == make_token(5)
        store.set_status("acme", UNTRUSTED_ORIGIN, reason="x")
        assert store.customers_with_status(UNTRUSTED_ORIGIN) == ["acme"]


def test_put_with_retries_outlasts_an_sqlite_exclusive_lock(tmp_path: Path) -> None:
    """Another connection holds an exclusive lock longer than SQLite's busy timeout: a plain
    put fails, the retried one gets through once the lock is gone."""
    path = tmp_path / "t.db"
    with SQLiteTokenStore(path, busy_timeout=0.1) as store:
        store.put("acme", make_token(1))
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(TokenStoreError, match="write failed"):
            store.put("acme", make_token(2))
        released = threading.Event()
        attempts: list[float] = []

        def release_after_two_attempts(error: TokenStoreError, delay: float) -> None:
            attempts.append(delay)
            if len(attempts) == 2:
                holder.execute("COMMIT")
                released.set()

        put_with_retries(
            store, "acme", make_token(2), deadline=30.0, on_retry=release_after_two_attempts
        )
        assert released.is_set()
        assert store.get("acme") == make_token(2)
        holder.close()


def test_put_with_retries_gives_up_at_the_deadline(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    with SQLiteTokenStore(path, busy_timeout=0.05) as store:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(TokenStoreError, match="acme"):
            put_with_retries(store, "acme", make_token(2), deadline=0.3)
        holder.execute("ROLLBACK")
        holder.close()


def test_a_lease_renewed_in_the_background_outlives_its_duration(store: TokenStore) -> None:
    with (
        store.lock("acme", lease=0.3) as lease,
        lease.renewed(),
        pytest.raises(TokenStoreError),
        store.lock("acme", lease=30, timeout=0.9),  # three times the lease: still held
    ):
        pass
    with store.lock("acme", lease=30, timeout=1):
        pass


def test_a_forked_child_opens_its_own_postgres_connections(
    request: pytest.FixtureRequest,
) -> None:
    """The parent's pool shares its sockets with a forked child: the child must open its own
    (two processes talking on one PostgreSQL session corrupt it)."""
    import os

    server = request.getfixturevalue("postgres_server")
    prefix = "t_fork_" + Fernet.generate_key().hex()[:8]
    store = PostgresTokenStore(server.dsn(), table_prefix=prefix, min_size=1, max_size=1)
    _, rows = store._execute("SELECT pg_backend_pid()")
    parent_backend = rows[0][0]
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            _, child_rows = store._execute("SELECT pg_backend_pid()")
            os.write(writer, str(child_rows[0][0]).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(writer)
    _, raw = os.waitpid(pid, 0)
    child_backend = int(os.read(reader, 64) or b"0")
    os.close(reader)
    assert os.waitstatus_to_exitcode(raw) == 0
    assert child_backend not in (0, parent_backend)
    _, rows = store._execute("SELECT pg_backend_pid()")
    assert rows[0][0] == parent_backend  # the parent's session is intact
    store.close()
