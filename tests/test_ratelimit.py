"""One Gong budget per company shared through every store: slots, pauses, the daily budget.

Two store objects on one backend stand for two app servers; a FakeClock stands for time, and
the limiter's sleep moves it, so every wait is exact and nothing sleeps.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from urllib3 import HTTPConnectionPool, HTTPResponse
from urllib3.exceptions import MaxRetryError

from gong_authlib import (
    DailyQuotaExhausted,
    RateLimit,
    RateLimiter,
    RateLimitExceeded,
    gong_session,
)
from gong_authlib.gong.retry import gong_retry
from gong_authlib.stores import (
    MemoryTokenStore,
    PostgresTokenStore,
    SQLiteTokenStore,
    TokenStore,
)
from gong_authlib.stores.rate_budget import RateState, reserve
from gong_authlib.testing import FakeClock, FakeGong
from tests.authflow import authorize_into
from tests.servers import PostgresServer
from tests.stores import two_stores

KINDS = ["memory", "sqlite", "redis", "postgres"]
START = 86_400.0 * 20_000 + 3600  # 01:00 UTC on some day


class World:
    """Two workers' limiters on one backend, sharing one FakeClock that sleeping moves."""

    def __init__(self, stores: tuple[TokenStore, ...], limit: RateLimit) -> None:
        self.clock = FakeClock(START)
        self.slept: list[float] = []
        self.stores = stores
        self.a, self.b = (
            RateLimiter(store, limit, clock=self.clock, sleep=self.sleep) for store in stores
        )

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.advance(seconds)


