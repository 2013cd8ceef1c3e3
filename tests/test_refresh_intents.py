"""Refreshes that survive the store failing (issue 26), with real Redis servers and real
processes: a store outage after Gong answered that outlasts the lease, with a second worker
waiting; the pair written as soon as the store is back, with no further call; an emptied store
re-seeded from a worker's memory; a customer deleted on purpose staying deleted."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable

import pytest
import redis

from gong_authlib import TokenNotFound, TokenStoreError, gong_session
from gong_authlib.stores import RedisTokenStore
from gong_authlib.testing import FakeGong
from gong_authlib.token import Token
from tests.authflow import authorize_into
from tests.helpers import run_cli
from tests.intent_worker import WorkerPlan, call_until_answered
from tests.reliability import Reliability
from tests.servers import RedisServer
from tests.storm import SharedClock
from tests.test_store_outages import own_redis  # noqa: F401 - a fixture

pytestmark = pytest.mark.reliability

LEASE = 1.0


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = 20.0) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, f"timed out waiting for {what}"
        time.sleep(0.01)
    return time.monotonic() - started


def _refresh_token_of(store: RedisTokenStore) -> str | None:
    try:
        token = store.get("acme")
    except TokenStoreError:
        return None
    return None if token is None else token.refresh_token


@pytest.mark.slow
def test_a_store_outage_longer_than_the_lease_after_gong_answered_loses_nothing(
    own_redis: RedisServer,  # noqa: F811
    reliability: Reliability,
) -> None:
    """Redis stopped (SIGSTOP) when the token call leaves, for 3 s after Gong answered (the
    lease is 1 s); a second process keeps calling for the customer meanwhile. Before issue
    26 the second process took the expired lease once Redis was back, presented the spent
    refresh token and got invalid_grant, and the pair the first held was written only on
    its next call for that customer."""
    assert own_redis.process is not None
    pid = own_redis.process.pid
    context = multiprocessing.get_context("spawn")
    clock_value = context.Value("d", 1_800_000_000.0)
    clock = SharedClock(clock_value)
    store = RedisTokenStore(own_redis.url, socket_timeout=0.3)
    with FakeGong(clock=clock) as gong:
        gong.add_customer("acme")
        original = authorize_into(gong, store)
        plan = WorkerPlan(
            own_redis.url,
            gong.client_id,
            gong.client_secret,
            gong.token_url,
            gong.trusted_origins,
            LEASE,
        )
        ready, go, results = context.Event(), context.Event(), context.Queue()
        second = context.Process(
            target=call_until_answered, args=(plan, clock_value, ready, go, results)
        )
        second.start()
        assert ready.wait(120), "the second process did not start"  # its store opened
        first = gong_session(
            gong.oauth_client(), store, "acme", rate_limit=None, retries=0, lock_lease=LEASE
        )
        assert first.get("/v2/users").status_code == 200
        clock.advance(86_400)
        gong.inject("token", "delay", seconds=0.3)
        outcome: list[BaseException | int] = []

        def call() -> None:
            try:
                outcome.append(first.get("/v2/users").status_code)
            except TokenStoreError as error:
                outcome.append(error)

        caller = threading.Thread(target=call)
        caller.start()
        try:
            _wait_for(lambda: not gong.emulator.faults, "the token call")
            os.kill(pid, signal.SIGSTOP)
            go.set()  # the second process starts calling, into the outage
            _wait_for(lambda: gong.stats.refreshes("acme") == 1, "Gong's answer")
            caller.join(timeout=60)
            time.sleep(3.0)  # the outage outlasts the lease by 2 s after the first gave up
        finally:
            os.kill(pid, signal.SIGCONT)
        assert len(outcome) == 1, "the first worker's call did not end"
        assert isinstance(outcome[0], TokenStoreError), outcome  # the first's write failed...
        # ...and its pair lands with no further call from it, as soon as Redis answers.
        landed = _wait_for(
            lambda: _refresh_token_of(store) not in (None, original.refresh_token),
            "the pair in the store",
            seconds=20,
        )
        status, errors, revoked = results.get(timeout=40)
        second.join(timeout=10)
        in_memory = first.auth.customer_token.current
        assert in_memory is not None
        assert _refresh_token_of(store) == in_memory.token.refresh_token
        assert (status, revoked) == (200, 0), (status, errors, revoked)
        assert sum(gong.stats.invalid_grant.values()) == 0
        assert gong.stats.refreshes("acme") == 1
        assert store.status("acme").active
    reliability.record(
        "fault",
        "Redis stopped (SIGSTOP) mid-refresh past the lease, a second process calling",
        f"1 s lease; stopped when the token call left, resumed 3 s after the first worker's "
        f"write gave up; the second made {errors} calls into the outage",
        f"0 invalid_grant; 1 refresh; the pair stored {landed:.1f} s after Redis resumed, with "
        "no further call from its holder; the second process adopted it (200)",
    )


def _emptied(url: str) -> None:
    redis.Redis.from_url(url).flushall()  # a restart without persistence


def test_an_emptied_store_is_reseeded_from_memory_and_reported(
    fake_gong: FakeGong,
    own_redis: RedisServer,  # noqa: F811
    reliability: Reliability,
) -> None:
    store = RedisTokenStore(own_redis.url)
    original = authorize_into(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(), store, "acme", rate_limit=None)
    assert session.get("/v2/users").status_code == 200
    checked = run_cli("tokens", "check", "--store", own_redis.url)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    _emptied(own_redis.url)
    fake_gong.clock.advance(86_400)  # the next call takes the stale path, to the store
    assert session.get("/v2/users").status_code == 200  # before: TokenNotFound
    stored = store.get("acme")
    assert stored is not None
    assert stored.refresh_token != original.refresh_token  # put back, then refreshed
    assert sum(fake_gong.stats.invalid_grant.values()) == 0
    reset = store.reset_record()
    assert reset is not None
    assert "acme" in reset.detail
    checked = run_cli("tokens", "check", "--store", own_redis.url)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "STORE RESET" in checked.stdout
    assert "emptied or replaced" in checked.stdout
    cleared = run_cli("tokens", "check", "--clear-reset", "--store", own_redis.url)
    assert cleared.returncode == 0, cleared.stdout + cleared.stderr
    assert "cleared" in cleared.stderr
    assert store.reset_record() is None
    other = RedisTokenStore(own_redis.url)  # another worker: the store's identity is settled
    assert not other.was_reset()
    other.identity_seen()
    assert not other.was_reset()
    reliability.record(
        "fault",
        "Redis emptied (FLUSHALL, as a restart without persistence)",
        "a worker holding the customer's pair in memory, token stale",
        "the pair put back and refreshed (200, 0 invalid_grant); `tokens check` exits 1 "
        "with STORE RESET (it said 0 customers, exit 0, before)",
    )


def test_a_customer_deleted_on_purpose_stays_deleted(
    fake_gong: FakeGong,
    own_redis: RedisServer,  # noqa: F811
) -> None:
    store = RedisTokenStore(own_redis.url)
    authorize_into(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(), store, "acme", rate_limit=None)
    assert session.get("/v2/users").status_code == 200
    deleted = run_cli("tokens", "delete", "--customer", "acme", "--yes", "--store", own_redis.url)
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    fake_gong.clock.advance(86_400)
    with pytest.raises(TokenNotFound):
        session.get("/v2/users")
    assert store.get("acme") is None
    assert store.reset_record() is None
    assert fake_gong.stats.refreshes("acme") == 0


def _same(one: Token | None, other: Token | None) -> bool:
    return one is not None and one == other
