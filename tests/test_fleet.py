"""Processes sharing a store never exceed Gong's strict per-company limit (real time).

Pacing across processes cannot be faked with a FakeClock, so these run a few seconds of
real traffic and assert on counts only: FakeGong's 429s, and calls served per window.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gong_authlib import RateLimit
from tests.fleet import run_fleet

# A wider margin than the default's 5%: these tests are about sharing the budget across
# processes, not about timing jitter on a busy CI machine (the benchmark measures that).
LIMIT = RateLimit(margin=0.2)

pytestmark = pytest.mark.slow  # spawned interpreters, like the process storms


def _url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path}/fleet.db"
    if kind == "redis":
        return str(request.getfixturevalue("redis_server").url)
    dsn: str = request.getfixturevalue("postgres_server").dsn()
    return dsn


@pytest.mark.parametrize("kind", ["sqlite", "redis", "postgres"])
def test_processes_sharing_a_store_never_exceed_the_limit(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    result = run_fleet(
        _url(kind, request, tmp_path),
        processes=3,
        threads=2,
        customers=1,
        seconds=2.0,
        rate_limit=LIMIT,
        warmup=0.5,
    )
    assert result.total_refused == 0, result
    assert result.outcomes.get("RateLimitExceeded", 0) == 0, result
    # 3 a second x 0.8 over 2 s is 4.8 calls; a strict 3/s window allows at most 7.
    assert 3 <= result.accepted <= 7, result


def test_without_pacing_the_same_fleet_is_refused(tmp_path: Path) -> None:
    result = run_fleet(
        f"sqlite:///{tmp_path}/fleet.db",
        processes=2,
        threads=2,
        customers=1,
        seconds=1.0,
        rate_limit=None,
        warmup=0.2,
    )
    assert result.total_refused > 0


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_a_mixed_fleet_of_requests_and_httpx_async_shares_the_budget(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Two requests workers (threads) and two httpx async workers (tasks) on one store:
    one budget, no 429, every call served."""
    result = run_fleet(
        _url(kind, request, tmp_path),
        processes=4,
        threads=2,
        customers=1,
        seconds=2.0,
        rate_limit=LIMIT,
        warmup=0.5,
        front_ends=("requests", "httpx-async"),
    )
    assert result.total_refused == 0, result
    assert result.outcomes.get("RateLimitExceeded", 0) == 0, result
    assert set(result.outcomes) == {"200"}, result
    assert 3 <= result.accepted <= 7, result


def test_without_pacing_a_mixed_fleet_is_refused(tmp_path: Path) -> None:
    result = run_fleet(
        f"sqlite:///{tmp_path}/fleet.db",
        processes=2,
        threads=2,
        customers=1,
        seconds=1.0,
        rate_limit=None,
        warmup=0.2,
        front_ends=("httpx-async",),
    )
    assert result.total_refused > 0