@pytest.fixture(params=KINDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    stores = two_stores(request.param, request, tmp_path)
    yield World(stores, RateLimit(per_day=50))
    for store in set(stores):
        store.close()


def test_workers_take_turns_one_interval_apart(world: World) -> None:
    interval = world.a.limit.budget("acme").interval
    waits = [limiter.acquire("acme") for limiter in (world.a, world.b, world.a, world.b)]
    assert waits == pytest.approx([0.0, interval, interval, interval])
    assert 1 / interval == pytest.approx(3.0 * 0.95)  # the margin: 95% of Gong's rate
    assert world.b.acquire("globex") == 0  # another company has its own budget


def test_a_reservation_is_a_slot_not_a_poll(world: World) -> None:
    # Three workers reserve at the same instant: each is told its own slot, in order.
    budget = world.a.limit.budget("acme")
    waits = [
        store.rate_reserve("acme", budget, now=START).wait
        for store in (world.stores[0], world.stores[1], world.stores[0])
    ]
    assert waits == pytest.approx([0.0, budget.interval, 2 * budget.interval])


def test_a_429_pauses_every_worker(world: World, caplog: pytest.LogCaptureFixture) -> None:
    world.a.acquire("acme")
    with caplog.at_level(logging.INFO, logger="gong_authlib"):
        world.a.pause("acme", 30)
        assert world.b.acquire("acme") == pytest.approx(30.0)
    assert any("429" in m and "acme" in m for m in caplog.messages)
    assert any("waiting 30.0s" in m and "acme" in m for m in caplog.messages)


def test_a_worker_asleep_on_its_slot_honours_a_pause_made_meanwhile(world: World) -> None:
    budget = world.a.limit.budget("acme")
    world.stores[0].rate_reserve("acme", budget, now=START)  # someone took the first slot
    paused_at: list[float] = []

    def sleep_while_another_gets_429(seconds: float) -> None:
        world.sleep(seconds)
        if not paused_at:  # during the first sleep, another worker got a 429
            paused_at.append(world.clock())
            world.a.pause("acme", 10.0)

    late = RateLimiter(
        world.stores[1], world.a.limit, clock=world.clock, sleep=sleep_while_another_gets_429
    )
    late.acquire("acme")
    assert paused_at[0] < START + budget.interval  # it was still asleep on its slot
    assert world.clock() == pytest.approx(paused_at[0] + 10.0)  # and waited out the pause


def test_a_pause_beyond_max_wait_fails_fast_with_when(world: World) -> None:
    world.a.pause("acme", 3600)
    with pytest.raises(RateLimitExceeded) as caught:
        world.b.acquire("acme")
    assert world.slept == []
    assert caught.value.retry_at == pytest.approx(START + 3600)
    assert caught.value.customer == "acme"


def test_the_daily_budget_fails_fast_until_the_day_turns(world: World) -> None:
    for i in range(50):
        (world.a if i % 2 else world.b).acquire("acme")
    sent = len(world.slept)
    with pytest.raises(DailyQuotaExhausted) as caught:
        world.a.acquire("acme")
    assert len(world.slept) == sent  # failed without waiting
    midnight = (START // 86_400 + 1) * 86_400
    assert caught.value.retry_at == pytest.approx(midnight)
    world.clock.advance(midnight - world.clock())
    world.b.acquire("acme")


def test_customers_with_raised_limits_get_their_own_rate() -> None:
    limit = RateLimit().with_override("bigco", per_second=10, per_day=100_000)
    assert limit.budget("bigco").interval == pytest.approx(1 / 9.5)
    assert limit.budget("bigco").per_day == 100_000
    assert limit.budget("acme").interval == pytest.approx(1 / 2.85)
    assert RateLimit(overrides={"bigco": (10, 100_000)}) == limit
    from_yaml = {"bigco": [10, 100_000]}  # as read from YAML or JSON
    assert RateLimit(overrides=from_yaml) == limit  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="per_second"):
        RateLimit(per_second=0)
    with pytest.raises(ValueError, match="margin"):
        RateLimit(margin=1.0)


def test_paced_sessions_never_exceed_gongs_strict_limit() -> None:
    """Three sessions share one budget against FakeGong's strict sliding second, in fake
    time: no 429, and the calls are spread at 95% of the rate."""
    clock = FakeClock(START)
    store = MemoryTokenStore()
    with FakeGong(rate_limit=3, rate_clock=clock) as gong:
        gong.add_customer("acme")
        authorize_into(gong, store)
        limiter = RateLimiter(store, RateLimit(), clock=clock, sleep=clock.advance)
        sessions = [
            gong_session(gong.oauth_client(), store, "acme", rate_limiter=limiter) for _ in range(3)
        ]
        for i in range(30):
            assert sessions[i % 3].get("/v2/users").status_code == 200
        assert gong.stats.api_429["acme"] == 0
        assert clock() - START == pytest.approx(29 / 2.85)


def test_unpaced_sessions_do_get_429s() -> None:
    """The same calls with pacing off (retry-only): FakeGong refuses most of them."""
    clock = FakeClock(START)
    store = MemoryTokenStore()
    with FakeGong(rate_limit=3, rate_clock=clock) as gong:
        gong.add_customer("acme")
        authorize_into(gong, store)
        session = gong_session(gong.oauth_client(), store, "acme", rate_limit=None, retries=0)
        statuses = [session.get("/v2/users").status_code for _ in range(10)]
        assert statuses.count(429) == 7


def test_a_429_from_gong_pauses_the_other_sessions(world: World) -> None:
    with FakeGong() as gong:
        gong.add_customer("acme")
        authorize_into(gong, world.stores[0])
        first = gong_session(gong.oauth_client(), world.stores[0], "acme", rate_limiter=world.a)
        second = gong_session(gong.oauth_client(), world.stores[1], "acme", rate_limiter=world.b)
        gong.inject("api", "status", status=429, retry_after=20)
        assert first.get("/v2/users").status_code == 200  # the retry waited out the pause
        assert world.clock() == pytest.approx(START + 20.0)
        assert second.get("/v2/users").status_code == 200
        interval = world.a.limit.budget("acme").interval
        assert world.clock() == pytest.approx(START + 20.0 + interval)  # behind the retry
        gong.inject("api", "status", status=429, retry_after=7200)  # Gong's daily 429: hours
        with pytest.raises(RateLimitExceeded):
            first.get("/v2/users")
        calls = gong.stats.api_calls["acme"]
        with pytest.raises(RateLimitExceeded):  # everyone else fails fast, sending nothing
            second.get("/v2/users")
        assert gong.stats.api_calls["acme"] == calls


def test_retry_policy_keeps_its_settings_across_attempts() -> None:
    # urllib3 rebuilds Retry after every attempt with new(): our settings must survive it.
    calls: list[float | None] = []
    policy = gong_retry(total=3, max_retry_after=5.0, on_429=calls.append)
    again = policy.new(total=2).new(total=1)
    assert again.max_retry_after == 5.0
    assert again.on_429 is policy.on_429


def test_a_spent_day_fails_fast_in_the_session_without_sending() -> None:
    clock = FakeClock(START)
    store = MemoryTokenStore()
    with FakeGong() as gong:
        gong.add_customer("acme")
        authorize_into(gong, store)
        limiter = RateLimiter(store, RateLimit(per_day=2), clock=clock, sleep=clock.advance)
        session = gong_session(gong.oauth_client(), store, "acme", rate_limiter=limiter)
        assert [session.get("/v2/users").status_code for _ in range(2)] == [200, 200]
        with pytest.raises(DailyQuotaExhausted, match="acme") as caught:
            session.get("/v2/users")
        assert gong.stats.api_calls["acme"] == 2  # the third call never left
        assert caught.value.retry_at == pytest.approx((START // 86_400 + 1) * 86_400)


@pytest.mark.parametrize(
    "value", ["soon", "-5", "1e3", "", "9" * 5000, "Wed, 21 Oct 999999999 07:28:00 GMT"]
)
def test_a_429_with_an_unreadable_retry_after_pauses_everyone_by_default(
    value: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Gong sends whole seconds, but a proxy may not: an unreadable Retry-After is absent
    # (everyone pauses DEFAULT_PAUSE, then the retry goes), never an InvalidHeader traceback.
    clock = FakeClock(START)
    store = MemoryTokenStore()
    with FakeGong() as gong:
        gong.add_customer("acme")
        authorize_into(gong, store)
        limiter = RateLimiter(store, RateLimit(), clock=clock, sleep=clock.advance)
        session = gong_session(gong.oauth_client(), store, "acme", rate_limiter=limiter)
        gong.inject("api", "status", status=429, headers={"Retry-After": value})
        with caplog.at_level(logging.INFO, logger="gong_authlib"):
            assert session.get("/v2/users").status_code == 200
        assert clock() == pytest.approx(START + 1.0)  # the default pause, then the retry
        assert any("429" in m and "acme" in m for m in caplog.messages)
        unpaced = gong_session(gong.oauth_client(), store, "acme", rate_limit=None)
        gong.inject("api", "status", status=429, headers={"Retry-After": value})
        assert unpaced.get("/v2/users").status_code == 200  # the retry policy copes alone too


def test_a_pause_is_capped_at_a_day(world: World) -> None:
    # Nothing in Gong's budget lasts longer than its day: a huge or endless Retry-After
    # (the httpx glue hands it over as it came) must not lock a company out for good.
    world.a.pause("acme", float("nan"))  # unreadable: the default pause
    assert world.stores[1].rate_paused_for("acme", now=START) == pytest.approx(1.0)
    world.a.pause("acme", 10.0**12)
    assert world.stores[1].rate_paused_for("acme", now=START) == pytest.approx(86_400.0)
    world.b.pause("acme", float("inf"))
    with pytest.raises(RateLimitExceeded) as caught:
        world.b.acquire("acme")
    assert caught.value.retry_at == pytest.approx(START + 86_400.0)


def test_looking_for_a_pause_does_not_queue_behind_reservations_on_sqlite(tmp_path: Path) -> None:
    # A worker looks for a pause just before its slot: waiting there for the write lock that
    # every reservation takes (SQLite's busy back-off sleeps up to 100 ms) sends it late.
    store = SQLiteTokenStore(tmp_path / "t.db", busy_timeout=0.2)
    limiter = RateLimiter(store, RateLimit())
    limiter.pause("acme", 30.0)
    writer = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process in the middle of a reservation
    try:
        assert 29.0 < store.rate_paused_for("acme") <= 30.0
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        store.close()


def test_looking_for_a_pause_does_not_queue_behind_reservations_on_postgres(
    postgres_server: PostgresServer,
) -> None:
    prefix = f"r_{uuid.uuid4().hex[:12]}"
    dsn = postgres_server.dsn()
    store = PostgresTokenStore(dsn, table_prefix=prefix, statement_timeout=1.0)
    limiter = RateLimiter(store, RateLimit())
    limiter.pause("acme", 30.0)
    with psycopg.connect(dsn) as holder:  # another worker in the middle of a reservation
        holder.execute(f"SELECT * FROM {prefix}_rate WHERE customer = 'acme' FOR UPDATE")  # noqa: S608
        assert 29.0 < store.rate_paused_for("acme") <= 30.0
    store.close()


def test_a_503_asking_for_hours_comes_back_instead_of_being_slept_on() -> None:
    # urllib3 honours Retry-After on 503 as on 429 (up to 6 hours, or without bound in older
    # versions): a maintenance page asking for an hour must come back, not block the thread.
    policy = gong_retry(total=3, max_retry_after=60.0)
    pool = HTTPConnectionPool("127.0.0.1")
    for status, retry_after in ((503, "3600"), (429, "3600")):
        answer = HTTPResponse(body=b"", headers={"Retry-After": retry_after}, status=status)
        with pytest.raises(MaxRetryError):
            policy.increment("GET", "/v2/users", response=answer, _pool=pool)
    short = HTTPResponse(body=b"", headers={"Retry-After": "2"}, status=503)
    assert policy.increment("GET", "/v2/users", response=short, _pool=pool).total == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"per_second": "3"}, "per_second must be a positive number, not '3'"),
        ({"per_second": True}, "per_second must be a positive number, not True"),
        ({"per_second": 1e-320}, "per_second is too small"),
        ({"per_day": True}, "per_day must be a positive integer, not True"),
        ({"margin": "0.1"}, "margin is a fraction in"),
        ({"max_wait": None}, "max_wait must be 0 or more seconds, not None"),
        ({"overrides": {"bigco": 10}}, "override for 'bigco' must be"),
        ({"overrides": {"bigco": (0, 100)}}, "'bigco': per_second must be a positive number"),
        ({"overrides": {"bigco": (10, 1.5)}}, "'bigco': per_day must be a positive integer"),
    ],
)
def test_a_bad_limit_is_a_clear_value_error(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        RateLimit(**options)  # type: ignore[arg-type]


def test_a_wall_clock_stepped_back_does_not_lock_the_company_out(world: World) -> None:
    # SQLite and memory use this machine's wall clock, Redis and PostgreSQL their server's:
    # when it is stepped back (NTP, a VM resumed), the slots already handed out and the pause
    # lie an hour "ahead". They move onto the new clock: no hour of RateLimitExceeded.
    for _ in range(3):
        world.a.acquire("acme")
    world.a.pause("acme", 10.0)
    budget = world.a.limit.budget("acme")
    earlier = FakeClock(world.clock() - 3600.0)
    stepped = RateLimiter(world.stores[1], world.a.limit, clock=earlier, sleep=earlier.advance)
    assert world.stores[1].rate_paused_for("acme", now=earlier()) == pytest.approx(10.0)
    assert stepped.acquire("acme") == pytest.approx(10.0)  # the pause, on the new clock
    assert stepped.acquire("acme") == pytest.approx(budget.interval)  # then the pace


def test_a_clock_reading_a_little_behind_is_jitter_not_a_step() -> None:
    budget = RateLimit().budget("acme")
    state = RateState(next_slot=START + 1.0, seen=START)
    # A worker whose reading waited on a lock reads a moment behind: its slot is unmoved.
    _, reservation = reserve(state, START - 2.0, budget)
    assert reservation.wait == pytest.approx(3.0)


def test_a_rate_table_from_before_the_clock_step_column_is_upgraded(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    old_columns = (
        "(customer TEXT PRIMARY KEY, next_slot REAL NOT NULL, paused_until REAL NOT NULL,"
        " day INTEGER NOT NULL, day_count INTEGER NOT NULL)"
    )
    day = int(START // 86_400)
    with sqlite3.connect(tmp_path / "t.db") as db:
        db.execute(f"CREATE TABLE rate_limits {old_columns}")
        db.execute("INSERT INTO rate_limits VALUES ('acme', ?, 0, ?, 7)", (START + 5.0, day))
    prefix = f"r_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server.dsn()) as db:
        db.execute(f"CREATE TABLE {prefix}_rate {old_columns.replace('REAL', 'float8')}")
        db.execute(
            f"INSERT INTO {prefix}_rate VALUES ('acme', %s, 0, %s, 7)",  # noqa: S608
            (START + 5.0, day),
        )
    stores = [
        SQLiteTokenStore(tmp_path / "t.db"),
        PostgresTokenStore(postgres_server.dsn(), table_prefix=prefix),
    ]
    for store in stores:
        clock = FakeClock(START)
        limiter = RateLimiter(store, RateLimit(per_day=8), clock=clock, sleep=clock.advance)
        assert limiter.acquire("acme") == pytest.approx(5.0)  # the old row's slot stands
        with pytest.raises(DailyQuotaExhausted):  # and its count: 7 + 1 of 8
            limiter.acquire("acme")
        store.close()
