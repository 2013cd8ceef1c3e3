"""GongSession.paginate and records against FakeGong: cursors on GET and POST, 404 as empty."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from gong_authlib import GongSession, RateLimit, RateLimiter, gong_session
from gong_authlib.stores import MemoryTokenStore
from gong_authlib.testing import FakeClock, FakeGong
from tests.authflow import authorize_into

SCOPES = ("api:users:read", "api:calls:read:basic", "api:calls:read:extensive")


@pytest.fixture
def gong() -> Iterator[FakeGong]:
    with FakeGong(page_size=2) as gong:
        gong.add_customer("acme")
        yield gong


def _session(gong: FakeGong) -> GongSession:
    store = MemoryTokenStore()
    client = gong.oauth_client()
    url, _ = client.authorization_url(SCOPES, gong.redirect_uri, customer="acme")
    pending, code = client.parse_callback(gong.approve(url), redirect_uri=gong.redirect_uri)
    store.put("acme", client.exchange_code(code, gong.redirect_uri, customer=pending.customer))
    return gong_session(client, store, "acme", rate_limit=None)


def test_get_pages_follow_the_cursor_query_parameter(gong: FakeGong) -> None:
    gong.set_records("acme", users=5)
    session = _session(gong)
    pages = list(session.paginate("/v2/users"))
    assert [page["records"]["currentPageNumber"] for page in pages] == [0, 1, 2]
    assert [len(page["users"]) for page in pages] == [2, 2, 1]
    assert gong.stats.api_calls["acme"] == 3
    users = list(session.records("/v2/users", "users"))
    assert len({user["id"] for user in users}) == 5


def test_post_pages_carry_the_cursor_in_the_json_body(gong: FakeGong) -> None:
    gong.set_records("acme", calls=5)
    session = _session(gong)
    body = {"filter": {"fromDateTime": "2026-01-01T00:00:00Z"}}
    calls = list(session.records("/v2/calls/extensive", "calls", method="POST", json=body))
    assert len(calls) == 5
    assert len({call["metaData"]["id"] for call in calls}) == 5
    assert body == {"filter": {"fromDateTime": "2026-01-01T00:00:00Z"}}  # caller's dict untouched


def test_filters_in_params_are_kept_on_every_page(gong: FakeGong) -> None:
    gong.set_records("acme", calls=6)
    session = _session(gong)
    window = {"fromDateTime": "2026-01-05T10:00:00Z", "toDateTime": "2026-01-05T14:00:00Z"}
    calls = list(session.records("/v2/calls", "calls", params=window))
    assert [call["started"] for call in calls] == [
        "2026-01-05T10:00:00Z",
        "2026-01-05T11:00:00Z",
        "2026-01-05T12:00:00Z",
        "2026-01-05T13:00:00Z",
    ]


def test_gongs_404_for_an_empty_window_is_an_empty_result(gong: FakeGong) -> None:
    session = _session(gong)
    window = {"fromDateTime": "2020-01-01T00:00:00Z", "toDateTime": "2020-01-02T00:00:00Z"}
    assert list(session.paginate("/v2/calls", params=window)) == []
    gong.set_records("acme", users=0)
    assert list(session.records("/v2/users", "users")) == []


def test_other_failures_raise(gong: FakeGong) -> None:
    session = _session(gong)
    with pytest.raises(requests.HTTPError):
        list(session.paginate("/v2/nothing"))
    with pytest.raises(requests.HTTPError):  # a bad filter is a 400, not an empty result
        list(session.paginate("/v2/calls", params={"fromDateTime": "soon"}))


def test_a_404_that_is_not_gongs_empty_window_is_an_error(gong: FakeGong) -> None:
    session = _session(gong)
    gong.inject("api", "body", status=404, body={"errors": ["No endpoint found for this path"]})
    with pytest.raises(requests.HTTPError, match="404"):
        list(session.paginate("/v2/users"))


@pytest.mark.parametrize("kind", ["html", "list"])
def test_a_success_that_is_not_a_page_is_a_clear_error(gong: FakeGong, kind: str) -> None:
    session = _session(gong)
    if kind == "html":
        gong.inject("api", "html", status=200)
    else:
        gong.inject("api", "body", status=200, body=[{"id": "1"}])
    with pytest.raises(requests.HTTPError, match="not a JSON object on /v2/users"):
        list(session.paginate("/v2/users"))


def test_a_resumed_cursor_given_again_is_a_loop(gong: FakeGong) -> None:
    gong.set_records("acme", users=5)
    session = _session(gong)
    first = next(session.paginate("/v2/users"))
    cursor = first["records"]["cursor"]
    gong.inject("api", "body", status=200, body={"records": {"cursor": cursor}, "users": []})
    with pytest.raises(requests.HTTPError, match="repeated a cursor"):
        list(session.paginate("/v2/users", params={"cursor": cursor}))


def test_every_page_takes_a_slot_of_the_budget(gong: FakeGong) -> None:
    gong.set_records("acme", users=6)
    store = MemoryTokenStore()
    authorize_into(gong, store)
    clock = FakeClock()
    began = clock()
    limit = RateLimit()
    limiter = RateLimiter(store, limit, clock=clock, sleep=clock.advance)
    session = gong_session(gong.oauth_client(), store, "acme", rate_limiter=limiter)
    assert len(list(session.records("/v2/users", "users"))) == 6
    interval = limit.budget("acme").interval
    assert clock() - began == pytest.approx(2 * interval)  # pages 2 and 3 waited their turn
