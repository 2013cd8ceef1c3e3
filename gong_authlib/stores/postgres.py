"""PostgresTokenStore: tokens in PostgreSQL on psycopg 3 (``gong-authlib[postgres]``).

* Tables ``{prefix}_meta`` (schema version), ``{prefix}_tokens`` and ``{prefix}_locks``,
  created and migrated on first use inside one transaction that holds an advisory lock, so
  two processes starting together do not race the migration.
* Tables ``{prefix}_states`` (schema version 2) hold OAuth states, consumed with one
  ``DELETE … RETURNING`` so a callback is accepted once across every app server.
* The refresh lock is a lease row taken with one atomic upsert and timed by the *server's*
  clock (``clock_timestamp()``), so app servers with skewed clocks agree on who holds it.
* Connections come from a :class:`psycopg_pool.ConnectionPool` (``min_size`` 1, ``max_size``
  10 by default: a refresh holds one only for single statements, so a handful serves many
  threads). Every statement runs under ``statement_timeout``.
* Schema version 4 adds the refresh intent to each token row (stores/intents.py) and keeps
  the store identity and the last reset record in ``{prefix}_meta`` (stores/identity.py).
  A new pair is settled with one ``UPDATE … WHERE intent_spent = …``: one round trip.
* Gong's rate budget (stores/rate_budget.py) is a row per customer in ``{prefix}_rate``,
  created on first use (older readers ignore it). A reservation is one statement, one round
  trip: the function ``{prefix}_rate_reserve`` (made with the table, see :data:`_RESERVE`)
  locks the row ``FOR UPDATE``, reads the server's ``clock_timestamp()`` under that lock,
  decides as ``rate_budget.reserve()`` does and writes, so app servers take slots one at a
  time, in the server's time, whatever their own clocks say. Pauses, rarer, still run
  ``rate_budget``'s Python step in a transaction.
* Customers' webhook public keys are rows of ``{prefix}_webhook_keys``, also created on first
  use (older readers ignore the table, so it costs no schema version).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from gong_authlib.errors import TokenStoreError
from gong_authlib.logs import get_logger
from gong_authlib.redaction import protect_third_party_loggers
from gong_authlib.stores.codec import TokenCodec
from gong_authlib.stores.contracts import RateStep, SteppedRateBudget, TokenStore, check_customer
from gong_authlib.stores.identity import StoreReset, reset_from_text, reset_to_text
from gong_authlib.stores.intents import RefreshIntent
from gong_authlib.stores.rate_budget import (
    CLOCK_STEP,
    DAY,
    Budget,
    RateState,
    Reservation,
    paused_for,
    refusal_named,
)
from gong_authlib.stores.status import CustomerStatus, new_status, status_from_row
from gong_authlib.stores.urls import store_scheme
from gong_authlib.token import Token

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

log = get_logger("stores")

SCHEMA_VERSION = 4
_MIGRATION_LOCK = 0x6A6F6E67  # advisory lock key for migrations: any constant of ours

T = TypeVar("T")


# rate_budget.reserve() as one PL/pgSQL function: a reservation in one round trip instead of
# five (BEGIN, SET, SELECT ... FOR UPDATE, UPDATE, COMMIT). It mirrors reserve() step by step,
# on_this_clock included, and tests/test_rate_reserve_mirrors.py runs both over the same cases.
# The row is made on first use; a refusal writes only a state moved onto a stepped-back clock,
# as the Python step's caller does. A lost reservation costs nothing, so the commit does not
# wait for the WAL flush (set_config ... local: until this statement's transaction ends).
# Returns (refused: NULL when granted, wait: seconds).
_RESERVE = """
CREATE OR REPLACE FUNCTION {reserve}(
    p_customer text, p_now double precision, p_interval double precision, p_per_day bigint,
    p_max_wait double precision, p_day double precision, p_clock_step double precision,
    OUT refused text, OUT wait double precision)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_row {rate}%ROWTYPE;
    v_now double precision;
    v_behind double precision;
    v_next double precision;
    v_paused double precision;
    v_seen double precision;
    v_start double precision;
    v_day bigint;
    v_count bigint;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    SELECT * INTO v_row FROM {rate} WHERE customer = p_customer FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO {rate} (customer) VALUES (p_customer) ON CONFLICT (customer) DO NOTHING;
        SELECT * INTO STRICT v_row FROM {rate} WHERE customer = p_customer FOR UPDATE;
    END IF;
    v_now := coalesce(p_now, extract(epoch FROM clock_timestamp())::double precision);
    v_next := v_row.next_slot;
    v_paused := v_row.paused_until;
    v_seen := v_row.seen;
    v_behind := v_seen - v_now;
    IF v_behind > p_clock_step THEN
        v_next := v_next - v_behind;
        v_paused := v_paused - v_behind;
        v_seen := v_now;
    END IF;
    v_start := greatest(v_now, v_next, v_paused);
    IF v_paused - v_now > p_max_wait THEN
        refused := 'paused';
        wait := v_paused - v_now;
    ELSIF v_start - v_now > p_max_wait THEN
        refused := 'queue';
        wait := v_start - v_now;
    ELSE
        v_day := floor(v_start / p_day)::bigint;
        v_count := CASE WHEN v_row.day = v_day THEN v_row.day_count ELSE 0 END;
        IF v_count >= p_per_day THEN
            refused := 'daily';
            wait := (v_day + 1) * p_day - v_now;
        ELSE
            UPDATE {rate} SET next_slot = v_start + p_interval, paused_until = v_paused,
                day = v_day, day_count = v_count + 1, seen = greatest(v_seen, v_now)
                WHERE customer = p_customer;
            wait := v_start - v_now;
            RETURN;
        END IF;
    END IF;
    IF v_seen <> v_row.seen THEN
        UPDATE {rate} SET next_slot = v_next, paused_until = v_paused, seen = v_seen
            WHERE customer = p_customer;
    END IF;
