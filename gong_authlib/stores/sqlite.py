"""SQLiteTokenStore: the embedded default. One file, nothing to run, safe across processes.

* WAL journal and ``synchronous=FULL``: a put that returned is on disk, and readers never
  wait for a writer. Every write is one statement, so it is atomic.
* The file (and its folder, when created here) is private to its owner: mode 0600 (0700);
  ``sqlite_files`` refuses links, devices, other users' files and planted side files.
* A ``gong_authlib_meta`` table records the schema version; older files are migrated in one
  transaction when opened, newer ones are refused rather than misread.
* The refresh lock is a lease row taken with one atomic upsert, so it works across processes
  and frees itself when a holder killed mid-refresh stops renewing it.
* OAuth states are consumed with ``DELETE … RETURNING``: one statement, so of two processes
  bringing the same callback, exactly one gets the row.
* Connections are per thread and per process (a forked child opens its own).
* The write-ahead log is bounded: checkpointed every ``_WAL_CHECKPOINT_PAGES`` pages and
  truncated back to ``_JOURNAL_SIZE_LIMIT`` after each checkpoint, so a busy fleet's log
  cannot fill a small filesystem by itself (unbounded, it reached 4 MB under 20 workers).
* Schema version 4 adds the refresh intent to each token row (stores/intents.py) and keeps
  the store identity and the last reset record in ``gong_authlib_meta`` (stores/identity.py).
* Gong's rate budget (stores/ratelimit.py) lives in a ``rate_limits`` table created on first
  use (older readers ignore it, so no schema version is spent on it). A reservation is one
  ``BEGIN IMMEDIATE`` transaction: read, decide, write, so processes take slots one at a time.
  Those transactions use their own connections with ``synchronous=NORMAL``: a reservation lost
  to a power cut costs nothing, and an fsync per call would.
* Customers' webhook public keys live in a ``webhook_keys`` table, also created on first use
  (``CREATE TABLE IF NOT EXISTS``: older releases ignore it, so it costs no schema version).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from gong_authlib.errors import TokenStoreError
from gong_authlib.logs import get_logger
from gong_authlib.stores.codec import TokenCodec
from gong_authlib.stores.contracts import RateStep, SteppedRateBudget, TokenStore, check_customer
from gong_authlib.stores.identity import StoreReset, reset_from_text, reset_to_text
from gong_authlib.stores.intents import RefreshIntent
from gong_authlib.stores.rate_budget import RateState, paused_for
from gong_authlib.stores.sqlite_files import check_opened, prepare_store_file
from gong_authlib.stores.status import CustomerStatus, new_status, status_from_row
from gong_authlib.token import Token

log = get_logger("stores")

SCHEMA_VERSION = 4
_META = "gong_authlib_meta"

# version -> statements that bring a file from the previous version to it
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        "CREATE TABLE tokens (customer TEXT PRIMARY KEY, data BLOB NOT NULL,"
        " updated_at REAL NOT NULL)",
        "CREATE TABLE locks (customer TEXT PRIMARY KEY, owner TEXT NOT NULL,"
        " expires_at REAL NOT NULL)",
    ),
    # OAuth states, kept under their SHA-256 until consumed or expired.
    2: (
        "CREATE TABLE states (key TEXT PRIMARY KEY, data BLOB NOT NULL, expires_at REAL NOT NULL)",
        "CREATE INDEX states_by_expiry ON states (expires_at)",
    ),
    # per-customer status (active / reauthorization required / untrusted origin); NULL is active
    3: (
        "ALTER TABLE tokens ADD COLUMN status TEXT",
        "ALTER TABLE tokens ADD COLUMN status_since REAL",
        "ALTER TABLE tokens ADD COLUMN status_reason TEXT",
    ),
    # the refresh intent (stores/intents.py): NULL when no refresh is in flight
    4: (
        "ALTER TABLE tokens ADD COLUMN intent_owner TEXT",
        "ALTER TABLE tokens ADD COLUMN intent_spent TEXT",
        "ALTER TABLE tokens ADD COLUMN intent_deadline REAL",
    ),
}

# The write-ahead log's bounds: a checkpoint every 64 pages (256 KiB with 4 KiB pages; SQLite's
# default is 1,000) and the file cut back to 1 MiB after one, instead of keeping its peak.
_WAL_CHECKPOINT_PAGES = 64
_JOURNAL_SIZE_LIMIT = 1024 * 1024

T = TypeVar("T")

_RATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS rate_limits (customer TEXT PRIMARY KEY,"
    " next_slot REAL NOT NULL, paused_until REAL NOT NULL, day INTEGER NOT NULL,"
    " day_count INTEGER NOT NULL, seen REAL NOT NULL DEFAULT 0)"
)
# Tables made before RateState.seen existed get the column (0: no clock step is detected
# until the first reservation has written it).
_RATE_SEEN = "ALTER TABLE rate_limits ADD COLUMN seen REAL NOT NULL DEFAULT 0"
_WEBHOOK_KEYS_TABLE = (
    "CREATE TABLE IF NOT EXISTS webhook_keys (customer TEXT NOT NULL, fingerprint TEXT NOT NULL,"
    " data TEXT NOT NULL, added_at REAL NOT NULL, PRIMARY KEY (customer, fingerprint))"
)


# The newest issue time stored per customer (TokenStore.newest_issue), apart from its row.
_ISSUE_MARKS = (
    "CREATE TABLE IF NOT EXISTS issue_marks (customer TEXT PRIMARY KEY, issued_at REAL NOT NULL)"
)


class SQLiteTokenStore(SteppedRateBudget, TokenStore):
    """Tokens in a local SQLite file, shared by every process on the machine."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        encryption_keys: Sequence[str | bytes] = (),
        busy_timeout: float = 10.0,
        migrate_plaintext: bool = False,
    ) -> None:
        super().__init__()
        self.path = Path(path).expanduser()
        self._codec = TokenCodec(encryption_keys, migrate_plaintext=migrate_plaintext)
        self._busy_timeout = busy_timeout
        self._local = threading.local()
        self._rate_local = threading.local()
        # Every connection opened, with the process and thread it belongs to: closed with the
        # store, or as soon as its thread has ended (see _keep).
        self._connections: list[tuple[int, threading.Thread, sqlite3.Connection]] = []
        self._connections_guard = threading.Lock()
        self._webhook_table_ready = False
        self._prepare_file()
        self._guarded("open", self._migrate)

    def __repr__(self) -> str:
        return f"SQLiteTokenStore({str(self.path)!r})"

    # -- file and connections ------------------------------------------------------------

    def _prepare_file(self) -> None:
        try:
            self._identity = prepare_store_file(self.path)
        except OSError as exc:
            raise TokenStoreError(
                f"cannot open the token store {self.path}: {exc.strerror or exc}"
            ) from None
        except ValueError:  # a NUL byte: no such file can exist
            raise TokenStoreError("the SQLite path contains a NUL byte") from None

    def _connection(self) -> sqlite3.Connection:
        return self._opened(self._local, synchronous="FULL")

    def _rate_connection(self) -> sqlite3.Connection:
        # Rate reservations are counters, not tokens: losing the last one to a power cut
        # costs a slot at most, so they skip FULL's fsync per commit.
        return self._opened(self._rate_local, synchronous="NORMAL", prepare=_create_rate_table)

    def _opened(
        self,
        local: threading.local,
        *,
        synchronous: str,
        prepare: Callable[[sqlite3.Connection], object] | None = None,
    ) -> sqlite3.Connection:
        """This thread's connection of kind ``local``, opened (per process) and checked to be
        the file the store vetted before it is used."""
        if getattr(local, "pid", None) != os.getpid():
            connection = sqlite3.connect(
                self.path,
                timeout=self._busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(f"PRAGMA synchronous={synchronous}")
            # Zero a deleted or replaced token's bytes in the file as they are freed; set
            # explicitly, since builds differ in the default (SQLITE_SECURE_DELETE).
            connection.execute("PRAGMA secure_delete=ON")
            connection.execute(f"PRAGMA wal_autocheckpoint={_WAL_CHECKPOINT_PAGES}")
            connection.execute(f"PRAGMA journal_size_limit={_JOURNAL_SIZE_LIMIT}")
            try:
                check_opened(self.path, self._identity)
                if prepare is not None:
                    prepare(connection)
            except (OSError, TokenStoreError):
                connection.close()
                raise
            local.connection, local.pid = connection, os.getpid()
            self._keep(connection)
        current: sqlite3.Connection = local.connection
        return current

    def _after_fork_in_child(self) -> None:
        super()._after_fork_in_child()
        # The child opens its own connections under this guard: a parent thread inside it at
        # fork() time would leave it held forever here.
        self._connections_guard = threading.Lock()

    def _keep(self, connection: sqlite3.Connection) -> None:
        """Track ``connection``, and close those of this process's threads that have ended.

        Connections are per thread, and short-lived threads open them too (the refresh
        lease's renewer, one per slow refresh; a server's thread per request): kept until
        ``close()``, each would hold its file descriptors for the life of the process. A
        parent's connections inherited by a forked child are left alone: closing one there
        could checkpoint or remove the WAL under the parent.
        """
        pid = os.getpid()
        with self._connections_guard:
            kept = []
            for entry in self._connections:
                owner_pid, thread, old = entry
                if owner_pid == pid and not thread.is_alive():
                    old.close()
                else:
                    kept.append(entry)
            kept.append((pid, threading.current_thread(), connection))
            self._connections = kept

    def close(self) -> None:
        with self._connections_guard:
            for _, _, connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()
        self._rate_local = threading.local()

    def _guarded(self, action: str, work: Callable[[], T]) -> T:
        """Run ``work``, turning SQLite's failures into TokenStoreError with context."""
        try:
            return work()
        except sqlite3.DatabaseError as exc:
            message = str(exc)
            if "not a database" in message or "malformed" in message:
                message = "the file is not a gong-authlib SQLite store, or is damaged"
            raise TokenStoreError(f"token store {self.path}: {action} failed: {message}") from None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def _migrate(self) -> None:
        with self._transaction() as db:
            # _META is a constant of this module, never input: the f-strings are safe.
            db.execute(f"CREATE TABLE IF NOT EXISTS {_META} (key TEXT PRIMARY KEY, value TEXT)")
            row = db.execute(
                f"SELECT value FROM {_META} WHERE key = 'schema_version'"  # noqa: S608
            ).fetchone()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise TokenStoreError(
                    f"token store {self.path} has schema version {version}, written by a newer "
                    f"gong-authlib; this one reads up to {SCHEMA_VERSION}"
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[target]:
                    db.execute(statement)
                log.info("token store %s migrated to schema version %d", self.path, target)
            db.execute(
                f"INSERT OR REPLACE INTO {_META} (key, value) VALUES ('schema_version', ?)",  # noqa: S608
                (str(SCHEMA_VERSION),),
            )
            # Beside the versioned tables, as the rate table is: a file an older gong-authlib
            # shares keeps working (its puts leave the mark as it was, which flags nothing).
            db.execute(_ISSUE_MARKS)

    # -- TokenStore ----------------------------------------------------------------------

    def _read_one(self, query: str, customer: str) -> Any:
        """The one row ``query`` finds for ``customer`` (its only parameter), or None."""
        check_customer(customer)
        return self._guarded(
            "read", lambda: self._connection().execute(query, (customer,)).fetchone()
        )

    def get(self, customer: str) -> Token | None:
        row = self._read_one("SELECT data FROM tokens WHERE customer = ?", customer)
        return None if row is None else self._codec.decode(row[0], customer=customer)

    def put(self, customer: str, token: Token) -> None:
        check_customer(customer)
        data = self._codec.encode(token, customer=customer)

        def write() -> None:
            with self._transaction() as db:
                db.execute(
                    "INSERT INTO tokens (customer, data, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (customer) DO UPDATE SET data = excluded.data, "
                    "updated_at = excluded.updated_at, status = NULL, status_since = NULL, "
                    "status_reason = NULL, intent_owner = NULL, intent_spent = NULL, "
                    "intent_deadline = NULL",
                    (customer, data, time.time()),
                )
                _mark(db, customer, token.issued_at)

        self._guarded("write", write)

    def newest_issue(self, customer: str) -> float | None:
        row = self._read_one("SELECT issued_at FROM issue_marks WHERE customer = ?", customer)
        return None if row is None else float(row[0])

    def get_with_status(self, customer: str) -> tuple[Token | None, CustomerStatus]:
        check_customer(customer)
        row = self._guarded(
            "read",
            lambda: (
                self._connection()
                .execute(
                    "SELECT data, status, status_since, status_reason FROM tokens "
                    "WHERE customer = ?",
                    (customer,),
                )
                .fetchone()
            ),
        )
        if row is None:
            return None, status_from_row(None, None, None)
        return self._codec.decode(row[0], customer=customer), status_from_row(*row[1:])

    def status(self, customer: str) -> CustomerStatus:
        check_customer(customer)
        row = self._guarded(
            "read",
            lambda: (
                self._connection()
                .execute(
                    "SELECT status, status_since, status_reason FROM tokens WHERE customer = ?",
                    (customer,),
                )
                .fetchone()
            ),
        )
        return status_from_row(*(row or (None, None, None)))

    def set_status(
        self,
        customer: str,
        state: str,
        *,
        reason: str | None = None,
        since: float | None = None,
    ) -> None:
        check_customer(customer)
        status = new_status(state, reason, since)
        self._guarded(
            "write",
            lambda: self._connection().execute(
                "UPDATE tokens SET status = ?, status_since = ?, status_reason = ? "
                "WHERE customer = ?",
                (None if status.active else status.state, status.since, status.reason, customer),
            ),
        )

    def statuses(self) -> dict[str, CustomerStatus]:
        rows = self._guarded(
            "list",
            lambda: (
                self._connection()
                .execute(
                    "SELECT customer, status, status_since, status_reason FROM tokens "
                    "ORDER BY customer"
                )
                .fetchall()
            ),
        )
        return {row[0]: status_from_row(*row[1:]) for row in rows}

    def delete(self, customer: str) -> bool:
        check_customer(customer)

        def remove() -> sqlite3.Cursor:
            with self._transaction() as db:
                db.execute("DELETE FROM issue_marks WHERE customer = ?", (customer,))
                return db.execute("DELETE FROM tokens WHERE customer = ?", (customer,))

        cursor = self._guarded("delete", remove)
        if cursor.rowcount > 0:
            self._erase_after_delete()
        return cursor.rowcount > 0

    def erase_old_copies(self) -> None:
        """Copy the write-ahead log into the file and empty it, so no earlier page image (a
        replaced or deleted token) stays in ``-wal``. Deleted cells in the file itself are
        zeroed as they are freed (``secure_delete``). Best effort: a reader holding an old
        snapshot keeps the log until it finishes, and the next rotation or delete retries."""
        self._guarded(
            "checkpoint", lambda: self._connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        )

    def customers(self) -> list[str]:
        rows = self._guarded(
            "list",
            lambda: (
                self._connection()
                .execute("SELECT customer FROM tokens ORDER BY customer")
                .fetchall()
            ),
        )
        return [row[0] for row in rows]

    @property
    def location(self) -> str:
        return f"sqlite {self.path}"

    def _try_lease(self, customer: str, owner: str, lease: float) -> bool:
        now = time.time()
        # One atomic upsert: take the row if absent, or if its lease has run out.
        cursor = self._guarded(
            "lock",
            lambda: self._connection().execute(
                "INSERT INTO locks (customer, owner, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (customer) DO UPDATE SET owner = excluded.owner, "
                "expires_at = excluded.expires_at WHERE locks.expires_at <= ?",
                (customer, owner, now + lease, now),
            ),
        )
        return cursor.rowcount == 1

    def rate_paused_for(self, customer: str, *, now: float | None = None) -> float:
        # A plain read: WAL readers never wait for the write lock. A worker looking for a pause
        # just before its slot must not queue behind every reservation (and SQLite's busy
        # back-off of up to 100 ms) for it: a call sent late squeezes Gong's window.
        check_customer(customer)

        def read() -> float:
            row = (
                self._rate_connection()
                .execute(
                    "SELECT next_slot, paused_until, day, day_count, seen FROM rate_limits"
                    " WHERE customer = ?",
                    (customer,),
                )
                .fetchone()
            )
            state = RateState(*row) if row else RateState()
            return paused_for(state, time.time() if now is None else now)

        return self._guarded("rate limit", read)

    def _rate_update(self, customer: str, now: float | None, step: RateStep[T]) -> T:
        def transaction() -> T:
            db = self._rate_connection()
            db.execute("BEGIN IMMEDIATE")  # the write lock first: one reservation at a time
            try:
                row = db.execute(
                    "SELECT next_slot, paused_until, day, day_count, seen FROM rate_limits"
                    " WHERE customer = ?",
                    (customer,),
                ).fetchone()
                state = RateState(*row) if row else RateState()
                # The time is read under the lock, so slots are handed out in time order.
                new_state, answer = step(state, time.time() if now is None else now)
                if new_state != state:
                    db.execute(
                        "INSERT OR REPLACE INTO rate_limits (customer, next_slot, paused_until,"
                        " day, day_count, seen) VALUES (?, ?, ?, ?, ?, ?)",
                        (
                            customer,
                            new_state.next_slot,
                            new_state.paused_until,
                            new_state.day,
                            new_state.day_count,
                            new_state.seen,
                        ),
                    )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return answer

        return self._guarded("rate limit", transaction)

    def _renew_lease(self, customer: str, owner: str, lease: float) -> bool:
        cursor = self._guarded(
            "renew lock",
            lambda: self._connection().execute(
                "UPDATE locks SET expires_at = ? WHERE customer = ? AND owner = ?",
                (time.time() + lease, customer, owner),
            ),
        )
        return cursor.rowcount == 1

    def _release_lease(self, customer: str, owner: str) -> None:
        self._guarded(
            "unlock",
            lambda: self._connection().execute(
                "DELETE FROM locks WHERE customer = ? AND owner = ?", (customer, owner)
            ),
        )

    def _put_state(self, key: str, data: bytes, expires_at: float) -> None:
        self._guarded(
            "state write",
            lambda: self._connection().execute(
                "INSERT INTO states (key, data, expires_at) VALUES (?, ?, ?)",
                (key, data, expires_at),
            ),
        )

    def _take_state(self, key: str) -> bytes | None:
        # fetchall, not fetchone: the DELETE commits only once its statement has run to the
        # end, and a half-read RETURNING would hold the write lock until the cursor is freed.
        rows = self._guarded(
            "state read",
            lambda: (
                self._connection()
                .execute("DELETE FROM states WHERE key = ? RETURNING data", (key,))
                .fetchall()
            ),
        )
        return bytes(rows[0][0]) if rows else None

    def _purge_states(self, now: float) -> int:
        cursor = self._guarded(
            "state purge",
            lambda: self._connection().execute("DELETE FROM states WHERE expires_at < ?", (now,)),
        )
        return int(cursor.rowcount)

    # -- refresh intents and the store identity (stores/intents.py, stores/identity.py) --

    def open_intent(self, customer: str, intent: RefreshIntent) -> bool:
        check_customer(customer)
        cursor = self._guarded(
            "intent write",
            lambda: self._connection().execute(
                "UPDATE tokens SET intent_owner = ?, intent_spent = ?, intent_deadline = ? "
                "WHERE customer = ?",
                (intent.owner, intent.spent, intent.deadline, customer),
            ),
        )
        return cursor.rowcount == 1

    def intent(self, customer: str) -> RefreshIntent | None:
        check_customer(customer)
        row = self._guarded(
            "intent read",
            lambda: (
                self._connection()
                .execute(
                    "SELECT intent_owner, intent_spent, intent_deadline FROM tokens "
                    "WHERE customer = ? AND intent_owner IS NOT NULL",
                    (customer,),
                )
                .fetchone()
            ),
        )
        return None if row is None else RefreshIntent(row[0], row[1], float(row[2]))

    def close_intent(self, customer: str, owner: str) -> None:
        check_customer(customer)
        self._guarded(
            "intent write",
            lambda: self._connection().execute(
                "UPDATE tokens SET intent_owner = NULL, intent_spent = NULL, "
                "intent_deadline = NULL WHERE customer = ? AND intent_owner = ?",
                (customer, owner),
            ),
        )

    def settle(self, customer: str, token: Token, *, spent: str) -> bool:
        check_customer(customer)
        data = self._codec.encode(token, customer=customer)

        def write() -> bool:
            with self._transaction() as db:
                settled = db.execute(
                    "UPDATE tokens SET data = ?, updated_at = ?, status = NULL, "
                    "status_since = NULL, status_reason = NULL, intent_owner = NULL, "
                    "intent_spent = NULL, intent_deadline = NULL "
                    "WHERE customer = ? AND intent_spent = ?",
                    (data, time.time(), customer, spent),
                ).rowcount
                if settled == 1:
                    _mark(db, customer, token.issued_at)
                return bool(settled == 1)

        return self._guarded("write", write)

    def store_identity(self) -> str | None:
        return self._meta("store_identity")

    def claim_identity(self, candidate: str) -> str:
        self._guarded(
            "identity write",
            lambda: self._connection().execute(
                f"INSERT OR IGNORE INTO {_META} (key, value) VALUES ('store_identity', ?)",  # noqa: S608
                (candidate,),
            ),
        )
        return self.store_identity() or candidate

    def restore(self, customer: str, token: Token) -> bool:
        check_customer(customer)
        data = self._codec.encode(token, customer=customer)

        def write() -> bool:
            with self._transaction() as db:
                written = db.execute(
                    "INSERT INTO tokens (customer, data, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (customer) DO NOTHING",
                    (customer, data, time.time()),
                ).rowcount
                if written == 1:
                    _mark(db, customer, token.issued_at)
                return bool(written == 1)

        return self._guarded("write", write)

    def record_reset(self, reset: StoreReset) -> None:
        self._guarded(
            "reset write",
            lambda: self._connection().execute(
                f"INSERT OR REPLACE INTO {_META} (key, value) VALUES ('store_reset', ?)",  # noqa: S608
                (reset_to_text(reset),),
            ),
        )

    def reset_record(self) -> StoreReset | None:
        return reset_from_text(self._meta("store_reset"))

    def clear_reset(self) -> None:
        self._guarded(
            "reset write",
            lambda: self._connection().execute(
                f"DELETE FROM {_META} WHERE key = 'store_reset'"  # noqa: S608
            ),
        )

    def _meta(self, key: str) -> str | None:
        row = self._guarded(
            "read",
            lambda: (
                self._connection()
                .execute(f"SELECT value FROM {_META} WHERE key = ?", (key,))  # noqa: S608
                .fetchone()
            ),
        )
        return None if row is None else str(row[0])

    # -- webhook keys (WebhookKeyRecords) ------------------------------------------------

    def _webhook_keys_db(self) -> sqlite3.Connection:
        connection = self._connection()
        if not self._webhook_table_ready:
            connection.execute(_WEBHOOK_KEYS_TABLE)
            self._webhook_table_ready = True
        return connection

    def _put_webhook_key(
        self, customer: str, fingerprint: str, stored: str, added_at: float
    ) -> bool:
        cursor = self._guarded(
            "webhook key write",
            lambda: self._webhook_keys_db().execute(
                "INSERT INTO webhook_keys (customer, fingerprint, data, added_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (customer, fingerprint) DO NOTHING",
                (customer, fingerprint, stored, added_at),
            ),
        )
        return bool(cursor.rowcount == 1)

    def _reseal_webhook_key(self, customer: str, fingerprint: str, stored: str) -> bool:
        cursor = self._guarded(
            "webhook key write",
            lambda: self._webhook_keys_db().execute(
                "UPDATE webhook_keys SET data = ? WHERE customer = ? AND fingerprint = ?",
                (stored, customer, fingerprint),
            ),
        )
        return bool(cursor.rowcount == 1)

    def _webhook_key_rows(self, customer: str) -> list[tuple[str, str, float]]:
        from gong_authlib.stores.webhook_keys import stored_added_at

        rows = self._guarded(
            "webhook key read",
            lambda: (
                self._webhook_keys_db()
                .execute(
                    "SELECT fingerprint, data, added_at FROM webhook_keys WHERE customer = ?",
                    (customer,),
                )
                .fetchall()
            ),
        )
        return [(str(f), str(d), stored_added_at(a)) for f, d, a in rows]

    def _delete_webhook_key(self, customer: str, fingerprint: str) -> bool:
        cursor = self._guarded(
            "webhook key delete",
            lambda: self._webhook_keys_db().execute(
                "DELETE FROM webhook_keys WHERE customer = ? AND fingerprint = ?",
                (customer, fingerprint),
            ),
        )
        return bool(cursor.rowcount == 1)

    def _webhook_key_owners(self) -> list[str]:
        rows = self._guarded(
            "webhook key list",
            lambda: (
                self._webhook_keys_db()
                .execute("SELECT DISTINCT customer FROM webhook_keys ORDER BY customer")
                .fetchall()
            ),
        )
        return [str(row[0]) for row in rows]


def _mark(db: sqlite3.Connection, customer: str, issued_at: float) -> None:
    """Raise the customer's newest issue time (newest_issue), in the caller's transaction."""
    db.execute(
        "INSERT INTO issue_marks (customer, issued_at) VALUES (?, ?) "
        "ON CONFLICT (customer) DO UPDATE SET issued_at = max(issued_at, excluded.issued_at)",
        (customer, issued_at),
    )


def _create_rate_table(connection: sqlite3.Connection) -> None:
    """The rate table, with the ``seen`` column even when an older version made it."""
    connection.execute("BEGIN IMMEDIATE")  # one process at a time, so one ALTER TABLE
    try:
        connection.execute(_RATE_TABLE)
        columns = {row[1] for row in connection.execute("PRAGMA table_info(rate_limits)")}
        if "seen" not in columns:
            connection.execute(_RATE_SEEN)
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
