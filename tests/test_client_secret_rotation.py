"""A client secret Gong no longer accepts (rotated, grace period over; or mistyped).

Gong answers ``invalid_client`` to every token call made with it. That is the app's problem,
not a customer's: ``ClientCredentialsRejected`` names the client ID and the secret's
fingerprint, no customer is marked for re-authorization, and the token endpoint is not asked
again with that secret for a back-off kept in the token store, so every worker honours it. A
fixed secret is tried at once.

"Processes" are separate store objects on one backend with this process's own memory of
refusals emptied (what a newly started process knows): only the store carries the back-off.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from gong_authlib import (
    ClientCredentialsRejected,
    GongAuth,
    GongOAuthClient,
    MemoryTokenStore,
    OAuthError,
    SQLiteTokenStore,
    TokenStoreError,
    gong_session,
)
from gong_authlib.oauth import secret_backoff
from gong_authlib.stores import TokenStore
from gong_authlib.testing import FakeGong
from gong_authlib.token import fingerprint
from gong_authlib.tokens import secret_pause
from tests.authflow import authorize_into
from tests.cliflow import CliWorld, authorized_world
from tests.stores import two_stores

KINDS = ["sqlite", "redis"]
DAY = 86_400.0


@pytest.fixture(params=KINDS)
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[TokenStore, ...]:
    return two_stores(request.param, request, tmp_path)


@pytest.fixture
def new_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process forgets the refusals it saw, as a process started now would."""
    monkeypatch.setattr(secret_backoff, "_refusals", {})


def _session(client: GongOAuthClient, store: TokenStore) -> requests.Session:
    return gong_session(client, store, "acme", retries=0, rate_limit=None)


def _refused(gong: FakeGong) -> int:
    return sum(gong.stats.invalid_client.values())


def _revoked_world(gong: FakeGong, store: TokenStore) -> tuple[GongOAuthClient, str]:
    """acme authorized, its access token expired, and the secret its client holds revoked."""
    authorize_into(gong, store)
    old_client: GongOAuthClient = gong.oauth_client()
    old_secret = gong.client_secret
    gong.rotate_secret(grace_hours=0)
    gong.clock.advance(DAY)
    return old_client, old_secret


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _answer(gong: FakeGong, secret: str) -> str:
    """What Gong's token endpoint says to ``secret`` for a refresh token that cannot exist."""
    query = {"grant_type": "refresh_token", "refresh_token": "no-such-token"}
    reply = gong.emulator.token(query, _basic(gong.client_id, secret), b"")
    error: str = reply.body["error"]
    return error


def test_fakegong_rotates_secrets_by_gongs_rules(fake_gong: FakeGong) -> None:
    first = fake_gong.client_secret
    second = fake_gong.rotate_secret(grace_hours=24)
    assert fake_gong.client_secret == second != first
    assert [_answer(fake_gong, s) for s in (first, second)] == ["invalid_grant"] * 2
    fake_gong.clock.advance(24 * 3600 - 1)
    assert _answer(fake_gong, first) == "invalid_grant"  # the last second of the grace period
    fake_gong.clock.advance(1)
    assert _answer(fake_gong, first) == "invalid_client"
    # Two valid at most: a rotation inside a grace period revokes the previous old one at once.
    third = fake_gong.rotate_secret("third-secret", grace_hours=168)
    fourth = fake_gong.rotate_secret(grace_hours=1)
    answers = [_answer(fake_gong, s) for s in (second, third, fourth)]
    assert answers == ["invalid_client", "invalid_grant", "invalid_grant"]
    fake_gong.rotate_secret(grace_hours=0)
    assert _answer(fake_gong, fourth) == "invalid_client"
    assert fake_gong.stats.invalid_client[fingerprint(fourth)] == 1
    for bad in (-1, 168.5):
        with pytest.raises(ValueError, match="0 to 168 hours"):
            fake_gong.rotate_secret(grace_hours=bad)
    with pytest.raises(ValueError, match="differ"):
        fake_gong.rotate_secret(fake_gong.client_secret)
    assert fake_gong.stats.refreshes() == 0  # no grant was spent by any of this


