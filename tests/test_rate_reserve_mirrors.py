"""One reservation logic, three homes: rate_budget.reserve() (memory and SQLite run it as it
is), PostgreSQL's ``{prefix}_rate_reserve`` function and Redis's Lua script, which mirror it to
reserve in one round trip (counted below: libpq's protocol trace, Redis's command stats).

Each case sets a customer's stored state, reserves at a given time, and compares the answer
and the state left with what the Python step gives.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import redis as redis_py

from gong_authlib.stores import PostgresTokenStore, RedisTokenStore
from gong_authlib.stores.contracts import SteppedRateBudget
from gong_authlib.stores.rate_budget import DAY, Budget, RateState, Reservation, reserve
from tests.servers import PostgresServer, RedisServer

NOW = DAY * 20_000 + 3600.25  # 01:00 UTC on some day, with a fraction
BUDGET = Budget(interval=0.35, per_day=5, max_wait=60.0)
TODAY = int(NOW // DAY)

CASES: dict[str, tuple[RateState, float, Budget]] = {
    "a new customer": (RateState(), NOW, BUDGET),
    "a free slot": (RateState(NOW - 2, 0, TODAY, 1, NOW - 2), NOW, BUDGET),
    "a slot ahead": (RateState(NOW + 0.2, 0, TODAY, 2, NOW), NOW, BUDGET),
    "a pause ahead": (RateState(NOW, NOW + 5, TODAY, 2, NOW), NOW, BUDGET),
    "a pause beyond max_wait": (RateState(NOW, NOW + 90, TODAY, 2, NOW), NOW, BUDGET),
    "a queue beyond max_wait": (RateState(NOW + 61, 0, TODAY, 2, NOW), NOW, BUDGET),
    "today's calls spent": (RateState(NOW, 0, TODAY, 5, NOW), NOW, BUDGET),
    "a new day": (RateState(NOW, 0, TODAY - 1, 5, NOW), NOW, BUDGET),
    "a slot that falls tomorrow": (
        RateState((TODAY + 1) * DAY + 0.1, 0, TODAY, 5, NOW),
        (TODAY + 1) * DAY - 1.0,
        Budget(interval=0.35, per_day=5, max_wait=60.0),
    ),
    "a clock stepped back": (RateState(NOW + 3600.1, 0, TODAY, 2, NOW + 3600), NOW, BUDGET),
    "jitter, not a step": (RateState(NOW + 1.5, 0, TODAY, 2, NOW + 1), NOW, BUDGET),
    "a stepped-back clock and a refusal": (
        RateState(NOW + 3600, NOW + 3600 + 120, TODAY, 2, NOW + 3600),
        NOW,
        BUDGET,
    ),
}
FIELDS = ("next_slot", "paused_until", "day", "day_count", "seen")


def _expected(case: str) -> tuple[RateState, Reservation]:
    state, now, budget = CASES[case]
    return reserve(state, now, budget)


def _close(state: RateState, other: RateState) -> bool:
    return all(
        getattr(state, name) == pytest.approx(getattr(other, name), abs=1e-6) for name in FIELDS
    )


@pytest.fixture(scope="module")
def postgres(postgres_server: PostgresServer) -> Iterator[tuple[PostgresTokenStore, str]]:
    prefix = f"m_{uuid.uuid4().hex[:10]}"
    store = PostgresTokenStore(postgres_server.dsn(), table_prefix=prefix)
    store.rate_paused_for("warm-up")  # makes the table and the function
    yield store, prefix
    store.close()


@pytest.mark.parametrize("case", list(CASES))
def test_postgres_reserves_as_the_python_step(
    case: str, postgres: tuple[PostgresTokenStore, str], postgres_server: PostgresServer
) -> None:
    store, prefix = postgres
    state, now, budget = CASES[case]
    expected_state, expected = _expected(case)
    customer = f"c-{uuid.uuid4().hex[:8]}"
    table = psycopg.sql.Identifier(f"{prefix}_rate")
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as connection:
        if state != RateState():  # a new customer has no row yet
            connection.execute(
                psycopg.sql.SQL(
                    "INSERT INTO {} (customer, next_slot, paused_until, day, day_count, seen)"
                    " VALUES (%s, %s, %s, %s, %s, %s)"
                ).format(table),
                (customer, *(getattr(state, name) for name in FIELDS)),
            )
        answer = store.rate_reserve(customer, budget, now=now)
        row = connection.execute(
            psycopg.sql.SQL(
                "SELECT next_slot, paused_until, day, day_count, seen FROM {} WHERE customer = %s"
            ).format(table),
            (customer,),
        ).fetchone()
    assert row is not None
    assert answer.refused == expected.refused
    assert answer.wait == pytest.approx(expected.wait, abs=1e-6)
    left = RateState(float(row[0]), float(row[1]), int(row[2]), int(row[3]), float(row[4]))
    assert _close(left, expected_state), (left, expected_state)


@pytest.mark.parametrize("case", list(CASES))
def test_redis_reserves_as_the_python_step(case: str, redis_server: RedisServer) -> None:
    store = RedisTokenStore(redis_server.url, namespace=f"m{uuid.uuid4().hex[:10]}")
    state, now, budget = CASES[case]
    expected_state, expected = _expected(case)
    key = store._key("rate", "acme")
    raw = redis_py.Redis.from_url(redis_server.url)
    if state != RateState():
        raw.hset(key, mapping={name: repr(getattr(state, name)) for name in FIELDS})
    answer = store.rate_reserve("acme", budget, now=now)
    assert answer.refused == expected.refused
    assert answer.wait == pytest.approx(expected.wait, abs=1e-6)
    if answer.refused is None:  # the script writes only what it grants
        stored = {
            (k.decode() if isinstance(k, bytes) else k): float(v)
            for k, v in raw.hgetall(key).items()
        }
        left = RateState(
            stored["next_slot"],
            stored["paused_until"],
            int(stored["day"]),
            int(stored["day_count"]),
            stored["seen"],
        )
        assert _close(left, expected_state), (left, expected_state)
    raw.close()
    store.close()


def test_the_cases_cover_every_answer() -> None:
    answers = {_expected(case)[1].refused for case in CASES}
    assert answers == {None, "paused", "queue", "daily"}
    moved = [case for case in CASES if _expected(case)[0].seen < CASES[case][0].seen]
    assert len(moved) >= 2  # clock steps, granted and refused


def _round_trips(store: PostgresTokenStore, reserve: Callable[[], object], folder: Path) -> int:
    """Round trips ``reserve`` makes on the store's one pooled connection, read from libpq's
    protocol trace: each simple Query and each extended-protocol Sync is one."""
    trace = folder / f"trace-{uuid.uuid4().hex}.txt"
    with trace.open("w") as sink:
        with store._pool.connection() as connection:
            connection.pgconn.trace(sink.fileno())
        reserve()
        with store._pool.connection() as connection:
            connection.pgconn.untrace()
    sent = [line.split("\t") for line in trace.read_text().splitlines() if "\tF\t" in line]
    return sum(1 for fields in sent if fields[3] in ("Query", "Sync"))


def test_a_postgres_reservation_is_one_round_trip(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    store = PostgresTokenStore(
        postgres_server.dsn(), table_prefix=f"t_{uuid.uuid4().hex[:10]}", max_size=1
    )
    store.rate_reserve("acme", BUDGET)  # the table, the function, the customer's row
    one = _round_trips(store, lambda: store.rate_reserve("acme", BUDGET), tmp_path)
    stepped = _round_trips(
        store, lambda: SteppedRateBudget.rate_reserve(store, "acme", BUDGET), tmp_path
    )
    store.close()
    assert (one, stepped) == (1, 5)  # the way it was: BEGIN, SET, SELECT, UPDATE, COMMIT


def test_a_redis_reservation_is_one_script_call(redis_server: RedisServer) -> None:
    store = RedisTokenStore(redis_server.url, namespace=f"m{uuid.uuid4().hex[:10]}")
    raw = redis_py.Redis.from_url(redis_server.url)
    store.rate_reserve("acme", BUDGET)  # loads the script (EVALSHA, else EVAL once)

    def calls() -> dict[str, int]:
        stats = raw.info("commandstats")
        return {name: int(stat["calls"]) for name, stat in stats.items() if name != "cmdstat_info"}

    before = calls()
    store.rate_reserve("acme", BUDGET)
    after = calls()
    raw.close()
    store.close()
    changed = {name: after[name] - before.get(name, 0) for name in after}
    # One EVALSHA from the client; the script's own commands run inside it, on the server.
    inside = {"cmdstat_time": 1, "cmdstat_hmget": 1, "cmdstat_hset": 1, "cmdstat_pexpire": 1}
    assert {name: n for name, n in changed.items() if n} == {"cmdstat_evalsha": 1, **inside}
