"""gong_httpx_client and gong_async_client: base URL, timeout, 429/5xx retries, cursor paging."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import requests

from gong_authlib import (
    OriginMismatch,
    RateLimit,
    gong_async_client,
    gong_httpx_client,
    gong_session,
)
from gong_authlib.gong.paging import (
    PageRequest,
    RepeatedCursor,
    first_page,
    is_nothing_found,
    next_page,
)
from gong_authlib.stores import MemoryTokenStore
from gong_authlib.testing import FakeGong
from gong_authlib.token import Token
from gong_authlib.transport.httpx.client import DEFAULT_HTTPX_TIMEOUT, GongAsyncClient
from tests.authflow import authorize_into
from tests.helpers import serve_on_loopback

SETTINGS = {
    "integrationTypeSettings": [
        {"integrationType": "DIALER", "allowedOrigin": "https://a.partner.example"}
    ]
}


@pytest.fixture
def store(fake_gong: FakeGong) -> MemoryTokenStore:
    store = MemoryTokenStore()
    authorize_into(fake_gong, store)
    return store


def test_defaults(fake_gong: FakeGong, store: MemoryTokenStore) -> None:
    token = store.get("acme")
    assert token is not None
    with gong_httpx_client(fake_gong.oauth_client(), store, "acme") as client:
        assert client.timeout == DEFAULT_HTTPX_TIMEOUT
        assert client.timeout.connect == 5.0
        assert client.base_url == httpx.URL(token.api_base_url)
        assert repr(client) == "GongHttpxClient(customer='acme')"
        assert client.limiter is not None  # paced by default, as gong_session is
        assert client.limiter.limit == RateLimit()
        assert client.limiter.store is store


def test_429_is_retried_honouring_retry_after_even_for_post(
    fake_gong: FakeGong, store: MemoryTokenStore
) -> None:
    fake_gong.inject("api", "status", status=429, retry_after=0, times=2)
    with gong_httpx_client(
        fake_gong.oauth_client(), store, "acme", backoff_factor=0, rate_limit=None
    ) as client:
        response = client.post("/v2/integration-settings", json=SETTINGS)
    assert response.status_code == 200
    assert fake_gong.stats.api_429["acme"] == 2


def test_async_429_is_retried(fake_gong: FakeGong, store: MemoryTokenStore) -> None:
    fake_gong.inject("api", "status", status=429, retry_after=0, times=2)

    async def main() -> int:
        async with gong_async_client(
            fake_gong.oauth_client(), store, "acme", backoff_factor=0, rate_limit=None
        ) as client:
            return (await client.post("/v2/integration-settings", json=SETTINGS)).status_code

    assert asyncio.run(main()) == 200
    assert fake_gong.stats.api_429["acme"] == 2


def test_retry_after_is_waited_for(fake_gong: FakeGong, store: MemoryTokenStore) -> None:
    waits: list[float] = []
    fake_gong.inject("api", "status", status=429, retry_after=2)
    with gong_httpx_client(fake_gong.oauth_client(), store, "acme", rate_limit=None) as client:
        client._transport._sleep = waits.append  # type: ignore[attr-defined]  # the clock seam
        assert client.get("/v2/users").status_code == 200
    assert waits == [2.0]


def test_long_retry_after_is_returned_at_once(fake_gong: FakeGong, store: MemoryTokenStore) -> None:
    fake_gong.inject("api", "status", status=429, retry_after=3600)
    with gong_httpx_client(fake_gong.oauth_client(), store, "acme", rate_limit=None) as client:
        started = time.monotonic()
        response = client.get("/v2/users")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3600"
    assert time.monotonic() - started < 5
    assert fake_gong.stats.api_429["acme"] == 1


def test_retries_end(fake_gong: FakeGong, store: MemoryTokenStore) -> None:
    fake_gong.inject("api", "status", status=429, retry_after=0, times=10)
    with gong_httpx_client(
        fake_gong.oauth_client(), store, "acme", retries=2, backoff_factor=0, rate_limit=None
    ) as client:
        assert client.get("/v2/users").status_code == 429
    assert fake_gong.stats.api_429["acme"] == 3  # the first attempt and two retries


def test_5xx_retried_for_get_not_for_post(fake_gong: FakeGong, store: MemoryTokenStore) -> None:
    with gong_httpx_client(
        fake_gong.oauth_client(), store, "acme", backoff_factor=0, rate_limit=None
    ) as client:
        fake_gong.inject("api", "status", status=503, times=2)
        assert client.get("/v2/users").status_code == 200
        fake_gong.inject("api", "status", status=503)
        assert client.post("/v2/integration-settings", json=SETTINGS).status_code == 503


def test_a_streamed_body_is_not_resent_after_429(
    fake_gong: FakeGong, store: MemoryTokenStore
) -> None:
    fake_gong.inject("api", "status", status=429, retry_after=0)
    with gong_httpx_client(
        fake_gong.oauth_client(), store, "acme", backoff_factor=0, rate_limit=None
    ) as client:
        response = client.post(
            "/v2/integration-settings", content=iter([json.dumps(SETTINGS).encode()])
        )
    assert response.status_code == 429  # handed back: the body is gone


def test_relative_paths_follow_the_token_to_a_new_origin(
    fake_gong: FakeGong, store: MemoryTokenStore
) -> None:
    """Another worker refreshed, and Gong moved the customer to another API origin."""
    moved = fake_gong.add_customer("acme-eu")
    with gong_httpx_client(fake_gong.oauth_client(), store, "acme", rate_limit=None) as client:
        assert client.get("/v2/users").status_code == 200
        token = store.get("acme")
        assert token is not None
        store.put("acme", replace(token, api_base_url=moved, expires_at=token.expires_at + 3600))
        fake_gong.clock.advance(86_400 - 60)  # ours is stale; the stored one is not
        with pytest.raises(OriginMismatch):  # built for the old origin: never sent there
            client.get("/v2/users")
        response = client.get("/v2/users")
    assert str(response.request.url) == moved + "/v2/users"
    assert fake_gong.stats.api_calls["acme-eu"] == 1
    assert fake_gong.stats.refreshes() == 0


# -- paging ------------------------------------------------------------------------------------


class _Pages(BaseHTTPRequestHandler):
    """Gong's paging: 3 pages of calls (cursor in the query for GET, in the body for POST),
    and the 404 "No users found" for an empty window."""

    token: ClassVar[str] = ""
    seen: ClassVar[list[tuple[str, str | None]]] = []
    PAGES: ClassVar[dict[str | None, tuple[list[int], str | None]]] = {
        None: ([1, 2], "c2"),
        "c2": ([3, 4], "c3"),
        "c3": ([5], None),
    }
    # A server bug: the third page points back at the second.
    LOOP: ClassVar[dict[str | None, tuple[list[int], str | None]]] = {
        None: ([1], "c2"),
        "c2": ([2], "c3"),
        "c3": ([3], "c2"),
    }

    def _answer(self, status: int, body: Any) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _page(self, cursor: str | None) -> None:
        type(self).seen.append((self.command, cursor))
        if self.headers.get("Authorization") != f"Bearer {type(self).token}":
            self._answer(401, {"requestId": "r", "errors": ["Access denied"]})
            return
        if urlsplit(self.path).path == "/v2/users":
            self._answer(
                404,
                {
                    "requestId": "r",
                    "errors": ["No users found corresponding to the provided filters"],
                },
            )
            return
        pages = type(self).LOOP if urlsplit(self.path).path == "/v2/loop" else type(self).PAGES
        ids, following = pages[cursor]
        records: dict[str, Any] = {"totalRecords": 5, "currentPageSize": len(ids)}
        if following:
            records["cursor"] = following
        self._answer(200, {"requestId": "r", "records": records, "calls": ids})

    def do_GET(self) -> None:
        cursor = parse_qs(urlsplit(self.path).query).get("cursor", [None])[0]
        self._page(cursor)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        assert body["filter"] == {"fromDateTime": "2026-01-01T00:00:00Z"}  # kept on every page
        self._page(body.get("cursor"))

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def paging_store() -> Iterator[MemoryTokenStore]:
    with serve_on_loopback(_Pages) as origin:
        yield _paging_store(origin)


def _paging_store(origin: str) -> MemoryTokenStore:
    _Pages.token = "paging-test-access-token"
    _Pages.seen = []
    now = time.time()
    store = MemoryTokenStore()
    store.put(
        "acme",
        Token(
            access_token=_Pages.token,
            refresh_token="paging-test-refresh",
            expires_at=now + 86_400,
            issued_at=now,
            api_base_url=origin,
            scope=frozenset({"api:calls:read:basic"}),
        ),
    )
    return store


def _trusting(fake_gong: FakeGong, store: MemoryTokenStore) -> Any:
    """A client that trusts the paging server's origin: stored base URLs are re-checked."""
    token = store.get("acme")
    assert token is not None
    return fake_gong.oauth_client(trusted_api_origins=[token.api_base_url])


