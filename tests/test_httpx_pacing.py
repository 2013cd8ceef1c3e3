"""httpx clients paced by the same RateLimiter and store state as gong_session.

As in test_ratelimit.py, a FakeClock stands for time and the limiter's sleep moves it, so every
wait is exact and nothing sleeps; FakeGong enforces Gong's strict per-second limit on that
clock. Only the event-loop test runs in real time: it is about the loop, not the budget.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from gong_authlib import (
    DailyQuotaExhausted,
    RateLimit,
    RateLimiter,
    RateLimitExceeded,
    gong_async_client,
    gong_httpx_client,
    gong_session,
)
from gong_authlib.stores import MemoryTokenStore, TokenStore
from gong_authlib.testing import FakeClock, FakeGong
from tests.authflow import authorize_into
from tests.stores import two_stores

KINDS = ["memory", "sqlite", "redis", "postgres"]
START = 86_400.0 * 20_000 + 3600  # 01:00 UTC on some day
MIDNIGHT = (START // 86_400 + 1) * 86_400


class World:
    """Two workers on one backend (two store objects, as two app servers), each with its own
    limiter, sharing one FakeClock that sleeping moves."""

    def __init__(self, stores: tuple[TokenStore, ...], limit: RateLimit) -> None:
        self.clock = FakeClock(START)
        self.stores = stores
        self.a, self.b = (
            RateLimiter(store, limit, clock=self.clock, sleep=self.clock.advance)
            for store in stores
        )


@pytest.fixture(params=KINDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    stores = two_stores(request.param, request, tmp_path)
    yield World(stores, RateLimit())
    for store in set(stores):
        store.close()


def _sync_calls(gong: FakeGong, store: TokenStore, calls: int, **options: object) -> list[int]:
    with gong_httpx_client(gong.oauth_client(), store, "acme", **options) as client:  # type: ignore[arg-type]
        return [client.get("/v2/users").status_code for _ in range(calls)]


def _async_calls(gong: FakeGong, store: TokenStore, calls: int, **options: object) -> list[int]:
    async def main() -> list[int]:
        async with gong_async_client(gong.oauth_client(), store, "acme", **options) as client:  # type: ignore[arg-type]
            return [(await client.get("/v2/users")).status_code for _ in range(calls)]

    return asyncio.run(main())


CALLERS: dict[str, Callable[..., list[int]]] = {"sync": _sync_calls, "async": _async_calls}


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_paced_httpx_clients_never_exceed_gongs_strict_limit(world: World, flavour: str) -> None:
    """Both workers' clients share one budget through the store against FakeGong's strict
    sliding second: no 429, and the calls are spread at 95% of Gong's rate."""
    with FakeGong(rate_limit=3, rate_clock=world.clock) as gong:
        gong.add_customer("acme")
        authorize_into(gong, world.stores[0])
        call = CALLERS[flavour]
        for limiter, store in ((world.a, world.stores[0]), (world.b, world.stores[1])) * 3:
            assert call(gong, store, 5, rate_limiter=limiter) == [200] * 5
        assert gong.stats.api_429["acme"] == 0
        assert gong.stats.api_calls["acme"] == 30
        assert world.clock() - START == pytest.approx(29 / 2.85)


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_unpaced_httpx_clients_do_get_429s(flavour: str) -> None:
    """The same calls with pacing off (retry-only): FakeGong refuses most of them."""
    clock = FakeClock(START)
    store = MemoryTokenStore()
    with FakeGong(rate_limit=3, rate_clock=clock) as gong:
        gong.add_customer("acme")
        authorize_into(gong, store)
        statuses = CALLERS[flavour](gong, store, 10, rate_limit=None, retries=0)
        assert statuses.count(429) == 7


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_a_429_to_httpx_pauses_the_requests_session_sharing_the_store(
    world: World, flavour: str
) -> None:
    """A mixed fleet: the httpx client's 429 is a pause in the store, so the requests worker
    waits it out too; a daily 429 stops both, the second sending nothing."""
    with FakeGong() as gong:
        gong.add_customer("acme")
        authorize_into(gong, world.stores[0])
        session = gong_session(gong.oauth_client(), world.stores[1], "acme", rate_limiter=world.b)
        call = CALLERS[flavour]
        gong.inject("api", "status", status=429, retry_after=20)
        assert call(gong, world.stores[0], 1, rate_limiter=world.a) == [200]  # retried after
        assert world.clock() == pytest.approx(START + 20.0)  # the pause, in the store
        assert gong.stats.api_429["acme"] == 1
        assert session.get("/v2/users").status_code == 200
        interval = world.a.limit.budget("acme").interval
        assert world.clock() == pytest.approx(START + 20.0 + interval)  # behind the retry

        gong.inject("api", "status", status=429, retry_after=7200)  # Gong's daily 429: hours
        with pytest.raises(RateLimitExceeded, match="acme") as caught:
            call(gong, world.stores[0], 1, rate_limiter=world.a)
        assert caught.value.retry_at == pytest.approx(world.clock() + 7200, abs=1)
        calls = gong.stats.api_calls["acme"]
        with pytest.raises(RateLimitExceeded):  # the requests worker fails fast, sending nothing
            session.get("/v2/users")
        assert gong.stats.api_calls["acme"] == calls


