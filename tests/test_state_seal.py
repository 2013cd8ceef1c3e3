"""Someone who can write a shared store but has no encryption key cannot forge OAuth states.

The attacks of the security review, run against the real backends: a state planted in the
store for a customer of the attacker's choosing, a victim's state rewritten to name another
customer, and a sealed record moved from the attacker's own state to another. Each is refused
at the callback, and the victim's stored token is untouched.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from cryptography.fernet import Fernet

from gong_authlib import StateError
from gong_authlib.oauth.binding import browser_binding
from gong_authlib.oauth.state import PendingAuthorization, state_key
from gong_authlib.stores import MemoryTokenStore, SQLiteTokenStore, TokenStore
from gong_authlib.testing import FakeGong
from gong_authlib.token import Token
from gong_authlib.web import ConnectFlow
from tests.stores import KEY, StoreSpec, make_store_and_spec

CALLBACK = "https://app.acme.example/oauth/gong/callback"
SCOPES = ("api:users:read",)


def _as_bytes(value: object) -> bytes:
    assert isinstance(value, bytes)
    return value


class Backend:
    """The store's state table as someone with write access to the database sees it."""

    def __init__(self, spec: StoreSpec) -> None:
        self.spec = spec

    def rows(self) -> dict[str, bytes]:
        if self.spec.kind == "sqlite":
            with sqlite3.connect(self.spec.location) as db:
                return {k: bytes(d) for k, d in db.execute("SELECT key, data FROM states")}
        if self.spec.kind == "redis":
            import redis

            client = redis.Redis.from_url(self.spec.location)
            prefix = f"{self.spec.scope}:state:"
            return {
                key.decode().removeprefix(prefix): _as_bytes(client.get(key))
                for key in client.scan_iter(match=prefix + "*")
            }
        import psycopg

        with psycopg.connect(self.spec.location) as db:
            table = f"{self.spec.scope}_states"  # a prefix the test made, not input
            found = db.execute(f"SELECT key, data FROM {table}").fetchall()  # noqa: S608  # noqa: S608 (a test-made prefix)
            return {key: bytes(data) for key, data in found}

    def write(self, key: str, data: bytes) -> None:
        expires_at = time.time() + 600
        if self.spec.kind == "sqlite":
            with sqlite3.connect(self.spec.location) as db:
                db.execute(
                    "INSERT OR REPLACE INTO states (key, data, expires_at) VALUES (?, ?, ?)",
                    (key, data, expires_at),
                )
            return
        if self.spec.kind == "redis":
            import redis

            client = redis.Redis.from_url(self.spec.location)
            client.set(f"{self.spec.scope}:state:{key}", data)
            client.zadd(f"{self.spec.scope}:states", {key: expires_at})
            return
        import psycopg

        with psycopg.connect(self.spec.location) as db:
            db.execute(
                f"INSERT INTO {self.spec.scope}_states (key, data, expires_at) "  # noqa: S608
                "VALUES (%s, %s, %s) ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data",
                (key, data, expires_at),
            )


@pytest.fixture
def gong() -> Iterator[FakeGong]:
    with FakeGong(redirect_uris=[CALLBACK]) as fake:
        for company in ("acme", "globex", "initech"):
            fake.add_customer(company)
        yield fake


@pytest.fixture(params=["sqlite-encrypted", "redis-encrypted", "postgres-encrypted"])
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TokenStore, Backend]]:
    store, spec = make_store_and_spec(request.param, request, tmp_path)
    assert spec is not None
    with store:
        yield store, Backend(spec)


def flow_for(gong: FakeGong, store: TokenStore) -> ConnectFlow:
    return ConnectFlow(
        gong.oauth_client(state_store=store),
        store,
        redirect_uri=CALLBACK,
        scopes=SCOPES,
        authorize_params=lambda customer: {"login_hint": customer},
    )