def test_a_revoked_secret_raises_at_once_and_marks_no_customer(
    fake_gong: FakeGong, stores: tuple[TokenStore, ...], caplog: pytest.LogCaptureFixture
) -> None:
    store = stores[0]
    old_client, old_secret = _revoked_world(fake_gong, store)
    sessions = [_session(old_client, store) for _ in range(4)]

    def call(i: int) -> str:
        try:
            sessions[i % 4].get("/v2/users")
        except ClientCredentialsRejected as rejected:
            return str(rejected)
        return "sent"

    with caplog.at_level(logging.DEBUG, logger="gong_authlib"), ThreadPoolExecutor(4) as pool:
        messages = list(pool.map(call, range(30)))
    assert _refused(fake_gong) <= 3
    assert len(messages) == 30
    assert all(fake_gong.client_id in m and fingerprint(old_secret) in m for m in messages)
    assert "credentials check" in messages[0]
    assert old_secret not in caplog.text + "".join(messages)
    assert store.status("acme").state == "active"  # the customer is not the problem
    assert fake_gong.stats.invalid_grant["acme"] == 0
    with pytest.raises(OAuthError) as caught:
        sessions[0].get("/v2/users")
    assert caught.value.error == "invalid_client"
    assert isinstance(caught.value, ClientCredentialsRejected)
    assert caught.value.secret_fingerprint == fingerprint(old_secret)


