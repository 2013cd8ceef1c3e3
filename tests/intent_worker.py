"""A second app server for the refresh-intent tests: a spawned interpreter that calls for
customer acme until it gets an answer, through a store outage, and reports what it saw."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from gong_authlib import ReauthorizationRequired, TokenStoreError, gong_session
from gong_authlib.stores import RedisTokenStore
from tests.storm import worker_client


@dataclass(frozen=True)
class WorkerPlan:
    redis_url: str
    client_id: str
    client_secret: str
    token_url: str
    origins: tuple[str, ...]
    lock_lease: float


def call_until_answered(
    plan: WorkerPlan, clock_value: Any, ready: Any, go: Any, results: Any
) -> None:
    """Open the store and say ``ready``; from ``go`` on, call every 50 ms for up to 30 s;
    report (status, store errors, ReauthorizationRequired seen)."""
    store = RedisTokenStore(plan.redis_url, socket_timeout=0.3)
    client = worker_client(
        plan.client_id, plan.client_secret, plan.token_url, plan.origins, clock_value
    )
    session = gong_session(
        client, store, "acme", rate_limit=None, retries=0, lock_lease=plan.lock_lease
    )
    ready.set()
    go.wait(60)
    errors, revoked, status = 0, 0, 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            status = session.get("/v2/users").status_code
            break
        except TokenStoreError:
            errors += 1
        except ReauthorizationRequired:
            revoked += 1
            break
        time.sleep(0.05)
    results.put((status, errors, revoked))
