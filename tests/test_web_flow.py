"""The framework-neutral web flow: start → Gong → finish, bound to the starting browser,
states shared through the token store, and the token stored (with retries) before success."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.datastructures import QueryParams
from werkzeug.datastructures import MultiDict

from gong_authlib import (
    AuthorizationNotSaved,
    OAuthError,
    SQLiteTokenStore,
    StateError,
    TokenStoreError,
)
from gong_authlib.stores import MemoryTokenStore, TokenStore
from gong_authlib.testing import FakeGong
from gong_authlib.token import Token
from gong_authlib.web import ConnectFlow, browser_binding

CALLBACK = "https://app.acme.example/oauth/gong/callback"
LOCAL_CALLBACK = "http://127.0.0.1:8765/callback"
SCOPES = ("api:users:read",)


@pytest.fixture
def gong() -> Iterator[FakeGong]:
    with FakeGong(redirect_uris=[CALLBACK, LOCAL_CALLBACK]) as fake:
        for company in ("acme", "globex", "initech"):
            fake.add_customer(company)
        yield fake


def flow_for(
    gong: FakeGong, store: TokenStore, redirect_uri: str = CALLBACK, **options: Any
) -> ConnectFlow:
    client = gong.oauth_client(state_store=store)
    return ConnectFlow(
        client,
        store,
        redirect_uri=redirect_uri,
        scopes=SCOPES,
        authorize_params=lambda customer: {"login_hint": customer},
        **options,
    )


def test_a_browser_connects_a_customer_and_the_token_is_stored(
    gong: FakeGong, tmp_path: Path
) -> None:
    with SQLiteTokenStore(tmp_path / "t.db") as store:
        started = flow_for(gong, store).start("globex")
        # Another worker, with its own client and store objects, receives the callback.
        with SQLiteTokenStore(tmp_path / "t.db") as other:
            connected = flow_for(gong, other).finish(
                gong.approve(started.redirect_url), started.cookie.value
            )
        assert connected.customer == "globex"
        assert connected.token.api_base_url == gong.emulator.customer_origins["globex"]
        assert store.get("globex") == connected.token


def test_the_cookie_is_httponly_lax_and_secure_except_on_loopback(gong: FakeGong) -> None:
    store = MemoryTokenStore()
    cookie = flow_for(gong, store).start("acme").cookie
    assert (cookie.httponly, cookie.samesite, cookie.secure, cookie.max_age) == (
        True,
        "Lax",
        True,
        600,
    )
    assert cookie.header().endswith("; HttpOnly; Secure")
    assert cookie.value not in repr(cookie)
    local = flow_for(gong, store, LOCAL_CALLBACK).start("acme").cookie
    assert local.secure is False
    assert "Secure" not in local.header()


def test_the_state_carries_only_the_hash_of_the_browser_nonce(gong: FakeGong) -> None:
    store = MemoryTokenStore()
    started = flow_for(gong, store).start("acme")
    assert started.cookie.value not in started.redirect_url
    state = parse_qs(urlsplit(started.redirect_url).query)["state"][0]
    pending = store.consume(state, redirect_uri=CALLBACK)
    assert pending.binding == browser_binding(started.cookie.value)


def test_replayed_callback_is_refused(gong: FakeGong) -> None:
    store = MemoryTokenStore()
    flow = flow_for(gong, store)
    started = flow.start("acme")
    callback = gong.approve(started.redirect_url)
    flow.finish(callback, started.cookie.value)
    with pytest.raises(StateError, match="already used"):
        flow.finish(callback, started.cookie.value)


def test_forged_state_is_refused(gong: FakeGong) -> None:
    store = MemoryTokenStore()
    flow = flow_for(gong, store)
    started = flow.start("acme")
    forged = gong.approve(started.redirect_url).replace("state=", "state=x")
    with pytest.raises(StateError, match="not issued here"):
        flow.finish(forged, started.cookie.value)
    assert store.customers() == []


def test_callback_in_a_browser_without_the_cookie_is_refused_and_burns_nothing(
    gong: FakeGong,
) -> None:
    store = MemoryTokenStore()
    flow = flow_for(gong, store)
    started = flow.start("acme")
    callback = gong.approve(started.redirect_url)
    with pytest.raises(StateError, match="did not start this authorization"):
        flow.finish(callback, None)
    assert store.customers() == []
    assert flow.finish(callback, started.cookie.value).customer == "acme"  # the real browser


def test_login_csrf_another_browser_cannot_finish_the_attackers_flow(gong: FakeGong) -> None:
    store = MemoryTokenStore()
    flow = flow_for(gong, store)
    attacker = flow.start("acme")
    victim = flow.start("globex")  # the victim's browser has its own nonce
    assert victim.cookie.value != attacker.cookie.value
    with pytest.raises(StateError, match="started in another browser"):
        flow.finish(gong.approve(attacker.redirect_url), victim.cookie.value)
    assert store.customers() == []


def test_one_browser_connects_two_customers_in_two_tabs(gong: FakeGong) -> None:
    store = MemoryTokenStore()
    flow = flow_for(gong, store)
    first = flow.start("acme")
    second = flow.start("globex", cookie=first.cookie.value)
    assert second.cookie.value == first.cookie.value
    for started in (second, first):
        flow.finish(gong.approve(started.redirect_url), first.cookie.value)
    assert store.customers() == ["acme", "globex"]
    for customer in ("acme", "globex"):
        token = store.get(customer)
        assert token is not None
        assert token.api_base_url == gong.emulator.customer_origins[customer]


def test_denied_consent_is_an_oauth_error(gong: FakeGong) -> None:
    flow = flow_for(gong, MemoryTokenStore())
    started = flow.start("acme")
    state = parse_qs(urlsplit(started.redirect_url).query)["state"][0]
    denied = {"error": "access_denied", "state": state}
    with pytest.raises(OAuthError, match="denied"):
        flow.finish(denied, started.cookie.value)


class FlakyStore(MemoryTokenStore):
    """A real memory store whose token writes fail the first ``failures`` times."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def put(self, customer: str, token: Token) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise TokenStoreError("token store memory: write failed (injected)")
        super().put(customer, token)