END
$fn$
"""


def _psycopg() -> tuple[Any, Any, Any]:
    try:
        import psycopg
        from psycopg import sql
        from psycopg_pool import ConnectionPool
    except ImportError:
        raise TokenStoreError(
            "the PostgreSQL store needs psycopg 3: pip install 'gong-authlib[postgres]'"
        ) from None
    return psycopg, sql, ConnectionPool


# What to do about the refusals a new setup meets, by the words libpq reports them with.
_ADVICE = (
    ("does not exist", "create it, or fix the name in the store URL"),
    ("password authentication failed", "check the user and password (from ${env:…})"),
    ("no password supplied", "put the password in the store URL (from ${env:…})"),
)


def _server_said(exc: Exception, dsn: str) -> str:
    """libpq's reason for a refused connection, on one line, with what to do about it.

    libpq says "connection to server at … failed: FATAL:  database "x" does not exist"; the
    part after the last "failed:" (and "FATAL:") is the cause. libpq never quotes the
    password, and anything of the DSN beyond what :func:`_describe` shows is cut out anyway.
    """
    text = " ".join(str(exc).split())
    cause = text.rsplit("failed:", 1)[-1].split("FATAL:", 1)[-1]
    cause = cause.split(" Is the server running", 1)[0].strip() or type(exc).__name__
    for secret in _dsn_secrets(dsn):
        cause = cause.replace(secret, "***")
    advice = next((fix for words, fix in _ADVICE if words in cause), None)
    if advice is None:
        advice = "is PostgreSQL running and reachable?"
    return f"{cause}; {advice}"


def _dsn_secrets(dsn: str) -> list[str]:
    from urllib.parse import unquote, urlsplit

    if "://" in dsn:
        password = urlsplit(dsn).password
        return [password, unquote(password)] if password else []
    return [part.split("=", 1)[1] for part in dsn.split() if part.startswith("password=")]


class PostgresTokenStore(SteppedRateBudget, TokenStore):
    """Tokens in PostgreSQL, for fleets of app servers sharing customers."""

    def __init__(
        self,
        dsn: str,
        *,
        encryption_keys: Sequence[str | bytes] = (),
        table_prefix: str = "gong_authlib",
        min_size: int = 1,
        max_size: int = 10,
        statement_timeout: float = 5.0,
        connect_timeout: float = 5.0,
        migrate_plaintext: bool = False,
    ) -> None:
        super().__init__()
        psycopg, sql, pool_class = _psycopg()
        if not table_prefix.replace("_", "").isalnum():
            raise ValueError("table_prefix must be letters, digits and underscores")
        self._psycopg = psycopg
        self._codec = TokenCodec(encryption_keys, migrate_plaintext=migrate_plaintext)
        protect_third_party_loggers()
        if "://" in dsn:
            store_scheme(dsn)  # a malformed URL fails now, not after the pool's timeout
        self._where = _describe(psycopg, dsn)
        if self._where.endswith("(unparsable DSN)"):
            raise TokenStoreError("the PostgreSQL DSN is malformed (its text is not shown)")
        self._tables = {
            kind: sql.Identifier(f"{table_prefix}_{kind}")
            for kind in ("meta", "tokens", "locks", "states", "issue_marks")
        }
        self._tables["rate"] = sql.Identifier(f"{table_prefix}_rate")
        self._tables["reserve"] = sql.Identifier(f"{table_prefix}_rate_reserve")
        self._rate_table_ready = False
        self._tables["webhook_keys"] = sql.Identifier(f"{table_prefix}_webhook_keys")
        self._webhook_table_ready = False
        self._sql = sql
        # Composed once: a reservation is paid per API call.
        self._reserve_call = self._query(
            "SELECT refused, wait FROM {reserve}(%s, %s, %s, %s, %s, %s, %s)"
        )

        def open_pool() -> ConnectionPool:
            pool: ConnectionPool = pool_class(
                dsn,
                min_size=min_size,
                max_size=max_size,
                timeout=connect_timeout,
                kwargs={
                    "autocommit": True,
                    "connect_timeout": max(1, round(connect_timeout)),
                    "options": f"-c statement_timeout={round(statement_timeout * 1000)}",
                },
                open=True,
            )
            return pool

        self._open_pool = open_pool
        self._pool_pid = os.getpid()
        self._pool_guard = threading.Lock()
        # Pools a forked child inherited: kept referenced, never used or closed (closing
        # would end the parent's sessions on the sockets both processes share).
        self._inherited: list[ConnectionPool] = []
        # One plain connection first: a server that refuses us (no such database, a wrong
        # password) says why at once, where the pool would retry quietly until its timeout.
        self._probe(dsn, connect_timeout)
        try:
            self._pool = open_pool()
            self._pool.wait(timeout=connect_timeout)
        except Exception as exc:  # psycopg_pool raises its own PoolTimeout, psycopg others
            raise TokenStoreError(
                f"token store {self._where}: cannot connect ({type(exc).__name__})"
            ) from None
        self._guarded("open", self._migrate)

    def __repr__(self) -> str:
        return f"PostgresTokenStore({self._where!r})"

    def _probe(self, dsn: str, connect_timeout: float) -> None:
        try:
            self._psycopg.connect(dsn, connect_timeout=max(1, round(connect_timeout))).close()
        except self._psycopg.Error as exc:
            raise TokenStoreError(
                f"token store {self._where}: cannot connect: {_server_said(exc, dsn)}"
            ) from None

    def _query(self, text: str) -> Any:
        """SQL with ``{meta}``, ``{tokens}``, ``{locks}`` standing for the prefixed tables."""
        return self._sql.SQL(text).format(**self._tables)

    def _guarded(self, action: str, work: Callable[[], T]) -> T:
        try:
            return work()
        except (self._psycopg.Error, OSError) as exc:
            raise TokenStoreError(
                f"token store {self._where}: {action} failed ({type(exc).__name__}); "
                "is PostgreSQL running and reachable?"
            ) from None
        except Exception as exc:
            if type(exc).__name__ in ("PoolTimeout", "PoolClosed"):
                raise TokenStoreError(
                    f"token store {self._where}: {action} failed (no connection: "
                    f"{type(exc).__name__})"
                ) from None
            raise

    def _connections(self) -> ConnectionPool:
        """This process's pool. A forked child (gunicorn, uWSGI, Celery prefork) opens its
        own: the parent's shares its sockets and has no worker threads in the child."""
        if self._pool_pid != os.getpid():
            with self._pool_guard:
                if self._pool_pid != os.getpid():
                    self._inherited.append(self._pool)
                    self._pool = self._open_pool()
                    self._pool_pid = os.getpid()
        return self._pool

    def _after_fork_in_child(self) -> None:
        super()._after_fork_in_child()
        self._pool_guard = threading.Lock()  # a parent thread may have held it at fork time

    def _execute(self, text: str, params: tuple[Any, ...] = ()) -> Any:
        with self._connections().connection() as connection:
            cursor = connection.execute(self._query(text), params)
            return cursor.rowcount, (cursor.fetchall() if cursor.description else [])

    def _migrate(self) -> None:
        with self._connections().connection() as connection, connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            connection.execute(
                self._query("CREATE TABLE IF NOT EXISTS {meta} (key text PRIMARY KEY, value text)")
            )
            row = connection.execute(
                self._query("SELECT value FROM {meta} WHERE key = 'schema_version'")
            ).fetchone()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise TokenStoreError(
                    f"token store {self._where} has schema version {version}, written by a "
                    f"newer gong-authlib; this one reads up to {SCHEMA_VERSION}"
                )
            if version < 1:
                connection.execute(
                    self._query(
                        "CREATE TABLE {tokens} (customer text PRIMARY KEY, data bytea NOT NULL,"
                        " updated_at timestamptz NOT NULL DEFAULT clock_timestamp())"
                    )
                )
                connection.execute(
                    self._query(
                        "CREATE TABLE {locks} (customer text PRIMARY KEY, owner text NOT NULL,"
                        " expires_at timestamptz NOT NULL)"
                    )
                )
                log.info("token store %s migrated to schema version 1", self._where)
            if version < 2:
                # OAuth states under their SHA-256; expiry judged by the issuing app's clock,
                # which is the one that also judges them when consumed.
                connection.execute(
                    self._query(
                        "CREATE TABLE {states} (key text PRIMARY KEY, data bytea NOT NULL,"
                        " expires_at double precision NOT NULL)"
                    )
                )
                connection.execute(self._query("CREATE INDEX ON {states} (expires_at)"))
                log.info("token store %s migrated to schema version 2", self._where)
            if version < 3:
                # Per-customer status: NULL is active.
                connection.execute(
                    self._query(
                        "ALTER TABLE {tokens} ADD COLUMN IF NOT EXISTS status text, "
                        "ADD COLUMN IF NOT EXISTS status_since double precision, "
                        "ADD COLUMN IF NOT EXISTS status_reason text"
                    )
                )
                log.info("token store %s migrated to schema version 3", self._where)
            if version < 4:
                # The refresh intent (stores/intents.py): NULL when no refresh is in flight.
                connection.execute(
                    self._query(
                        "ALTER TABLE {tokens} ADD COLUMN IF NOT EXISTS intent_owner text, "
                        "ADD COLUMN IF NOT EXISTS intent_spent text, "
                        "ADD COLUMN IF NOT EXISTS intent_deadline double precision"
                    )
                )
                log.info("token store %s migrated to schema version 4", self._where)
            # The newest issue time stored per customer (newest_issue), apart from its row;
            # beside the versioned tables, so an older gong-authlib sharing them keeps working.
            connection.execute(
                self._query(
                    "CREATE TABLE IF NOT EXISTS {issue_marks} (customer text PRIMARY KEY,"
                    " issued_at double precision NOT NULL)"
                )
            )
            connection.execute(
                self._query(
                    "INSERT INTO {meta} (key, value) VALUES ('schema_version', %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
                ),
                (str(SCHEMA_VERSION),),
            )

    def get(self, customer: str) -> Token | None:
        check_customer(customer)
        _, rows = self._guarded(
            "read",
            lambda: self._execute("SELECT data FROM {tokens} WHERE customer = %s", (customer,)),
        )
        return None if not rows else self._codec.decode(bytes(rows[0][0]), customer=customer)

    def put(self, customer: str, token: Token) -> None:
        check_customer(customer)
        data = self._codec.encode(token, customer=customer)
        self._guarded(
            "write",
            lambda: self._execute(
                # One statement, so the row and its mark change together.
                "WITH stored AS (INSERT INTO {tokens} (customer, data) VALUES (%s, %s) "
                "ON CONFLICT (customer) "
                "DO UPDATE SET data = EXCLUDED.data, updated_at = clock_timestamp(), "
                "status = NULL, status_since = NULL, status_reason = NULL, "
                "intent_owner = NULL, intent_spent = NULL, intent_deadline = NULL) "
                "INSERT INTO {issue_marks} (customer, issued_at) VALUES (%s, %s) "
                "ON CONFLICT (customer) DO UPDATE SET "
                "issued_at = GREATEST({issue_marks}.issued_at, EXCLUDED.issued_at)",
                (customer, data, customer, token.issued_at),
            ),
        )

    def newest_issue(self, customer: str) -> float | None:
        check_customer(customer)
        _, rows = self._guarded(
            "read",
            lambda: self._execute(
                "SELECT issued_at FROM {issue_marks} WHERE customer = %s", (customer,)
            ),
        )
        return float(rows[0][0]) if rows else None

    def get_with_status(self, customer: str) -> tuple[Token | None, CustomerStatus]:
        check_customer(customer)
        _, rows = self._guarded(
            "read",
            lambda: self._execute(
                "SELECT data, status, status_since, status_reason FROM {tokens} "
                "WHERE customer = %s",
                (customer,),
            ),
        )
        if not rows:
            return None, status_from_row(None, None, None)
        data, *status = rows[0]
        return self._codec.decode(bytes(data), customer=customer), status_from_row(*status)

    def status(self, customer: str) -> CustomerStatus:
        check_customer(customer)
        _, rows = self._guarded(
            "read",
            lambda: self._execute(
                "SELECT status, status_since, status_reason FROM {tokens} WHERE customer = %s",
                (customer,),
            ),
        )
        return status_from_row(*(rows[0] if rows else (None, None, None)))

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
            lambda: self._execute(
                "UPDATE {tokens} SET status = %s, status_since = %s, status_reason = %s "
                "WHERE customer = %s",
                (None if status.active else status.state, status.since, status.reason, customer),
            ),
        )

    def statuses(self) -> dict[str, CustomerStatus]:
        _, rows = self._guarded(
            "list",
            lambda: self._execute(
                "SELECT customer, status, status_since, status_reason FROM {tokens} "
                "ORDER BY customer"
            ),
        )
        return {row[0]: status_from_row(*row[1:]) for row in rows}

    def delete(self, customer: str) -> bool:
        check_customer(customer)
        count, _ = self._guarded(
            "delete",
            lambda: self._execute(
                "WITH mark AS (DELETE FROM {issue_marks} WHERE customer = %s) "
                "DELETE FROM {tokens} WHERE customer = %s",
                (customer, customer),
            ),
        )
        if count:
            self._erase_after_delete()
        return bool(count)

    def erase_old_copies(self) -> None:
        """Rewrite the tokens table without its dead rows (``VACUUM FULL``): a plain vacuum
        only marks their space free, and autovacuum waits for 50 dead rows. The table is
        small (one row per customer), so the exclusive lock lasts milliseconds."""
        self._guarded("vacuum", lambda: self._execute("VACUUM (FULL) {tokens}, {issue_marks}"))

    def customers(self) -> list[str]:
        _, rows = self._guarded(
            "list", lambda: self._execute("SELECT customer FROM {tokens} ORDER BY customer")
        )
        return [row[0] for row in rows]

    @property
    def location(self) -> str:
        return self._where

    def _try_lease(self, customer: str, owner: str, lease: float) -> bool:
        count, _ = self._guarded(
            "lock",
            lambda: self._execute(
                "INSERT INTO {locks} (customer, owner, expires_at) VALUES "
                "(%s, %s, clock_timestamp() + make_interval(secs => %s)) "
                "ON CONFLICT (customer) DO UPDATE SET owner = EXCLUDED.owner, "
                "expires_at = EXCLUDED.expires_at "
                "WHERE {locks}.expires_at <= clock_timestamp()",
                (customer, owner, lease),
            ),
        )
        return bool(count == 1)

    def _create_rate_table(self, connection: Any) -> None:
        # Concurrent CREATE TABLE IF NOT EXISTS can still collide in the catalog: serialize
        # it with the migration's advisory lock.
        with connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            connection.execute(
                self._query(
                    "CREATE TABLE IF NOT EXISTS {rate} (customer text PRIMARY KEY,"
                    " next_slot double precision NOT NULL DEFAULT 0,"
                    " paused_until double precision NOT NULL DEFAULT 0,"
                    " day bigint NOT NULL DEFAULT -1, day_count bigint NOT NULL DEFAULT 0,"
                    " seen double precision NOT NULL DEFAULT 0)"
                )
            )
            # Tables made before RateState.seen existed get the column.
            connection.execute(
                self._query(
                    "ALTER TABLE {rate} ADD COLUMN IF NOT EXISTS"
                    " seen double precision NOT NULL DEFAULT 0"
                )
            )
            connection.execute(self._query(_RESERVE))
        self._rate_table_ready = True

    def rate_paused_for(self, customer: str, *, now: float | None = None) -> float:
        # A plain read, not FOR UPDATE: a worker looking for a pause just before its slot must
        # not queue behind every reservation's row lock (a call sent late squeezes Gong's
        # window), and MVCC gives it the last committed pause anyway.
        check_customer(customer)
        select = self._query(
            "SELECT next_slot, paused_until, day, day_count, seen,"
            " extract(epoch FROM clock_timestamp())::float8 FROM {rate} WHERE customer = %s"
        )

        def read() -> float:
            with self._pool.connection() as connection:
                if not self._rate_table_ready:
                    self._create_rate_table(connection)
                row = connection.execute(select, (customer,)).fetchone()
            if row is None:
                return 0.0
            state = RateState(float(row[0]), float(row[1]), int(row[2]), int(row[3]), float(row[4]))
            return paused_for(state, float(row[5]) if now is None else now)

        return self._guarded("rate limit", read)

    def rate_reserve(
        self, customer: str, budget: Budget, *, now: float | None = None
    ) -> Reservation:
        check_customer(customer)
        call = self._reserve_call
        params = (customer, now, budget.interval, budget.per_day, budget.max_wait, DAY, CLOCK_STEP)

        def reserve() -> tuple[Any, ...]:
            with self._connections().connection() as connection:
                if not self._rate_table_ready:
                    self._create_rate_table(connection)
                row: tuple[Any, ...] | None = connection.execute(call, params).fetchone()
            if row is None:
                raise TokenStoreError(f"token store {self._where}: the reservation said nothing")
            return row

        refused, wait = self._guarded("rate limit", reserve)
        # The server decided just before answering: no write or commit to deduct after it.
        return Reservation(float(wait), refusal_named(refused))

    def _rate_update(self, customer: str, now: float | None, step: RateStep[T]) -> T:
        select = self._query(
            "SELECT next_slot, paused_until, day, day_count, seen,"
            " extract(epoch FROM clock_timestamp())::float8 FROM {rate}"
            " WHERE customer = %s FOR UPDATE"
        )

        def transaction() -> T:
            with self._connections().connection() as connection:
                if not self._rate_table_ready:
                    self._create_rate_table(connection)
                with connection.transaction():
                    # A reservation lost to a crash costs nothing; waiting for the WAL flush
                    # on every call, with the row locked, would slow every waiter.
                    connection.execute("SET LOCAL synchronous_commit TO OFF")
                    row = connection.execute(select, (customer,)).fetchone()
                    if row is None:  # first call for this customer: make its row, then lock it
                        connection.execute(
                            self._query(
                                "INSERT INTO {rate} (customer) VALUES (%s)"
                                " ON CONFLICT (customer) DO NOTHING"
                            ),
                            (customer,),
                        )
                        row = connection.execute(select, (customer,)).fetchone()
                    if row is None:
                        raise TokenStoreError(f"token store {self._where}: rate row vanished")
                    state = RateState(
                        float(row[0]), float(row[1]), int(row[2]), int(row[3]), float(row[4])
                    )
                    new_state, answer = step(state, float(row[5]) if now is None else now)
                    if new_state != state:
                        connection.execute(
                            self._query(
                                "UPDATE {rate} SET next_slot = %s, paused_until = %s, day = %s,"
                                " day_count = %s, seen = %s WHERE customer = %s"
                            ),
                            (
                                new_state.next_slot,
                                new_state.paused_until,
                                new_state.day,
                                new_state.day_count,
                                new_state.seen,
                                customer,
                            ),
                        )
                    return answer

        return self._guarded("rate limit", transaction)

    def _renew_lease(self, customer: str, owner: str, lease: float) -> bool:
        count, _ = self._guarded(
            "renew lock",
            lambda: self._execute(
                "UPDATE {locks} SET expires_at = clock_timestamp() + make_interval(secs => %s) "
                "WHERE customer = %s AND owner = %s",
                (lease, customer, owner),
            ),
        )
        return bool(count == 1)

    def _release_lease(self, customer: str, owner: str) -> None:

        self._guarded(
            "unlock",
            lambda: self._execute(
                "DELETE FROM {locks} WHERE customer = %s AND owner = %s", (customer, owner)
            ),
        )

    def _put_state(self, key: str, data: bytes, expires_at: float) -> None:
        self._guarded(
            "state write",
            lambda: self._execute(
                "INSERT INTO {states} (key, data, expires_at) VALUES (%s, %s, %s)",
                (key, data, expires_at),
            ),
        )

    def _take_state(self, key: str) -> bytes | None:
        # One statement: of two workers bringing the same callback, exactly one gets the row.
        _, rows = self._guarded(
            "state read",
            lambda: self._execute("DELETE FROM {states} WHERE key = %s RETURNING data", (key,)),
        )
        return bytes(rows[0][0]) if rows else None

    def _purge_states(self, now: float) -> int:
        count, _ = self._guarded(
            "state purge",
            lambda: self._execute("DELETE FROM {states} WHERE expires_at < %s", (now,)),
        )
        return int(count)

    # -- refresh intents and the store identity (stores/intents.py, stores/identity.py) --

    def open_intent(self, customer: str, intent: RefreshIntent) -> bool:
        check_customer(customer)
        count, _ = self._guarded(
            "intent write",
            lambda: self._execute(
                "UPDATE {tokens} SET intent_owner = %s, intent_spent = %s, "
                "intent_deadline = %s WHERE customer = %s",
                (intent.owner, intent.spent, intent.deadline, customer),
            ),
        )
        return bool(count == 1)

    def intent(self, customer: str) -> RefreshIntent | None:
        check_customer(customer)
        _, rows = self._guarded(
            "intent read",
            lambda: self._execute(
                "SELECT intent_owner, intent_spent, intent_deadline FROM {tokens} "
                "WHERE customer = %s AND intent_owner IS NOT NULL",
                (customer,),
            ),
        )
        return None if not rows else RefreshIntent(rows[0][0], rows[0][1], float(rows[0][2]))

    def close_intent(self, customer: str, owner: str) -> None:
        check_customer(customer)
        self._guarded(
            "intent write",
            lambda: self._execute(
                "UPDATE {tokens} SET intent_owner = NULL, intent_spent = NULL, "
                "intent_deadline = NULL WHERE customer = %s AND intent_owner = %s",
                (customer, owner),
            ),
        )

    def settle(self, customer: str, token: Token, *, spent: str) -> bool:
        check_customer(customer)
        data = self._codec.encode(token, customer=customer)
        count, _ = self._guarded(
            "write",
            lambda: self._execute(
                # One statement: the row, its intent and its mark change together, or none.
                "WITH settled AS (UPDATE {tokens} SET data = %s, "
                "updated_at = clock_timestamp(), status = NULL, status_since = NULL, "
                "status_reason = NULL, intent_owner = NULL, intent_spent = NULL, "
                "intent_deadline = NULL WHERE customer = %s AND intent_spent = %s "
                "RETURNING customer) "
                "INSERT INTO {issue_marks} (customer, issued_at) SELECT customer, %s FROM settled "
                "ON CONFLICT (customer) DO UPDATE SET "
                "issued_at = GREATEST({issue_marks}.issued_at, EXCLUDED.issued_at)",
                (data, customer, spent, token.issued_at),
            ),
        )
        return bool(count == 1)

    def store_identity(self) -> str | None:
        return self._meta("store_identity")

    def claim_identity(self, candidate: str) -> str:
        _, rows = self._guarded(
            "identity write",
            lambda: self._execute(
                "WITH claimed AS (INSERT INTO {meta} (key, value) "
                "VALUES ('store_identity', %s) ON CONFLICT (key) DO NOTHING RETURNING value) "
                "SELECT value FROM claimed UNION ALL "
                "SELECT value FROM {meta} WHERE key = 'store_identity'",
                (candidate,),
            ),
        )
        return str(rows[0][0]) if rows else candidate

    def restore(self, customer: str, token: Token) -> bool:
        check_customer(customer)
        data = self._codec.encode(token, customer=customer)
        count, _ = self._guarded(
            "write",
            lambda: self._execute(
                "WITH restored AS (INSERT INTO {tokens} (customer, data) VALUES (%s, %s) "
                "ON CONFLICT (customer) DO NOTHING RETURNING customer) "
                "INSERT INTO {issue_marks} (customer, issued_at) SELECT customer, %s FROM restored "
                "ON CONFLICT (customer) DO UPDATE SET "
                "issued_at = GREATEST({issue_marks}.issued_at, EXCLUDED.issued_at)",
                (customer, data, token.issued_at),
            ),
        )
        return bool(count == 1)

    def record_reset(self, reset: StoreReset) -> None:
        self._guarded(
            "reset write",
            lambda: self._execute(
                "INSERT INTO {meta} (key, value) VALUES ('store_reset', %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                (reset_to_text(reset),),
            ),
        )

    def reset_record(self) -> StoreReset | None:
        return reset_from_text(self._meta("store_reset"))

    def clear_reset(self) -> None:
        self._guarded(
            "reset write", lambda: self._execute("DELETE FROM {meta} WHERE key = 'store_reset'")
        )

    def _meta(self, key: str) -> str | None:
        _, rows = self._guarded(
            "read", lambda: self._execute("SELECT value FROM {meta} WHERE key = %s", (key,))
        )
        return None if not rows else str(rows[0][0])

    # -- webhook keys (WebhookKeyRecords) ------------------------------------------------

    def _webhook_keys_execute(self, text: str, params: tuple[Any, ...]) -> Any:
        if not self._webhook_table_ready:
            with self._connections().connection() as connection, connection.transaction():
                # Serialized with the migration's lock: concurrent CREATE TABLE IF NOT EXISTS
                # can still collide in the catalog.
                connection.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                connection.execute(
                    self._query(
                        "CREATE TABLE IF NOT EXISTS {webhook_keys} (customer text NOT NULL,"
                        " fingerprint text NOT NULL, data text NOT NULL,"
                        " added_at double precision NOT NULL, PRIMARY KEY (customer, fingerprint))"
                    )
                )
            self._webhook_table_ready = True
        return self._execute(text, params)

    def _put_webhook_key(
        self, customer: str, fingerprint: str, stored: str, added_at: float
    ) -> bool:
        count, _ = self._guarded(
            "webhook key write",
            lambda: self._webhook_keys_execute(
                "INSERT INTO {webhook_keys} (customer, fingerprint, data, added_at)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (customer, fingerprint) DO NOTHING",
                (customer, fingerprint, stored, added_at),
            ),
        )
        return bool(count == 1)

    def _reseal_webhook_key(self, customer: str, fingerprint: str, stored: str) -> bool:
        count, _ = self._guarded(
            "webhook key write",
            lambda: self._webhook_keys_execute(
                "UPDATE {webhook_keys} SET data = %s WHERE customer = %s AND fingerprint = %s",
                (stored, customer, fingerprint),
            ),
        )
        return bool(count == 1)

    def _webhook_key_rows(self, customer: str) -> list[tuple[str, str, float]]:
        _, rows = self._guarded(
            "webhook key read",
            lambda: self._webhook_keys_execute(
                "SELECT fingerprint, data, added_at FROM {webhook_keys} WHERE customer = %s",
                (customer,),
            ),
        )
        return [(str(f), str(d), float(a)) for f, d, a in rows]

    def _delete_webhook_key(self, customer: str, fingerprint: str) -> bool:
        count, _ = self._guarded(
            "webhook key delete",
            lambda: self._webhook_keys_execute(
                "DELETE FROM {webhook_keys} WHERE customer = %s AND fingerprint = %s",
                (customer, fingerprint),
            ),
        )
        return bool(count == 1)

    def _webhook_key_owners(self) -> list[str]:
        _, rows = self._guarded(
            "webhook key list",
            lambda: self._webhook_keys_execute(
                "SELECT DISTINCT customer FROM {webhook_keys} ORDER BY customer", ()
            ),
        )
        return [str(row[0]) for row in rows]

    def close(self) -> None:
        if self._pool_pid == os.getpid():
            self._pool.close()


def _describe(psycopg: Any, dsn: str) -> str:
    """``postgresql host:port/db`` for messages, never the password."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "postgresql (unparsable DSN)"
    host = info.get("host", "localhost")
    return f"postgresql {host}:{info.get('port', 5432)}/{info.get('dbname', '')}"
