"""A second app server for the refresh-intent tests: a spawned interpreter that calls for
customer acme until it gets an answer, through a store outage, and reports what it saw."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from gong_authlib import GongOAuthClient, ReauthorizationRequired, TokenStoreError, gong_session
from gong_authlib.stores import RedisTokenStore
from tests.storm import SharedClock


@dataclass(frozen=True)
class WorkerPlan:
    redis_url: str
    client_id: str
    client_secret: str
    token_url: str
    origins: tuple[str, ...]
    lock_lease: float


def call_until_answered(plan: WorkerPlan, clock_value: Any, go: Any, results: Any) -> None:
    """From ``go`` on, call every 50 ms for up to 30 s; report (status, store errors,
    ReauthorizationRequired seen)."""
    store = RedisTokenStore(plan.redis_url, socket_timeout=0.3)
    client = GongOAuthClient(
        plan.client_id,
        plan.client_secret,
        token_url=plan.token_url,
        trusted_api_origins=plan.origins,
        clock=SharedClock(clock_value),
        backoff_factor=0,
    )
    session = gong_session(
        client, store, "acme", rate_limit=None, retries=0, lock_lease=plan.lock_lease
    )
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