def with_state(url: str, state: str, **params: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return urlunsplit(parts._replace(query=urlencode({**query, **params, "state": state})))


def connect(gong: FakeGong, store: TokenStore, customer: str) -> Token:
    flow = flow_for(gong, store)
    started = flow.start(customer)
    return flow.finish(gong.approve(started.redirect_url), started.cookie.value).token


def test_a_planted_state_cannot_connect_the_attackers_company_to_a_customer(
    gong: FakeGong, shared: tuple[TokenStore, Backend]
) -> None:
    store, backend = shared
    victims_token = connect(gong, store, "acme")
    # The attacker makes a state and a browser nonce of their own, plants a record naming acme
    # and bound to their nonce, and approves the authorize URL as their own company, globex.
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    planted = PendingAuthorization("acme", CALLBACK, SCOPES, time.time(), browser_binding(nonce))
    backend.write(state_key(state), planted.to_bytes())
    flow = flow_for(gong, store)
    url = with_state(flow.start("globex").redirect_url, state, login_hint="globex")
    with pytest.raises(StateError, match="not sealed by this store's encryption keys"):
        flow.finish(gong.approve(url), nonce)
    assert store.get("acme") == victims_token
    assert store.get("acme").api_base_url == gong.emulator.customer_origins["acme"]  # type: ignore[union-attr]


def test_a_victims_state_rewritten_or_swapped_for_another_is_refused(
    gong: FakeGong, shared: tuple[TokenStore, Backend]
) -> None:
    store, backend = shared
    flow = flow_for(gong, store)
    victim = flow.start("acme")
    victim_key = state_key(parse_qs(urlsplit(victim.redirect_url).query)["state"][0])
    sealed = backend.rows()[victim_key]
    assert b"acme" not in sealed
    assert CALLBACK.encode() not in sealed
    # Rewritten: the attacker replaces it with a record naming initech, even knowing the binding.
    rewritten = PendingAuthorization(
        "initech", CALLBACK, SCOPES, time.time(), browser_binding(victim.cookie.value)
    )
    backend.write(victim_key, rewritten.to_bytes())
    with pytest.raises(StateError, match="not sealed"):
        flow.finish(gong.approve(victim.redirect_url), victim.cookie.value)
    # Swapped: a record the store sealed for the attacker's own state, moved under the victim's.
    again = flow.start("acme")
    again_key = state_key(parse_qs(urlsplit(again.redirect_url).query)["state"][0])
    attackers = flow.start("initech")
    attackers_key = state_key(parse_qs(urlsplit(attackers.redirect_url).query)["state"][0])
    backend.write(again_key, backend.rows()[attackers_key])
    with pytest.raises(StateError, match="not sealed"):
        flow.finish(gong.approve(again.redirect_url), again.cookie.value)
    # A bit flipped in the sealed record is refused the same way.
    third = flow.start("acme")
    third_key = state_key(parse_qs(urlsplit(third.redirect_url).query)["state"][0])
    tampered = bytearray(backend.rows()[third_key])
    tampered[40] ^= 1
    backend.write(third_key, bytes(tampered))
    with pytest.raises(StateError, match="not sealed"):
        flow.finish(gong.approve(third.redirect_url), third.cookie.value)
    assert store.customers() == []
    # The real flow still works: sealing is no obstacle to the browser that started it.
    assert connect(gong, store, "acme").api_base_url == gong.emulator.customer_origins["acme"]


def test_a_refused_state_is_logged_without_the_state_or_the_record(
    shared: tuple[TokenStore, Backend], caplog: pytest.LogCaptureFixture
) -> None:
    store, backend = shared
    state = secrets.token_urlsafe(32)
    record = PendingAuthorization("acme", CALLBACK, SCOPES, time.time()).to_bytes()
    backend.write(state_key(state), record)
    with caplog.at_level("WARNING", logger="gong_authlib"), pytest.raises(StateError):
        store.consume(state, redirect_uri=CALLBACK)
    assert "failed its seal check" in caplog.text
    assert state not in caplog.text
    assert state_key(state) not in caplog.text
    with pytest.raises(StateError, match="already used"):  # refused and gone: no retry with it
        store.consume(state, redirect_uri=CALLBACK)


def test_states_follow_the_keys_rotation_rules(tmp_path: Path) -> None:
    path, newer = tmp_path / "t.db", Fernet.generate_key()
    with SQLiteTokenStore(path, encryption_keys=[KEY]) as old:
        waiting = [old.issue(customer="acme", redirect_uri=CALLBACK) for _ in range(2)]
    # Rotation puts the new key first and keeps the old one: a state issued before still opens.
    with SQLiteTokenStore(path, encryption_keys=[newer, KEY]) as rotated:
        assert rotated.consume(waiting[0], redirect_uri=CALLBACK).customer == "acme"
        issued_now = rotated.issue(customer="acme", redirect_uri=CALLBACK)
    # Once the old key is dropped, a state still sealed with it is refused, not trusted.
    with SQLiteTokenStore(path, encryption_keys=[newer]) as retired:
        with pytest.raises(StateError, match="not sealed"):
            retired.consume(waiting[1], redirect_uri=CALLBACK)
        assert retired.consume(issued_now, redirect_uri=CALLBACK).customer == "acme"


def test_a_plaintext_store_keeps_states_readable_and_says_it_cannot_refuse_a_writer(
    tmp_path: Path,
) -> None:
    """Without keys nothing can tell a planted record from an issued one: the documented
    promise is none (encrypt a store others can write), and states then read as plain JSON."""
    with SQLiteTokenStore(tmp_path / "t.db") as plain:
        state = plain.issue(customer="acme", redirect_uri=CALLBACK)
        with sqlite3.connect(plain.path) as db:
            (data,) = db.execute("SELECT data FROM states").fetchone()
        assert b'"customer":"acme"' in bytes(data)
        # Opened encrypted later (the store was migrated), a plaintext state is refused.
        encrypted = SQLiteTokenStore(plain.path, encryption_keys=[KEY])
        with encrypted, pytest.raises(StateError, match="not sealed"):
            encrypted.consume(state, redirect_uri=CALLBACK)
    store = MemoryTokenStore(encryption_keys=[KEY])
    sealed = store.issue(customer="acme", redirect_uri=CALLBACK)
    assert store.consume(sealed, redirect_uri=CALLBACK).customer == "acme"
    assert hashlib.sha256(sealed.encode()).hexdigest() == state_key(sealed)


def test_an_encrypted_state_in_a_store_without_keys_is_a_clear_refusal(tmp_path: Path) -> None:
    with SQLiteTokenStore(tmp_path / "t.db", encryption_keys=[KEY]) as encrypted:
        state = encrypted.issue(customer="acme", redirect_uri=CALLBACK)
    plain = SQLiteTokenStore(tmp_path / "t.db")
    with plain, pytest.raises(StateError, match="no encryption key"):
        plain.consume(state, redirect_uri=CALLBACK)
