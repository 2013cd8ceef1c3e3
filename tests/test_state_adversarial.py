"""Attempts to forge, replay or move an OAuth state, beyond the store writer's plants and
rewrites of tests/test_state_seal.py.

- A nonce planted as the connect cookie: see tests/test_web_flow.py.
- A sealed record written back after it was consumed (a rollback of the store) is refused
  once its 10 minutes are over, whoever wrote it.
- A record sealed by another store's key, or moved between redirect URIs, is refused.
- A damaged record (a plaintext store promises nothing, but a record of the wrong shape must
  be a clear refusal, not a crash) is refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from gong_authlib import StateError
from gong_authlib.oauth.state import state_key
from gong_authlib.stores import SQLiteTokenStore
from gong_authlib.testing import FakeClock
from tests.stores import KEY

CALLBACK = "https://app.acme.example/oauth/gong/callback"
OTHER_CALLBACK = "https://app.acme.example/other/callback"


def test_a_consumed_record_written_back_is_refused_once_its_ten_minutes_are_over(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    with SQLiteTokenStore(tmp_path / "t.db", encryption_keys=[KEY]) as store:
        store.state_clock = clock
        state = store.issue(customer="acme", redirect_uri=CALLBACK)
        key = state_key(state)
        db = store._connection()
        (sealed,) = db.execute("SELECT data FROM states WHERE key = ?", (key,)).fetchone()
        assert store.consume(state, redirect_uri=CALLBACK).customer == "acme"
        clock.advance(601)
        db.execute(
            "INSERT INTO states (key, data, expires_at) VALUES (?, ?, ?)", (key, sealed, 1e12)
        )
        with pytest.raises(StateError, match="10-minute"):
            store.consume(state, redirect_uri=CALLBACK)


def test_a_record_sealed_by_another_stores_key_or_for_another_redirect_is_refused(
    tmp_path: Path,
) -> None:
    with (
        SQLiteTokenStore(tmp_path / "a.db", encryption_keys=[KEY]) as mine,
        SQLiteTokenStore(tmp_path / "b.db", encryption_keys=[Fernet.generate_key()]) as theirs,
    ):
        state = theirs.issue(customer="acme", redirect_uri=CALLBACK)
        key = state_key(state)
        (sealed,) = theirs._connection().execute("SELECT data FROM states").fetchone()
        mine._connection().execute(
            "INSERT INTO states (key, data, expires_at) VALUES (?, ?, ?)", (key, sealed, 1e12)
        )
        with pytest.raises(StateError, match="not sealed"):
            mine.consume(state, redirect_uri=CALLBACK)
        elsewhere = mine.issue(customer="acme", redirect_uri=OTHER_CALLBACK)
        with pytest.raises(StateError, match="redirect URI"):
            mine.consume(elsewhere, redirect_uri=CALLBACK)


@pytest.mark.parametrize(
    "record",
    [
        {"customer": ["acme"], "redirect_uri": CALLBACK, "scopes": [], "issued_at": 0},
        {"customer": "acme", "redirect_uri": CALLBACK, "scopes": [], "issued_at": "NaN"},
        {"customer": "acme", "redirect_uri": CALLBACK, "scopes": [], "issued_at": 1e308 * 10},
        {"customer": "acme", "redirect_uri": CALLBACK, "scopes": "api", "issued_at": 0},
        ["not", "a", "record"],
    ],
)
def test_a_record_of_the_wrong_shape_is_a_clear_refusal(tmp_path: Path, record: object) -> None:
    with SQLiteTokenStore(tmp_path / "t.db") as plain:
        state = plain.issue(customer="acme", redirect_uri=CALLBACK)
        plain._connection().execute(
            "UPDATE states SET data = ? WHERE key = ?",
            (json.dumps(record).encode(), state_key(state)),
        )
        with pytest.raises(StateError, match="damaged"):
            plain.consume(state, redirect_uri=CALLBACK)