def test_paginate_follows_the_cursor_in_the_query(
    fake_gong: FakeGong, paging_store: MemoryTokenStore
) -> None:
    with gong_httpx_client(
        _trusting(fake_gong, paging_store), paging_store, "acme", rate_limit=None
    ) as client:
        pages = list(client.paginate("/v2/calls", params={"fromDateTime": "2026-01-01"}))
    assert [page["calls"] for page in pages] == [[1, 2], [3, 4], [5]]
    assert _Pages.seen == [("GET", None), ("GET", "c2"), ("GET", "c3")]


def test_async_paginate_follows_the_cursor_in_the_body(
    fake_gong: FakeGong, paging_store: MemoryTokenStore
) -> None:
    body = {"filter": {"fromDateTime": "2026-01-01T00:00:00Z"}}

    async def main() -> list[Any]:
        async with gong_async_client(
            _trusting(fake_gong, paging_store), paging_store, "acme", rate_limit=None
        ) as client:
            return [
                page["calls"]
                async for page in client.paginate("/v2/calls/extensive", method="POST", json=body)
            ]

    assert asyncio.run(main()) == [[1, 2], [3, 4], [5]]
    assert _Pages.seen == [("POST", None), ("POST", "c2"), ("POST", "c3")]
    assert body == {"filter": {"fromDateTime": "2026-01-01T00:00:00Z"}}  # the caller's, untouched