def test_a_store_write_that_fails_after_the_exchange_is_retried_with_backoff(
    gong: FakeGong,
) -> None:
    store = FlakyStore(failures=3)
    waits: list[float] = []
    flow = flow_for(gong, store, sleep=waits.append)
    started = flow.start("acme")
    connected = flow.finish(gong.approve(started.redirect_url), started.cookie.value)
    assert store.get("acme") == connected.token
    assert waits == [0.1, 0.2, 0.4]


def test_a_store_that_stays_down_says_connect_again_and_stores_nothing(gong: FakeGong) -> None:
    store = FlakyStore(failures=99)
    waits: list[float] = []
    flow = flow_for(gong, store, sleep=waits.append, write_attempts=4)
    started = flow.start("acme")
    with pytest.raises(AuthorizationNotSaved, match="connect again") as caught:
        flow.finish(gong.approve(started.redirect_url), started.cookie.value)
    assert caught.value.customer == "acme"
    assert len(waits) == 3
    store.failures = 0
    assert store.customers() == []


class QueryDictLike(dict[str, list[str]]):
    """What Django's QueryDict looks like to us: a dict of lists with getlist, whose item
    access gives the last value."""

    def __getitem__(self, key: str) -> Any:
        return super().__getitem__(key)[-1]

    def getlist(self, key: str) -> list[str]:
        return list(super().__getitem__(key))


@pytest.mark.parametrize(
    "wrap",
    [
        lambda q: QueryDictLike({k: [v] for k, v in q.items()}),
        MultiDict,
        QueryParams,
        lambda q: {k: [v] for k, v in q.items()},
        dict,
    ],
    ids=["django-querydict", "werkzeug-multidict", "starlette-queryparams", "lists", "plain"],
)
def test_parse_callback_takes_what_frameworks_hand_over(gong: FakeGong, wrap: Any) -> None:
    client = gong.oauth_client()
    url, _ = client.authorization_url(SCOPES, gong.redirect_uri)
    query = {k: v[0] for k, v in parse_qs(urlsplit(gong.approve(url)).query).items()}
    _pending, code = client.parse_callback(wrap(query), redirect_uri=gong.redirect_uri)
    assert code == query["code"]