def test_a_429_to_the_requests_session_pauses_httpx_clients(world: World) -> None:
    with FakeGong() as gong:
        gong.add_customer("acme")
        authorize_into(gong, world.stores[0])
        session = gong_session(gong.oauth_client(), world.stores[0], "acme", rate_limiter=world.a)
        gong.inject("api", "status", status=429, retry_after=15)
        assert session.get("/v2/users").status_code == 200
        assert world.clock() == pytest.approx(START + 15.0)
        for call in CALLERS.values():
            assert call(gong, world.stores[1], 1, rate_limiter=world.b) == [200]
        interval = world.a.limit.budget("acme").interval
        assert world.clock() == pytest.approx(START + 15.0 + 2 * interval)


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_a_spent_day_fails_fast_without_sending(flavour: str) -> None:
    clock = FakeClock(START)
    store = MemoryTokenStore()
    with FakeGong() as gong:
        gong.add_customer("acme")
        authorize_into(gong, store)
        limiter = RateLimiter(store, RateLimit(per_day=2), clock=clock, sleep=clock.advance)
        assert CALLERS[flavour](gong, store, 2, rate_limiter=limiter) == [200, 200]
        with pytest.raises(DailyQuotaExhausted, match="acme") as caught:
            CALLERS[flavour](gong, store, 1, rate_limiter=limiter)
        assert gong.stats.api_calls["acme"] == 2  # the third call never left
        assert caught.value.retry_at == pytest.approx(MIDNIGHT)


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_retries_spent_on_429s_raise_rate_limit_exceeded(flavour: str) -> None:
    """Paced, a 429 handed back is raised (as on requests), not returned; each retry took a
    slot after the pause."""
    clock = FakeClock(START)
    store = MemoryTokenStore()
    with FakeGong() as gong:
        gong.add_customer("acme")
        authorize_into(gong, store)
        limiter = RateLimiter(store, RateLimit(), clock=clock, sleep=clock.advance)
        gong.inject("api", "status", status=429, retry_after=2, times=3)
        with pytest.raises(RateLimitExceeded, match="after retries"):
            CALLERS[flavour](gong, store, 1, rate_limiter=limiter, retries=2)
        assert gong.stats.api_429["acme"] == 3
        assert clock() - START == pytest.approx(4.0)  # two pauses of 2 s, waited in the store


def test_the_loop_keeps_ticking_while_tasks_wait_for_their_slots() -> None:
    """Real time: eight tasks share a budget of 4 calls a second, so the last waits about
    1.8 s for its slot; a 20 ms ticker on the same loop never stalls meanwhile."""
    store = MemoryTokenStore()
    limit = RateLimit(per_second=4)
    interval = limit.budget("acme").interval
    gaps: list[float] = []

    async def ticker(stop: asyncio.Event) -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.02)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    async def main(gong: FakeGong) -> tuple[list[int], float]:
        stop = asyncio.Event()
        ticking = asyncio.create_task(ticker(stop))
        async with gong_async_client(
            gong.oauth_client(), store, "acme", rate_limit=limit
        ) as client:
            started = time.perf_counter()
            responses = await asyncio.gather(*(client.get("/v2/users") for _ in range(8)))
            took = time.perf_counter() - started
        stop.set()
        await ticking
        return [r.status_code for r in responses], took

    with FakeGong() as gong:
        gong.add_customer("acme")
        authorize_into(gong, store)
        statuses, took = asyncio.run(main(gong))
    assert statuses == [200] * 8
    assert took >= 7 * interval * 0.98  # the tasks really were paced...
    assert len(gaps) >= 40  # ...the ticker ran all along (50 ticks a second)...
    assert max(gaps) < 0.2, f"the event loop stalled for {max(gaps) * 1e3:.0f} ms"


def test_rate_limit_none_switches_pacing_off(fake_gong: FakeGong) -> None:
    store = MemoryTokenStore()
    authorize_into(fake_gong, store)
    with gong_httpx_client(fake_gong.oauth_client(), store, "acme", rate_limit=None) as client:
        assert client.limiter is None
    limiter = RateLimiter(store, RateLimit(per_day=5))
    with gong_httpx_client(fake_gong.oauth_client(), store, "acme", rate_limiter=limiter) as client:
        assert client.limiter is limiter
    overridden = RateLimit().with_override("acme", per_second=10, per_day=100_000)
    client_ = gong_async_client(fake_gong.oauth_client(), store, "acme", rate_limit=overridden)
    assert client_.limiter is not None
    assert client_.limiter.limit.budget("acme").per_day == 100_000
    assert isinstance(client_, httpx.AsyncClient)
