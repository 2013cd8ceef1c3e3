"""Token age against the reader's clock (issue 26, item 5): a worker two hours ahead stores
issue times in the others' future; their age is unknown there, never negative, and the skew
is logged once per process."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

import pytest

from gong_authlib import gong_session
from gong_authlib.stores import MemoryTokenStore
from gong_authlib.testing import FakeGong
from gong_authlib.tokens import customer_token
from tests.authflow import authorize_into
from tests.test_contract_tokens import make_token


def test_age_is_judged_on_the_readers_clock_and_unknown_when_negative() -> None:
    token = make_token(1, issued_at=1_000.0)
    assert token.age(1_060.0) == 60.0
    assert token.age(1_000.0) == 0.0
    assert token.age(999.0) is None  # issued in the reader's future: unknown, not -1
    assert make_token(1, issued_at=0.0).age(1_000.0) is None  # never kept


def test_a_store_written_by_a_worker_ahead_is_read_and_the_skew_logged_once(
    fake_gong: FakeGong, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(customer_token, "_skew_reported", threading.Event())
    store = MemoryTokenStore()
    issued = authorize_into(fake_gong, store)
    ahead = replace(issued, issued_at=fake_gong.clock() + 7_150)  # as a worker 2 h ahead
    store.put("acme", ahead)
    with caplog.at_level(logging.WARNING, logger="gong_authlib.auth"):
        for _ in range(3):  # three workers of this process read it
            session = gong_session(fake_gong.oauth_client(), store, "acme", rate_limit=None)
            assert session.get("/v2/users").status_code == 200
    skew = [r for r in caplog.records if "future" in r.getMessage()]
    assert len(skew) == 1
    assert "7150s" in skew[0].getMessage()
    stored = store.get("acme")
    assert stored is not None
    assert stored.issued_at == ahead.issued_at  # kept as received
    assert stored.age(fake_gong.clock()) is None
    assert fake_gong.stats.refreshes("acme") == 0
