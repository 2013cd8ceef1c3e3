"""FakeGong's list endpoints, limits and settings answer as Gong's do (paging,
404 for an empty window, 429 with Retry-After, integration settings)."""

from __future__ import annotations

import json

import pytest
import requests

from gong_authlib.testing import FakeGong
from gong_authlib.testing.clock import FakeClock
from gong_authlib.token import Token
from tests.test_fakegong import _get, _token

ALL = ["api:users:read", "api:calls:read:basic", "api:calls:read:extensive"]


def _post(token: Token, path: str, body: object, **params: str) -> requests.Response:
    return requests.post(
        token.api_base_url + path,
        json=body,
        params=params,
        headers={"Authorization": f"Bearer {token.access_token}"},
        timeout=5,
    )


def test_users_are_paged_with_records_and_a_cursor_until_the_last_page() -> None:
    with FakeGong(page_size=2) as gong:
        gong.add_customer("acme")
        gong.set_records("acme", users=5)
        token = _token(gong, "acme", ALL)
        first = _get(token, "/v2/users").json()
        assert first["records"]["totalRecords"] == 5
        assert first["records"]["currentPageSize"] == 2
        assert first["records"]["currentPageNumber"] == 0
        pages, cursor = [first], first["records"]["cursor"]
        while cursor:
            page = _get(token, f"/v2/users?cursor={cursor}").json()
            pages.append(page)
            cursor = page["records"].get("cursor")
        assert [p["records"]["currentPageNumber"] for p in pages] == [0, 1, 2]
        assert "cursor" not in pages[-1]["records"]
        ids = [u["id"] for p in pages for u in p["users"]]
        assert len(set(ids)) == 5
        assert all(isinstance(i, str) and int(i) > 2**53 for i in ids)
        documented = {"id", "emailAddress", "firstName", "lastName", "title", "active"}
        assert documented | {"created", "managerId", "settings"} <= set(pages[0]["users"][0])


def test_calls_list_has_gongs_fields_and_an_empty_window_is_404(fake_gong: FakeGong) -> None:
    token = _token(fake_gong, "acme", ALL)
    calls = _get(token, "/v2/calls").json()["calls"]
    assert {"id", "url", "title", "started", "duration", "primaryUserId", "direction"} <= set(
        calls[0]
    )
    assert {"system", "scope", "media", "language", "workspaceId"} <= set(calls[0])
    empty = _get(
        token, "/v2/calls?fromDateTime=2020-01-01T00:00:00Z&toDateTime=2020-01-02T00:00:00Z"
    )
    assert empty.status_code == 404
    assert set(empty.json()) == {"requestId", "errors"}
    assert empty.json()["errors"] == ["No calls found corresponding to the provided filters"]
    bad = _get(token, "/v2/calls?fromDateTime=yesterday")
    assert bad.status_code == 400


def test_post_endpoints_take_the_cursor_in_the_json_body_only() -> None:
    with FakeGong(page_size=3) as gong:
        gong.add_customer("acme")
        gong.set_records("acme", calls=7)
        token = _token(gong, "acme", ALL)
        first = _post(token, "/v2/calls/extensive", {"filter": {}})
        assert first.status_code == 200
        assert "metaData" in first.json()["calls"][0]
        cursor = first.json()["records"]["cursor"]
        second = _post(token, "/v2/calls/extensive", {"filter": {}, "cursor": cursor})
        assert second.json()["records"]["currentPageNumber"] == 1
        in_query = _post(token, "/v2/calls/extensive", {"filter": {}}, cursor=cursor)
        assert in_query.status_code == 400
        assert "JSON body" in in_query.json()["errors"][0]
        other_filter = _post(
            token,
            "/v2/calls/extensive",
            {"filter": {"fromDateTime": "2026-01-05T00:00:00Z"}, "cursor": cursor},
        )
        assert other_filter.status_code == 400
        forged = _get(token, "/v2/users?cursor=not-issued")
        assert forged.status_code == 400


def test_users_extensive_pages_by_body_cursor() -> None:
    with FakeGong(page_size=2) as gong:
        gong.add_customer("acme")
        gong.set_records("acme", users=3)
        token = _token(gong, "acme", ALL)
        first = _post(token, "/v2/users/extensive", {"filter": {}}).json()
        last = _post(
            token, "/v2/users/extensive", {"filter": {}, "cursor": first["records"]["cursor"]}
        ).json()
        assert [len(first["users"]), len(last["users"])] == [2, 1]
        assert "cursor" not in last["records"]