def test_the_back_off_is_kept_in_the_store_for_every_process(
    fake_gong: FakeGong, stores: tuple[TokenStore, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    old_client, old_secret = _revoked_world(fake_gong, stores[0])
    with pytest.raises(ClientCredentialsRejected) as first:
        _session(old_client, stores[0]).get("/v2/users")
    assert first.value.retry_at == fake_gong.clock() + secret_backoff.FIRST_PAUSE
    assert _refused(fake_gong) == 1
    # Another process, started after the refusal, on the same store: no token call.
    monkeypatch.setattr(secret_backoff, "_refusals", {})
    other = fake_gong.oauth_client(client_secret=old_secret)
    with pytest.raises(ClientCredentialsRejected) as second:
        _session(other, stores[1]).get("/v2/users")
    assert _refused(fake_gong) == 1
    assert second.value.retry_at == pytest.approx(first.value.retry_at)
    # The back-off over, one call: refused again, and the pause doubles.
    fake_gong.clock.advance(secret_backoff.FIRST_PAUSE)
    with pytest.raises(ClientCredentialsRejected) as third:
        _session(other, stores[1]).get("/v2/users")
    assert _refused(fake_gong) == 2
    assert third.value.retry_at == pytest.approx(fake_gong.clock() + 2 * secret_backoff.FIRST_PAUSE)
    monkeypatch.setattr(secret_backoff, "_refusals", {})
    fake_gong.clock.advance(secret_backoff.FIRST_PAUSE)
    with pytest.raises(ClientCredentialsRejected):
        _session(old_client, stores[0]).get("/v2/users")  # still paused, by the store
    assert _refused(fake_gong) == 2


def test_the_fixed_secret_is_tried_at_once(
    fake_gong: FakeGong, stores: tuple[TokenStore, ...]
) -> None:
    old_client, _ = _revoked_world(fake_gong, stores[0])
    with pytest.raises(ClientCredentialsRejected):
        _session(old_client, stores[0]).get("/v2/users")
    fixed = fake_gong.oauth_client()  # the secret deployed after the rotation
    response = _session(fixed, stores[1]).get("/v2/users")
    assert response.status_code == 200
    assert fake_gong.stats.refreshes("acme") == 1
    assert _refused(fake_gong) == 1


def test_the_old_secret_works_until_the_grace_period_ends(
    fake_gong: FakeGong, tmp_path: Path
) -> None:
    store = SQLiteTokenStore(tmp_path / "t.db")
    authorize_into(fake_gong, store)
    old_client = fake_gong.oauth_client()
    fake_gong.rotate_secret(grace_hours=36)
    fake_gong.clock.advance(DAY)  # inside the grace period: the old secret still refreshes
    assert _session(old_client, store).get("/v2/users").status_code == 200
    assert fake_gong.stats.refreshes("acme") == 1
    fake_gong.clock.advance(DAY)  # the grace period is over
    with pytest.raises(ClientCredentialsRejected):
        _session(old_client, store).get("/v2/users")
    assert _refused(fake_gong) == 1
    assert store.status("acme").state == "active"


def test_a_client_without_a_store_pauses_the_secret_in_its_process(
    fake_gong: FakeGong, new_process: None
) -> None:
    token = authorize_into(fake_gong, MemoryTokenStore())
    client = fake_gong.oauth_client()
    fake_gong.rotate_secret(grace_hours=0)
    for _ in range(5):
        with pytest.raises(ClientCredentialsRejected):
            client.refresh(token)
    assert _refused(fake_gong) == 1
    fake_gong.clock.advance(secret_backoff.FIRST_PAUSE)
    with pytest.raises(ClientCredentialsRejected) as again:
        client.refresh(token)
    assert _refused(fake_gong) == 2
    assert again.value.retry_at == fake_gong.clock() + 2 * secret_backoff.FIRST_PAUSE


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis", "postgres"])
def test_every_store_shares_the_pause(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, new_process: None
) -> None:
    with FakeGong() as gong:
        one, other = two_stores(kind, request, tmp_path)
        client = gong.oauth_client()
        now = gong.clock()
        assert secret_pause.paused_for(other, client) == 0
        refusal = ClientCredentialsRejected(
            client.client_id, client.secret_fingerprint, retry_at=now + 30
        )
        secret_pause.share(one, client, refusal)
        assert secret_pause.paused_for(other, client) == pytest.approx(30)
        with pytest.raises(ClientCredentialsRejected) as caught:
            secret_pause.raise_if_paused(other, client)
        assert caught.value.retry_at == pytest.approx(now + 30)
        another = gong.oauth_client(client_secret="another-secret")
        assert secret_pause.paused_for(other, another) == 0  # each secret its own pause
        assert other.customers() == []  # the pause is no customer
        gong.clock.advance(30)
        assert secret_pause.paused_for(other, client) == 0
        secret_pause.raise_if_paused(other, client)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[CliWorld]:
    with authorized_world(tmp_path, "acme") as world:
        yield world


def test_tokens_check_reports_the_rejected_secret(world: CliWorld) -> None:
    gong = world.gong
    with SQLiteTokenStore(world.folder / "tokens.db") as store:
        old_client = gong.oauth_client()
        gong.rotate_secret(grace_hours=0)
        with pytest.raises(ClientCredentialsRejected):  # on FakeGong's clock, still real time
            GongAuth(old_client, store, "acme").refresh()
    secret = world.env["GONG_CLIENT_SECRET"]
    text = world.run(*world.args("tokens", "check"))
    assert text.returncode == 1, text.stderr
    assert f"sha256:{fingerprint(secret)}" in text.stdout
    assert "invalid_client" in text.stdout
    assert "credentials check" in text.stdout
    payload = json.loads(world.run(*world.args("tokens", "check", "--format", "json")).stdout)
    assert payload["healthy"] is False
    assert payload["client_credentials"]["rejected"] is True
    assert payload["client_credentials"]["secret_sha256"] == fingerprint(secret)
    assert secret not in text.stdout + text.stderr
    # With the fixed secret deployed, the check is clean again.
    world.env["GONG_CLIENT_SECRET"] = gong.client_secret
    assert world.run(*world.args("tokens", "check")).returncode == 0


def test_a_pause_written_by_a_worker_whose_clock_runs_ahead_locks_no_one_out(
    stores: tuple[TokenStore, ...], new_process: None
) -> None:
    # The pause is kept in the writer's clock. A worker a day ahead must not stop every other
    # worker from asking Gong for a day: the rate budget moves it onto the reader's clock.
    one, other = stores
    with FakeGong() as gong:
        client = gong.oauth_client()
        now = gong.clock()
        one.rate_pause(secret_pause.store_key(client), 30, now=now + DAY)
        assert 0 < secret_pause.paused_for(other, client) <= 30
        with pytest.raises(ClientCredentialsRejected) as caught:
            secret_pause.raise_if_paused(other, client)
        assert caught.value.retry_at is not None
        assert caught.value.retry_at <= now + 30
        gong.clock.advance(30)
        secret_pause.raise_if_paused(other, client)


class _ReadOnlyPauses(MemoryTokenStore):
    """A store whose rate budget can be read but not written (a permission, a full disk)."""

    def rate_pause(self, customer: str, seconds: float, *, now: float | None = None) -> None:
        raise TokenStoreError("the rate budget cannot be written")


def test_a_pause_that_cannot_be_re_anchored_still_holds_the_worker_back(
    new_process: None,
) -> None:
    with FakeGong() as gong:
        store = _ReadOnlyPauses()
        client = gong.oauth_client()
        now = gong.clock()
        MemoryTokenStore.rate_pause(store, secret_pause.store_key(client), 30, now=now)
        with pytest.raises(ClientCredentialsRejected) as caught:
            secret_pause.raise_if_paused(store, client)
        assert caught.value.retry_at == pytest.approx(now + 30)
