"""Company API keys (Basic ``access_key:secret``): the same sessions and clients as a customer's
OAuth token, against FakeGong over real HTTP.

What must hold: the header, the origin binding (nothing is sent elsewhere), a wrong secret
handed back after one request (no retry, no token endpoint), pacing through a shared SQLite
store under FakeGong's strict per-company limit, paging, and httpx sync and async clients.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import requests

from gong_authlib import (
    AccessKey,
    GongAccessKeyAuth,
    GongHttpxAccessKeyAuth,
    OriginMismatch,
    RateLimit,
    Secret,
    gong_async_client,
    gong_httpx_client,
    gong_session,
)
from gong_authlib.origins import BaseUrlError
from gong_authlib.stores import MemoryTokenStore, SQLiteTokenStore
from gong_authlib.testing import FakeGong

KEY_ID = "AKEYACME4XW2Q"
SECRET = "keysecret-" + "s3cr3t" * 6


def _key(gong: FakeGong, customer: str = "acme", secret: str = SECRET) -> AccessKey:
    return AccessKey(
        KEY_ID, secret, gong.add_customer(customer), trusted_origins=gong.trusted_origins
    )


@pytest.fixture
def gong() -> Iterator[FakeGong]:
    with FakeGong() as gong:
        gong.add_access_key("acme", KEY_ID, SECRET)
        gong.add_customer("globex")
        yield gong


def test_the_key_shows_its_id_never_its_secret() -> None:
    key = AccessKey(KEY_ID, SECRET, "https://us-12345.api.gong.io/")
    assert key.base_url == "https://us-12345.api.gong.io"
    assert key.company == "https://us-12345.api.gong.io"  # the budget: its origin by default
    assert isinstance(key.secret, Secret)
    assert key.secret.reveal() == SECRET
    for shown in (repr(key), str(key), repr(GongAccessKeyAuth(key)), f"{key}"):
        assert KEY_ID in shown
        assert SECRET not in shown
    assert AccessKey(KEY_ID, Secret(SECRET), "https://api.gong.io") == AccessKey(
        KEY_ID, SECRET, "https://api.gong.io"
    )
    with pytest.raises(AttributeError):
        key.base_url = "https://elsewhere.example"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("http://us-1.api.gong.io", "not an https host under gong.io"),
        ("https://gong.io.evil.example", "not an https host under gong.io"),
        ("https://user:pw@us-1.api.gong.io", "user name or password"),
        ("https://us-1.api.gong.io?x=1", "has a query"),
        ("http://127.0.0.1:9101", "nor in trusted_origins"),
    ],
)
def test_a_base_url_is_checked_like_a_customers(base_url: str, message: str) -> None:
    with pytest.raises(BaseUrlError, match=message) as refused:
        AccessKey(KEY_ID, SECRET, base_url)
    assert SECRET not in str(refused.value)
    assert KEY_ID in str(refused.value)


@pytest.mark.parametrize(
    ("key_id", "secret", "message"),
    [
        ("", SECRET, "access key is empty"),
        ("A:B", SECRET, "colon"),
        (KEY_ID, "", "secret of access key AKEYACME4XW2Q is empty"),
        (KEY_ID, SECRET + "\n", "whitespace or a control character"),
    ],
)
def test_a_malformed_key_is_refused_without_echoing_the_secret(
    key_id: str, secret: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as refused:
        AccessKey(key_id, secret, "https://api.gong.io")
    assert SECRET not in str(refused.value)


def test_the_session_sends_basic_credentials_to_the_keys_origin(gong: FakeGong) -> None:
    session = gong_session(_key(gong))
    response = session.get("/v2/users")
    assert response.status_code == 200, response.text
    expected = base64.b64encode(f"{KEY_ID}:{SECRET}".encode()).decode()
    assert response.request.headers["Authorization"] == f"Basic {expected}"
    assert str(response.request.url).startswith(
        gong.emulator.customer_origins["acme"] + "/v2/users"
    )
    # Every scope: an endpoint no OAuth grant in this test has asked for.
    assert session.get("/v2/integration-settings").status_code == 200
    assert gong.stats.api_calls["acme"] == 2
    assert not gong.stats.token_calls


def test_a_request_elsewhere_carries_no_credentials(gong: FakeGong) -> None:
    session = gong_session(_key(gong))
    elsewhere = gong.emulator.customer_origins["globex"]
    with pytest.raises(OriginMismatch, match="goes only to its base_url") as refused:
        session.get(elsewhere + "/v2/users")
    assert SECRET not in str(refused.value)
    assert gong.stats.api_calls["globex"] == 0  # nothing reached the other origin
    # The auth alone, on a plain requests.Session, refuses the same way.
    plain = requests.Session()
    plain.auth = GongAccessKeyAuth(_key(gong))
    with pytest.raises(OriginMismatch):
        plain.get(elsewhere + "/v2/users", timeout=10)
    assert gong.stats.api_calls["globex"] == 0
    # The key's own origin spelled differently is still its origin.
    origin = gong.emulator.customer_origins["acme"].replace("http://", "HTTP://")
    assert plain.get(origin + "/v2/users", timeout=10).status_code == 200


def test_a_wrong_secret_is_one_request_one_401_and_one_warning(
    gong: FakeGong, caplog: pytest.LogCaptureFixture
) -> None:
    session = gong_session(_key(gong, secret="not-the-" + SECRET))
    with caplog.at_level(logging.WARNING, logger="gong_authlib"):
        first = session.get("/v2/users")
        second = session.get("/v2/users")
    assert first.status_code == second.status_code == 401
    assert first.json()["errors"] == ["Access denied"]
    assert first.history == []  # handed back as it is: no resend
    assert gong.stats.api_calls["acme"] == 2  # one request each
    assert gong.stats.api_401["acme"] == 2
    assert not gong.stats.token_calls  # a key has no token endpoint
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert KEY_ID in warnings[0].getMessage()
    assert SECRET not in caplog.text


def test_a_key_of_another_company_is_refused_on_this_origin(gong: FakeGong) -> None:
    gong.add_access_key("globex", "AKEYGLOBEX", SECRET)
    origin = gong.emulator.customer_origins["acme"]
    key = AccessKey("AKEYGLOBEX", SECRET, origin, trusted_origins=gong.trusted_origins)
    assert gong_session(key).get("/v2/users").status_code == 403


def test_paging_over_25_calls_in_pages_of_10() -> None:
    with FakeGong(page_size=10) as gong:
        gong.add_access_key("acme", KEY_ID, SECRET)
        gong.set_records("acme", calls=25)
        session = gong_session(_key(gong), rate_limit=None)  # pacing is not what is tested
        pages = list(session.paginate("/v2/calls"))
        assert [len(page["calls"]) for page in pages] == [10, 10, 5]
        ids = [call["id"] for call in session.records("/v2/calls", "calls")]
        assert len(ids) == len(set(ids)) == 25
        extensive = list(session.records("/v2/calls/extensive", "calls", method="POST", json={}))
        assert [call["metaData"]["id"] for call in extensive] == ids


def test_the_httpx_clients_use_the_same_key() -> None:
    with FakeGong(page_size=10) as gong:
        gong.add_access_key("acme", KEY_ID, SECRET)
        gong.set_records("acme", calls=25)
        key = _key(gong)
        with gong_httpx_client(key, rate_limit=None) as client:
            response = client.get("/v2/users")
            assert response.status_code == 200
            assert response.request.headers["Authorization"].startswith("Basic ")
            ids = [c["id"] for page in client.paginate("/v2/calls") for c in page["calls"]]
            assert len(set(ids)) == 25
            with pytest.raises(OriginMismatch):
                client.get(gong.add_customer("globex") + "/v2/users")

        async def run() -> list[str]:
            async with gong_async_client(key, rate_limit=None) as client:
                assert (await client.get("/v2/users")).status_code == 200
                return [
                    c["id"] async for page in client.paginate("/v2/calls") for c in page["calls"]
                ]

        assert asyncio.run(run()) == ids
        assert gong.stats.api_calls["globex"] == 0
        # The auth alone on a plain httpx client: a wrong secret's 401 comes back as it is.
        wrong = GongHttpxAccessKeyAuth(_key(gong, secret="wrong-" + SECRET))
        with httpx.Client(auth=wrong, base_url=key.base_url) as plain:
            assert plain.get("/v2/users").status_code == 401
        assert gong.stats.api_401["acme"] == 1


def test_three_threads_over_one_sqlite_store_stay_within_the_companys_limit(
    tmp_path: Path,
) -> None:
    """Gong's 3 calls a second, strictly counted by FakeGong on real time, for 3 seconds:
    three workers with their own sessions and store connections share the company's budget
    through the store, so none of their calls is refused."""
    seconds = 3.0
    with FakeGong(rate_limit=3) as gong:
        gong.add_access_key("acme", KEY_ID, SECRET)
        key = _key(gong)
        statuses: Counter[int] = Counter()
        lock = threading.Lock()
        deadline = time.monotonic() + seconds

        def worker() -> None:
            store = SQLiteTokenStore(tmp_path / "budget.db")
            # A wider margin than the default 5%, as in test_fleet.py: what is tested is the
            # budget shared through the store, not the arrival jitter of a busy CI machine.
            limit = RateLimit(margin=0.2, max_wait=seconds)
            session = gong_session(key, store=store, rate_limit=limit)
            try:
                while time.monotonic() < deadline:
                    status = session.get("/v2/users").status_code
                    with lock:
                        statuses[status] += 1
            finally:
                store.close()

        threads = [threading.Thread(target=worker) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert gong.stats.api_429["acme"] == 0
        assert statuses[429] == 0
        assert statuses[200] >= 6
        assert set(statuses) == {200}


def test_sessions_without_a_store_share_this_processs_budget() -> None:
    """Two sessions of one key and no store: paced together in this process (the in-process
    budget), so FakeGong's strict 3/s refuses none of their calls."""
    with FakeGong(rate_limit=3) as gong:
        gong.add_access_key("acme", KEY_ID, SECRET)
        origin = gong.emulator.customer_origins["acme"]
        # A company name of its own, so no other test's calls share this budget.
        key = AccessKey(
            KEY_ID, SECRET, origin, trusted_origins=gong.trusted_origins, company="in-process"
        )
        limit = RateLimit(margin=0.2)  # room for a busy machine's jitter, as above
        first, second = (gong_session(key, retries=0, rate_limit=limit) for _ in range(2))
        statuses = [session.get("/v2/users").status_code for session in (first, second) * 2]
        assert statuses == [200] * 4
        assert gong.stats.api_429["acme"] == 0


def test_a_key_shares_an_oauth_customers_budget_when_named_after_it() -> None:
    key = AccessKey(KEY_ID, SECRET, "https://us-1.api.gong.io", company="acme")
    store = MemoryTokenStore()
    session = gong_session(key, store=store, rate_limit=RateLimit(per_second=1))
    assert session.customer == "acme"
    assert session.limiter is not None
    assert session.limiter.store is store


def test_the_factories_say_what_they_need() -> None:
    key = AccessKey(KEY_ID, SECRET, "https://us-1.api.gong.io")
    with pytest.raises(TypeError, match="takes no customer"):
        gong_session(key, MemoryTokenStore(), "acme")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="store and customer are needed"):
        gong_httpx_client(object())  # type: ignore[arg-type]