def test_per_second_limit_follows_the_rate_clock() -> None:
    clock = FakeClock()
    with FakeGong(rate_limit=3, rate_clock=clock) as gong:
        gong.add_customer("acme")
        gong.add_customer("globex")
        token = _token(gong, "acme")
        other = _token(gong, "globex")
        assert [_get(token, "/v2/users").status_code for _ in range(4)] == [200, 200, 200, 429]
        assert _get(other, "/v2/users").status_code == 200  # per company
        clock.advance(0.999)
        assert _get(token, "/v2/users").status_code == 429
        clock.advance(0.001)
        assert _get(token, "/v2/users").status_code == 200


def test_daily_limit_answers_429_with_hours_until_the_day_turns() -> None:
    clock = FakeClock(start=86_400 * 20_000 + 3600)  # 01:00 UTC
    with FakeGong(daily_limit=2, rate_clock=clock) as gong:
        gong.add_customer("acme")
        token = _token(gong, "acme")
        assert [_get(token, "/v2/users").status_code for _ in range(2)] == [200, 200]
        refused = _get(token, "/v2/users")
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) == 23 * 3600
        assert gong.stats.api_429_daily["acme"] == 1
        clock.advance(23 * 3600)
        assert _get(token, "/v2/users").status_code == 200


def test_integration_settings_answer_may_lack_the_id_and_can_be_read_back() -> None:
    with FakeGong(answer_integration_id=False) as gong:
        gong.add_customer("acme")
        token = _token(gong, "acme", ["api:integration-settings:write"])
        setting = {"integrationType": "DIALER", "allowedOrigin": "https://acme.partner.example"}
        created = _post(token, "/v2/integration-settings", {"integrationTypeSettings": [setting]})
        assert created.status_code == 200
        assert set(json.loads(created.text)) == {"requestId"}
        read = _get(token, "/v2/integration-settings").json()
        assert read["integrationSettings"]["settings"] == [setting]


def test_unknown_fault_kind_and_unknown_endpoint_are_refused(fake_gong: FakeGong) -> None:
    with pytest.raises(ValueError, match="fault kind"):
        fake_gong.inject("api", "explode")
    token = _token(fake_gong, "acme", ALL)
    assert _post(token, "/v2/nothing", {}).status_code == 404


def test_one_call_by_id_is_the_record_the_list_gives_and_needs_the_basic_scope() -> None:
    with FakeGong() as gong:
        gong.add_customer("acme")
        gong.add_customer("globex")
        gong.set_records("acme", calls=3)
        token = _token(gong, "acme", ALL)
        listed = _get(token, "/v2/calls").json()["calls"][2]
        one = _get(token, f"/v2/calls/{listed['id']}")
        assert one.status_code == 200
        assert one.json()["call"] == listed
        assert set(one.json()) == {"requestId", "call"}
        # An id one past the last call, another company's call id, and a non-number: 404.
        other = _get(_token(gong, "globex", ALL), "/v2/calls").json()["calls"][0]["id"]
        for wrong in (str(int(listed["id"]) + 1), other, "extensive", "12%2F3"):
            missing = _get(token, f"/v2/calls/{wrong}")
            assert missing.status_code == 404, wrong
            assert set(missing.json()) == {"requestId", "errors"}
        users_only = _token(gong, "acme", ["api:users:read"])
        refused = _get(users_only, f"/v2/calls/{listed['id']}")
        assert refused.status_code == 401
        assert "api:calls:read:basic" in refused.json()["errors"][0]
        assert _get(token, f"/v2/calls/{listed['id']}/media").status_code == 404


def test_every_route_is_one_row_that_the_scope_check_and_the_router_share() -> None:
    from gong_authlib.testing.emulator import API_ROUTES
    from gong_authlib.testing.routes import find_route

    assert len({(r.method, r.pattern) for r in API_ROUTES}) == len(API_ROUTES)
    found = find_route(API_ROUTES, "GET", "/v2/calls/123")
    assert found is not None
    assert found[0].pattern == "/v2/calls/{id}"
    assert found[1] == {"id": "123"}
    assert find_route(API_ROUTES, "GET", "/v2/users/") is None
    assert find_route(API_ROUTES, "DELETE", "/v2/users") is None
    assert find_route(API_ROUTES, "GET", "/v2/calls/1/2") is None
