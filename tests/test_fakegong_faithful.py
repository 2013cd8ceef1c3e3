"""FakeGong answers like Gong for clients nobody here wrote (issue 21 item 4): third-party
OAuth sessions with their defaults, the call and user endpoints they use, the filters they
send, and a server a broken client cannot hold."""

from __future__ import annotations

import base64
import logging
import socket
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from gong_authlib.testing import FakeGong
from gong_authlib.token import Token
from tests.test_fakegong import _get, _token
from tests.test_fakegong_lists import _post

SCOPES = ["api:users:read", "api:calls:read:basic"]
ALL = [
    "api:users:read",
    "api:calls:read:basic",
    "api:calls:read:extensive",
    "api:calls:read:transcript",
    "api:workspaces:read",
]


@pytest.fixture
def insecure_loopback(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """Both libraries refuse http:// token URLs unless told; FakeGong is http on 127.0.0.1.
    requests-oauthlib logs whole token answers at DEBUG: kept at INFO, as an app should."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    for name in ("requests_oauthlib", "oauthlib", "authlib"):
        caplog.set_level(logging.INFO, logger=name)


def _code(gong: FakeGong) -> str:
    client = gong.oauth_client()
    url, _ = client.authorization_url(SCOPES, gong.redirect_uri)
    return parse_qs(urlsplit(gong.approve(url)).query)["code"][0]


def _exchange(gong: FakeGong, **params: str) -> requests.Response:
    return requests.post(
        gong.token_url,
        data={"grant_type": "authorization_code", "redirect_uri": gong.redirect_uri, **params},
        auth=(gong.client_id, gong.client_secret),
        timeout=5,
    )


@pytest.mark.usefixtures("insecure_loopback")
def test_requests_oauthlib_with_its_defaults_exchanges_and_refreshes(fake_gong: FakeGong) -> None:
    session = OAuth2Session(fake_gong.client_id, redirect_uri=fake_gong.redirect_uri, scope=SCOPES)
    url, _state = session.authorization_url(fake_gong.authorize_url)
    callback = fake_gong.approve(url)
    token = session.fetch_token(
        fake_gong.token_url, authorization_response=callback, client_secret=fake_gong.client_secret
    )
    assert token["api_base_url_for_customer"] == fake_gong.trusted_origins[0]
    users = session.get(token["api_base_url_for_customer"] + "/v2/users", timeout=5)
    assert users.status_code == 200
    fresh = session.refresh_token(
        fake_gong.token_url, auth=HTTPBasicAuth(fake_gong.client_id, fake_gong.client_secret)
    )
    assert fresh["refresh_token"] != token["refresh_token"]
    assert fake_gong.stats.form_body == {"authorization_code": 1, "refresh_token": 1}
    assert fake_gong.stats.refreshes("acme") == 1


@pytest.mark.usefixtures("insecure_loopback")
def test_authlib_session_with_its_defaults_exchanges_and_refreshes(fake_gong: FakeGong) -> None:
    session = AuthlibSession(
        fake_gong.client_id,
        fake_gong.client_secret,
        scope=" ".join(SCOPES),
        redirect_uri=fake_gong.redirect_uri,
    )
    url, _state = session.create_authorization_url(fake_gong.authorize_url)
    token = session.fetch_token(fake_gong.token_url, authorization_response=fake_gong.approve(url))
    fresh = session.refresh_token(fake_gong.token_url)
    assert fresh["access_token"] != token["access_token"]
    assert sum(fake_gong.stats.form_body.values()) == 2


def test_strict_query_refuses_what_those_sessions_send() -> None:
    with FakeGong(strict_query=True) as gong:
        gong.add_customer("acme")
        refused = _exchange(gong, code=_code(gong), client_id=gong.client_id)
        assert refused.status_code == 400
        assert "query string" in refused.json()["error_description"]
        missing = requests.post(
            gong.token_url,
            params={"grant_type": "authorization_code", "code": _code(gong)}
            | {"redirect_uri": gong.redirect_uri},
            auth=(gong.client_id, gong.client_secret),
            timeout=5,
        )
        assert missing.json()["error_description"] == "client_id is missing"


def test_basic_auth_names_the_client_so_client_id_may_be_absent_but_not_wrong(
    fake_gong: FakeGong,
) -> None:
    assert _exchange(fake_gong, code=_code(fake_gong)).status_code == 200
    wrong = _exchange(fake_gong, code=_code(fake_gong), client_id="someone-else")
    assert (wrong.status_code, wrong.json()["error_description"]) == (
        400,
        "client_id does not match",
    )


@pytest.fixture
def gong() -> Iterator[FakeGong]:
    with FakeGong() as gong:
        gong.add_customer("acme")
        gong.set_records("acme", users=3, calls=6)
        yield gong


def test_extensive_calls_honour_call_ids_users_and_workspace(gong: FakeGong) -> None:
    token = _token(gong, "acme", ALL)
    calls = _get(token, "/v2/calls").json()["calls"]
    one = _post(token, "/v2/calls/extensive", {"filter": {"callIds": [calls[4]["id"]]}})
    assert [c["metaData"]["id"] for c in one.json()["calls"]] == [calls[4]["id"]]

    host = calls[1]["primaryUserId"]
    by_user = _post(token, "/v2/calls/extensive", {"filter": {"primaryUserIds": [host]}}).json()
    chosen = {c["metaData"]["id"] for c in by_user["calls"]}
    assert chosen == {c["id"] for c in calls if c["primaryUserId"] == host}
    assert 0 < len(chosen) < len(calls)

    workspace = _get(token, "/v2/workspaces").json()["workspaces"][0]["id"]
    assert calls[0]["workspaceId"] == workspace
    same = _post(token, "/v2/calls/extensive", {"filter": {"workspaceId": workspace}})
    assert same.json()["records"]["totalRecords"] == 6
    other = _post(token, "/v2/calls/extensive", {"filter": {"workspaceId": "1234"}})
    assert other.status_code == 404
    assert other.json()["errors"] == ["No calls found corresponding to the provided filters"]
    bad = _post(token, "/v2/calls/extensive", {"filter": {"callIds": "1"}})
    assert bad.status_code == 400


def test_content_selector_fills_parties_and_context_only_when_asked(gong: FakeGong) -> None:
    token = _token(gong, "acme", ALL)
    plain = _post(token, "/v2/calls/extensive", {}).json()["calls"][0]
    assert (plain["parties"], plain["context"]) == ([], [])
    selector = {"context": "Extended", "exposedFields": {"parties": True}}
    rich = _post(token, "/v2/calls/extensive", {"contentSelector": selector}).json()["calls"][0]
    internal, external = rich["parties"]
    assert internal["userId"] == rich["metaData"]["primaryUserId"]
    assert (internal["affiliation"], external["affiliation"]) == ("Internal", "External")
    [crm] = rich["context"]
    assert crm["system"] == "Salesforce"
    assert {o["objectType"] for o in crm["objects"]} == {"Opportunity", "Account"}
    assert all(o["fields"] for o in crm["objects"])
    basic = _post(token, "/v2/calls/extensive", {"contentSelector": {"context": "Basic"}}).json()
    assert "fields" not in basic["calls"][0]["context"][0]["objects"][0]
    wrong = _post(token, "/v2/calls/extensive", {"contentSelector": {"context": "All"}})
    assert wrong.status_code == 400


def test_one_call_one_user_workspaces_and_transcripts_answer_as_gong(gong: FakeGong) -> None:
    token = _token(gong, "acme", ALL)
    call = _get(token, "/v2/calls").json()["calls"][2]
    one = _get(token, f"/v2/calls/{call['id']}").json()
    assert (one["call"], bool(one["requestId"])) == (call, True)
    user = _get(token, "/v2/users").json()["users"][1]
    assert _get(token, f"/v2/users/{user['id']}").json()["user"] == user
    for path in ("/v2/calls/7", f"/v2/users/{int(user['id']) + 100}"):
        missing = _get(token, path)
        assert missing.status_code == 404
        assert set(missing.json()) == {"requestId", "errors"}
    [workspace] = _get(token, "/v2/workspaces").json()["workspaces"]
    assert {"id", "name", "description"} <= set(workspace)
    assert isinstance(workspace["id"], str)

    transcripts = _post(token, "/v2/calls/transcript", {"filter": {"callIds": [call["id"]]}})
    [entry] = transcripts.json()["callTranscripts"]
    assert entry["callId"] == call["id"]
    assert transcripts.json()["records"]["totalRecords"] == 1
    asked = {"contentSelector": {"exposedFields": {"parties": True}}}
    extensive = _post(token, "/v2/calls/extensive", {**asked, "filter": {"callIds": [call["id"]]}})
    speakers = {p["speakerId"] for p in extensive.json()["calls"][0]["parties"]}
    assert {t["speakerId"] for t in entry["transcript"]} == speakers
    assert all(s["text"] for t in entry["transcript"] for s in t["sentences"])


def test_each_new_endpoint_needs_its_scope(gong: FakeGong) -> None:
    token = _token(gong, "acme", ["api:calls:read:basic"])
    for answer, scope in (
        (_get(token, "/v2/workspaces"), "api:workspaces:read"),
        (_get(token, "/v2/users/1"), "api:users:read"),
        (_post(token, "/v2/calls/transcript", {}), "api:calls:read:transcript"),
    ):
        assert answer.status_code == 401
        assert answer.json()["errors"] == [
            f"You don't have permission to use '{scope}' in your app."
        ]


def test_a_short_body_is_released_and_the_server_keeps_serving() -> None:
    assert FakeGong().read_timeout <= 30
    with FakeGong(read_timeout=0.2) as gong:
        gong.add_customer("acme")
        token: Token = _token(gong, "acme")
        port = int(urlsplit(gong.url).port or 0)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as held:
            # 100 bytes promised, 10 sent: the handler waits for the rest...
            held.sendall(
                b"POST /oauth2/generate-customer-token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
                b"grant_type"
            )
            # ...while the same server answers others meanwhile
            token = gong.oauth_client().refresh(token, customer="acme")
            answer = b""
            while chunk := held.recv(4096):  # ends when the server closes the connection
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert b"Connection: close" in answer
        assert _get(token, "/v2/users").status_code == 200


def test_basic_credentials_in_the_form_answer_are_never_echoed(fake_gong: FakeGong) -> None:
    answer = _exchange(fake_gong, code=_code(fake_gong))
    pair = base64.b64encode(f"{fake_gong.client_id}:{fake_gong.client_secret}".encode())
    assert fake_gong.client_secret not in answer.text
    assert pair.decode() not in answer.text