def test_nothing_found_is_an_empty_result(
    fake_gong: FakeGong, paging_store: MemoryTokenStore
) -> None:
    with gong_httpx_client(
        _trusting(fake_gong, paging_store), paging_store, "acme", rate_limit=None
    ) as client:
        assert list(client.paginate("/v2/users")) == []

    async def main() -> list[Any]:
        async with gong_async_client(
            _trusting(fake_gong, paging_store), paging_store, "acme", rate_limit=None
        ) as client:
            return [page async for page in client.paginate("/v2/users")]

    assert asyncio.run(main()) == []


def test_a_repeated_cursor_stops_paging_on_every_front_end(
    fake_gong: FakeGong, paging_store: MemoryTokenStore
) -> None:
    """A server bug must not become an endless loop of calls: httpx sync and async and
    requests all stop at the first cursor Gong gives twice, after yielding the pages."""
    pages: list[Any] = []
    with (
        gong_httpx_client(
            _trusting(fake_gong, paging_store), paging_store, "acme", rate_limit=None
        ) as client,
        pytest.raises(httpx.HTTPStatusError, match="repeated a cursor on /v2/loop"),
    ):
        pages.extend(page["calls"] for page in client.paginate("/v2/loop"))
    assert pages == [[1], [2], [3]]
    assert _Pages.seen == [("GET", None), ("GET", "c2"), ("GET", "c3")]

    got: list[Any] = []

    async def collect(client: GongAsyncClient) -> None:
        async for page in client.paginate("/v2/loop"):
            got.append(page["calls"])

    async def main() -> None:
        async with gong_async_client(
            _trusting(fake_gong, paging_store), paging_store, "acme", rate_limit=None
        ) as client:
            with pytest.raises(httpx.HTTPStatusError, match="repeated a cursor"):
                await collect(client)

    asyncio.run(main())
    assert got == [[1], [2], [3]]
    session = gong_session(
        _trusting(fake_gong, paging_store), paging_store, "acme", rate_limit=None
    )
    with pytest.raises(requests.HTTPError, match="repeated a cursor on /v2/loop"):
        list(session.paginate("/v2/loop"))
    assert len(_Pages.seen) == 9


def test_other_errors_raise(fake_gong: FakeGong, store: MemoryTokenStore) -> None:
    with gong_httpx_client(fake_gong.oauth_client(), store, "acme", rate_limit=None) as client:
        fake_gong.inject("api", "status", status=403)
        with pytest.raises(httpx.HTTPStatusError, match="403"):
            list(client.paginate("/v2/users"))


def test_paging_rules() -> None:
    first = first_page("GET", {"a": 1}, None)
    assert next_page(first, "GET", {"records": {"cursor": "x"}}) == PageRequest(
        {"a": 1, "cursor": "x"}, None
    )
    assert next_page(first, "GET", {"records": {"totalRecords": 1}}) is None
    assert next_page(first, "GET", {"records": {"cursor": ""}}) is None
    assert next_page(first, "GET", ["not", "a", "page"]) is None
    post = first_page("POST", None, {"filter": {}})
    assert next_page(post, "POST", {"records": {"cursor": "y"}}) == PageRequest(
        None, {"filter": {}, "cursor": "y"}
    )
    assert is_nothing_found(404, {"errors": ["No calls found corresponding to the filters"]})
    assert not is_nothing_found(404, {"errors": ["No endpoint GET /v2/x"]})
    assert not is_nothing_found(400, {"errors": ["No calls found"]})
    with pytest.raises(ValueError, match="cursor as a query parameter"):
        first_page("GET", None, {"cursor": "z"})
    second = next_page(first, "GET", {"records": {"cursor": "x"}})
    assert second is not None
    third = next_page(second, "GET", {"records": {"cursor": "y"}})
    assert third == PageRequest({"a": 1, "cursor": "y"}, None)
    with pytest.raises(RepeatedCursor):
        next_page(third, "GET", {"records": {"cursor": "x"}})
