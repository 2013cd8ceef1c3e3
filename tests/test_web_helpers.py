"""The Flask blueprint and the Starlette/FastAPI routes, driven by each framework's test client
against a real FakeGong: connect, refuse forged/replayed/cookie-less callbacks, hooks."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import Any, Protocol
from urllib.parse import urlsplit

import pytest

from gong_authlib import TokenStoreError
from gong_authlib.stores import MemoryTokenStore
from gong_authlib.testing import FakeGong
from gong_authlib.web import COOKIE_NAME, ConnectFlow

CALLBACK = "http://127.0.0.1:8765/oauth/gong/callback"

# Starlette 1.x asks for httpx2 under its TestClient; httpx still works and is what we ship.
pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


class Browser(Protocol):
    """The part of Flask's and Starlette's test clients these tests use."""

    def get(self, url: str, **kwargs: Any) -> Any: ...


@pytest.fixture(autouse=True)
def quiet_test_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    # httpx (under Starlette's TestClient) logs every URL, and a callback's URL carries the
    # code, as a real server's access log would: keep that out of the secret check.
    monkeypatch.setattr(logging.getLogger("httpx"), "level", logging.WARNING)


@pytest.fixture
def gong() -> Iterator[FakeGong]:
    with FakeGong(redirect_uris=[CALLBACK]) as fake:
        for company in ("acme", "globex"):
            fake.add_customer(company)
        yield fake


def make_flow(gong: FakeGong, store: MemoryTokenStore) -> ConnectFlow:
    return ConnectFlow(
        gong.oauth_client(state_store=store),
        store,
        redirect_uri=CALLBACK,
        scopes=("api:users:read",),
        authorize_params=lambda customer: {"login_hint": customer},
    )


def flask_browsers(flow: ConnectFlow) -> tuple[Browser, Browser]:
    import flask

    from gong_authlib.web.flask import gong_blueprint

    app = flask.Flask(__name__)
    app.register_blueprint(
        gong_blueprint(flow, may_connect=lambda customer: customer != "forbidden")
    )
    return app.test_client(), app.test_client()


def starlette_browsers(flow: ConnectFlow) -> tuple[Browser, Browser]:
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from gong_authlib.web.starlette import gong_routes

    app = Starlette(
        routes=gong_routes(flow, may_connect=lambda request, customer: customer != "forbidden")
    )
    return TestClient(app, follow_redirects=False), TestClient(app, follow_redirects=False)


def fastapi_browsers(flow: ConnectFlow) -> tuple[Browser, Browser]:
    from fastapi import APIRouter, FastAPI
    from starlette.testclient import TestClient

    from gong_authlib.web.starlette import gong_routes

    app = FastAPI()
    app.include_router(
        APIRouter(
            routes=gong_routes(flow, may_connect=lambda request, customer: customer != "forbidden")
        )
    )
    return TestClient(app, follow_redirects=False), TestClient(app, follow_redirects=False)


FRAMEWORKS: dict[str, Callable[[ConnectFlow], tuple[Browser, Browser]]] = {
    "flask": flask_browsers,
    "starlette": starlette_browsers,
    "fastapi": fastapi_browsers,
}


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
def test_connect_and_refusals(gong: FakeGong, framework: str) -> None:
    store = MemoryTokenStore()
    browser, other_browser = FRAMEWORKS[framework](make_flow(gong, store))

    started = browser.get("/connect/globex")
    assert started.status_code == 302
    cookie = started.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    callback = local(gong.approve(started.headers["location"]))

    refused = other_browser.get(callback)  # the link opened in a browser without the cookie
    assert refused.status_code == 400
    assert "Connection refused" in refused.text
    assert "did not start this authorization" in refused.text

    forged = browser.get(callback.replace("state=", "state=forged"))
    assert forged.status_code == 400
    assert "not issued here" in forged.text

    done = browser.get(callback)
    assert done.status_code == 200, done.text
    assert "Customer globex is connected to Gong." in done.text
    token = store.get("globex")
    assert token is not None
    assert token.api_base_url == gong.emulator.customer_origins["globex"]

    replayed = browser.get(callback)
    assert replayed.status_code == 400
    assert "already used" in replayed.text

    assert browser.get("/connect/forbidden").status_code == 403
    assert "code=" not in done.text


class DownStore(MemoryTokenStore):
    """A real memory store whose state writes fail, as an unreachable Redis would."""

    def _put_state(self, key: str, data: bytes, expires_at: float) -> None:
        raise TokenStoreError(f"token store {INTERNAL_ADDRESS}: state write failed (injected)")


INTERNAL_ADDRESS = "redis 10.255.255.1:6379/3"


@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
def test_a_store_down_at_connect_is_a_clear_page_that_keeps_the_store_private(
    gong: FakeGong, framework: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The visitor learns what happened and gets a reference; where the store lives (its host,
    # port and database) is only in the log, under that reference.
    store = DownStore()
    browser, _ = FRAMEWORKS[framework](make_flow(gong, store))
    with caplog.at_level(logging.ERROR, logger="gong_authlib.web"):
        page = browser.get("/connect/acme")
    assert page.status_code == 503
    assert "Token store unavailable" in page.text
    assert INTERNAL_ADDRESS not in page.text
    assert "state write failed" not in page.text
    reference = re.search(r"the reference ([0-9a-f]{8})", page.text)
    assert reference is not None, page.text
    logged = [r.getMessage() for r in caplog.records if reference.group(1) in r.getMessage()]
    assert len(logged) == 1
    assert INTERNAL_ADDRESS in logged[0]


@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
@pytest.mark.parametrize("customer", ["line%0Abreak", "x" * 201], ids=["control", "long"])
def test_a_customer_name_that_cannot_be_one_is_a_400_page(
    gong: FakeGong, framework: str, customer: str
) -> None:
    store = MemoryTokenStore()
    browser, _ = FRAMEWORKS[framework](make_flow(gong, store))
    page = browser.get(f"/connect/{customer}")
    assert page.status_code == 400
    assert "customer name" in page.text
    assert "set-cookie" not in page.headers


def test_the_helpers_need_a_may_connect_rule(gong: FakeGong) -> None:
    # With an allow-all default, anyone reaching /connect/<customer> could connect their own
    # Gong company as any customer, replacing that customer's stored token.
    from gong_authlib.web.flask import gong_blueprint
    from gong_authlib.web.starlette import gong_router, gong_routes

    flow = make_flow(gong, MemoryTokenStore())
    for build in (gong_blueprint, gong_routes, gong_router):
        with pytest.raises(TypeError, match="may_connect"):
            build(flow)  # type: ignore[call-arg]


@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
def test_a_failed_exchange_page_says_to_start_again(gong: FakeGong, framework: str) -> None:
    # The state is spent by then: reloading the callback can only say "already used".
    store = MemoryTokenStore()
    browser, _ = FRAMEWORKS[framework](make_flow(gong, store))
    callback = local(gong.approve(browser.get("/connect/acme").headers["location"]))
    gong.inject("token", "status", status=400, times=1)
    page = browser.get(callback)
    assert page.status_code in (400, 502)
    assert "Nothing was stored: start connecting again" in page.text
    assert store.customers() == []
