"""Refresh storms: many threads and processes, one expired token, exactly one refresh.

FakeGong's refresh tokens are strictly single-use: a second refresh with the same token is an
``invalid_grant``, so any refresh outside the lock discipline shows up in the counters.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections import Counter
from pathlib import Path

import pytest

from gong_authlib import gong_session
from gong_authlib.stores import MemoryTokenStore, SQLiteTokenStore, TokenStore
from gong_authlib.testing import FakeGong
from tests.authflow import authorize_into
from tests.storm import SharedClock, StormPlan, hold_lock_until_killed, storm_worker


def _thread_storm(gong: FakeGong, store: TokenStore, threads: int, cycles: int) -> Counter[int]:
    client = gong.oauth_client()
    sessions = [gong_session(client, store, "acme", retries=0) for _ in range(threads)]
    barrier = threading.Barrier(threads + 1)
    statuses: Counter[int] = Counter()
    errors: list[BaseException] = []
    guard = threading.Lock()

    def run(index: int) -> None:
        for _ in range(cycles):
            barrier.wait(timeout=30)
            try:
                status = sessions[index].get("/v2/users").status_code
                with guard:
                    statuses[status] += 1
            except BaseException as exc:  # the test reports it below
                errors.append(exc)
            barrier.wait(timeout=30)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    # Gong takes a while to answer a refresh; the wait widens the window a refresh outside
    # the locks would need to show up as an invalid_grant.
    gong.inject("token", "delay", seconds=0.05, times=10_000)
    for _ in range(cycles):
        gong.clock.advance(86_400)  # every token in every session is now expired
        barrier.wait(timeout=30)
        barrier.wait(timeout=30)
    for worker in workers:
        worker.join()
    assert errors == []
    return statuses


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_thread_storm_refreshes_once_per_expiry(
    fake_gong: FakeGong, tmp_path: Path, kind: str
) -> None:
    store: TokenStore = (
        MemoryTokenStore() if kind == "memory" else SQLiteTokenStore(tmp_path / "t.db")
    )
    authorize_into(fake_gong, store)
    statuses = _thread_storm(fake_gong, store, threads=32, cycles=5)
    assert statuses == {200: 32 * 5}
    assert fake_gong.stats.refreshes("acme") == 5
    assert sum(fake_gong.stats.invalid_grant.values()) == 0


@pytest.mark.slow
def test_process_storm_on_one_sqlite_file(tmp_path: Path) -> None:
    processes, threads, cycles = 4, 8, 50
    context = multiprocessing.get_context("spawn")
    clock_value = context.Value("d", 1_800_000_000.0)
    clock = SharedClock(clock_value)
    db_path = str(tmp_path / "tokens.db")
    with FakeGong(clock=clock) as gong:
        gong.add_customer("acme")
        store = SQLiteTokenStore(db_path)
        authorize_into(gong, store)
        plan = StormPlan(
            db_path=db_path,
            client_id=gong.client_id,
            client_secret=gong.client_secret,
            token_url=gong.token_url,
            origins=gong.trusted_origins,
            threads=threads,
            cycles=cycles,
        )
        barrier = context.Barrier(processes * threads + 1)
        results = context.Queue()
        workers = [
            context.Process(
                target=storm_worker,
                args=(plan, clock_value, barrier, results),
            )
            for _ in range(processes)
        ]
        for worker in workers:
            worker.start()
        gong.inject("token", "delay", seconds=0.05, times=10_000)  # see _thread_storm
        for _ in range(cycles):
            clock.advance(86_400)
            barrier.wait(timeout=120)  # every worker thread makes its call...
            barrier.wait(timeout=120)  # ...and has its answer
        reports = [results.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)
        assert all(worker.exitcode == 0 for worker in workers)
        assert len({pid for pid, _, _ in reports}) == processes
        assert [errors for _, _, errors in reports] == [[]] * processes
        total: Counter[int] = Counter()
        for _, statuses, _ in reports:
            total.update(statuses)
        assert total == {200: processes * threads * cycles}
        assert gong.stats.refreshes("acme") == cycles
        assert sum(gong.stats.invalid_grant.values()) == 0


@pytest.mark.slow
def test_a_killed_lock_holder_delays_others_only_until_its_lease_ends(
    fake_gong: FakeGong, tmp_path: Path
) -> None:
    db_path = str(tmp_path / "tokens.db")
    store = SQLiteTokenStore(db_path)
    before = authorize_into(fake_gong, store)
    context = multiprocessing.get_context("spawn")
    locked = context.Event()
    holder = context.Process(target=hold_lock_until_killed, args=(db_path, locked))
    holder.start()
    assert locked.wait(timeout=30)
    assert holder.pid is not None
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(timeout=10)
    assert holder.exitcode == -signal.SIGKILL

    fake_gong.clock.advance(86_400)
    session = gong_session(fake_gong.oauth_client(), store, "acme", lock_timeout=10)
    assert session.get("/v2/users").status_code == 200  # waited out the dead holder's lease
    assert fake_gong.stats.refreshes("acme") == 1
    after = store.get("acme")
    assert after is not None
    assert after.refresh_token != before.refresh_token  # the new pair was persisted