def test_a_callback_with_two_states_is_refused(gong: FakeGong) -> None:
    client = gong.oauth_client()
    _url, state = client.authorization_url(SCOPES, gong.redirect_uri)
    doubled = QueryDictLike({"state": [state, "other"], "code": ["c"]})
    with pytest.raises(OAuthError, match="more than once"):
        client.parse_callback(doubled, redirect_uri=gong.redirect_uri)


def test_extra_authorize_params_add_but_never_replace(gong: FakeGong) -> None:
    client = gong.oauth_client()
    url, _ = client.authorization_url(SCOPES, gong.redirect_uri, extra_params={"login_hint": "x"})
    assert parse_qs(urlsplit(url).query)["login_hint"] == ["x"]
    with pytest.raises(ValueError, match="'redirect_uri'"):
        client.authorization_url(
            SCOPES, gong.redirect_uri, extra_params={"redirect_uri": "https://evil.example/cb"}
        )


def test_another_browser_is_refused_before_the_callbacks_error_text_is_read(
    gong: FakeGong,
) -> None:
    # The attacker's own state, with words of their choosing as the "error": the victim's
    # browser (which holds a cookie of its own) must see "another browser", never those words.
    store = MemoryTokenStore()
    flow = flow_for(gong, store)
    attacker = flow.start("acme")
    victim = flow.start("globex")
    state = parse_qs(urlsplit(attacker.redirect_url).query)["state"][0]
    lure = {"state": state, "error": "your account is locked: call +1 555 0100"}
    with pytest.raises(StateError, match="started in another browser") as caught:
        flow.finish(lure, victim.cookie.value)
    assert "555" not in str(caught.value)


def test_a_cookie_with_a_trailing_newline_is_not_a_nonce(gong: FakeGong) -> None:
    flow = flow_for(gong, MemoryTokenStore())
    odd = "A" * 43 + "\n"
    cookie = flow.start("acme", cookie=odd).cookie
    assert cookie.value != odd
    assert "\n" not in cookie.header()
    with pytest.raises(StateError, match="did not start this authorization"):
        flow.finish({"state": "x", "code": "y"}, odd)


def test_a_cookie_path_the_callback_is_not_under_is_refused_at_once(gong: FakeGong) -> None:
    # The browser would never send the cookie to the callback: every connect would fail.
    store = MemoryTokenStore()
    with pytest.raises(ValueError, match="cookie_path"):
        flow_for(gong, store, cookie_path="/connect")
    assert flow_for(gong, store, cookie_path="/oauth").cookie_path == "/oauth"


def test_the_connect_cookie_of_an_https_app_cannot_be_planted_by_another_origin(
    gong: FakeGong,
) -> None:
    """A nonce the attacker knows, planted as the connect cookie by a sibling subdomain or by
    a network attacker on plain http, would let the attacker's state (bound to it, for their
    customer) finish in the victim's browser with the victim's consent: login CSRF through
    cookie fixation. Browsers let only the app's own https origin set a ``__Host-`` cookie."""
    store = MemoryTokenStore()
    started = flow_for(gong, store).start("acme")
    assert started.cookie.name == "__Host-gong_authlib_connect"
    header = started.cookie.header()
    assert "Secure" in header
    assert "Path=/;" in header
    assert "Domain" not in header
    # A narrower path cannot be __Host-: __Secure- still keeps plain http out.
    narrow = flow_for(gong, store, cookie_path="/oauth").start("acme")
    assert narrow.cookie.name == "__Secure-gong_authlib_connect"
    # A name the app chose keeps its own prefix, once.
    assert flow_for(gong, store, cookie_name="__Host-mine").start("acme").cookie.name == (
        "__Host-mine"
    )
    # Loopback http (a developer's machine) cannot set Secure cookies: no prefix.
    local = flow_for(gong, store, LOCAL_CALLBACK).start("acme")
    assert local.cookie.name == "gong_authlib_connect"
