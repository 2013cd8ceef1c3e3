"""The web helpers' choices, in-process: the public URL is configuration (a Host header does
not move it), 401 says nothing, 503 for a store that cannot be read, bodies are bounded."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from typing import Any

import flask
import pytest
from fastapi import Depends, FastAPI
from starlette.applications import Starlette
from starlette.testclient import TestClient

from gong_authlib.stores import MemoryTokenStore, RedisTokenStore, TokenStore
from gong_authlib.testing import FakeGong
from gong_authlib.testing.control import control_reply
from gong_authlib.web import WebhookReceiver
from gong_authlib.web.flask import gong_webhook_blueprint
from gong_authlib.web.starlette import gong_webhook, gong_webhook_routes
from gong_authlib.webhooks import GongWebhook
from tests.servers import RedisServer
from tests.services import require_programs

PUBLIC = "https://app.example.com"
OTHER_APP = "https://other-app.example"  # another app the same Gong company sends to


@pytest.fixture(scope="module")
def gong() -> Iterator[FakeGong]:
    with FakeGong() as running:
        running.add_customer("acme")
        yield running


@pytest.fixture
def store(gong: FakeGong) -> TokenStore:
    keys = MemoryTokenStore()
    keys.add_webhook_key("acme", gong.webhook_public_key("acme"))
    return keys


class FlaskClient:
    """Flask's test client spoken to as the Starlette one is (``content=``)."""

    def __init__(self, receiver: WebhookReceiver) -> None:
        app = flask.Flask(__name__)
        app.register_blueprint(
            gong_webhook_blueprint(receiver, on_delivery=lambda customer, webhook: None)
        )
        self.client = app.test_client()

    def post(self, path: str, *, content: bytes, **options: Any) -> Any:
        answer = self.client.post(path, data=content, **options)
        answer.text = answer.get_data(as_text=True)
        return answer


def flask_client(receiver: WebhookReceiver) -> Any:
    return FlaskClient(receiver)


def starlette_client(receiver: WebhookReceiver) -> TestClient:
    routes = gong_webhook_routes(receiver, on_delivery=lambda request, customer, webhook: None)
    return TestClient(Starlette(routes=routes))


def fastapi_client(receiver: WebhookReceiver) -> TestClient:
    app = FastAPI()
    verified = gong_webhook(receiver)

    @app.post("/gong/webhook/{customer}", status_code=204)
    def receive(customer: str, webhook: GongWebhook = Depends(verified)) -> None:  # noqa: B008
        assert webhook.call_id

    return TestClient(app)


CLIENTS = {"flask": flask_client, "starlette": starlette_client, "fastapi": fastapi_client}


@pytest.mark.parametrize("framework", list(CLIENTS))
def test_the_configured_url_decides_not_the_host_header(
    framework: str, gong: FakeGong, store: TokenStore, caplog: pytest.LogCaptureFixture
) -> None:
    ours = gong.sign_webhook(PUBLIC + "/gong/webhook/acme", customer="acme")
    theirs = gong.sign_webhook(OTHER_APP + "/gong/webhook/acme", customer="acme")
    configured = CLIENTS[framework](WebhookReceiver(store, public_url=PUBLIC))
    # The app listens on some private address; Gong reached it at PUBLIC through a proxy.
    answer = configured.post("/gong/webhook/acme", content=ours.body, headers=ours.headers)
    assert answer.status_code == 204
    with caplog.at_level(logging.WARNING, logger="gong_authlib"):
        # A delivery meant for another app, replayed here with that app's Host header.
        headers = {**theirs.headers, "Host": "other-app.example", "X-Forwarded-Proto": "https"}
        replayed = configured.post("/gong/webhook/acme", content=theirs.body, headers=headers)
    assert replayed.status_code == 401
    assert "url_mismatch" not in replayed.text
    assert "webhook rejected (url_mismatch): it was signed for another URL" in caplog.text
    assert "'acme'" in caplog.text

    # The app that opts in takes its server's idea of the URL, Host header included.
    trusting = CLIENTS[framework](WebhookReceiver(store, trust_request_url=True))
    taken = trusting.post(
        "/gong/webhook/acme",
        content=theirs.body,
        headers={**theirs.headers, "Host": "other-app.example"},
        **({"base_url": OTHER_APP} if framework == "flask" else {}),
    )
    if framework == "flask":
        assert taken.status_code == 204
    else:  # the test client's own scheme is http: the URL still differs, and is refused
        assert taken.status_code == 401


@pytest.mark.parametrize("framework", list(CLIENTS))
def test_a_forged_header_of_any_json_shape_is_401_not_500(
    framework: str, gong: FakeGong, store: TokenStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Before any signature is checked the header is the sender's JSON: an ``alg`` that is a
    list must be refused like any wrong algorithm, not crash the route."""
    delivery = gong.sign_webhook(PUBLIC + "/gong/webhook/acme", customer="acme")
    _, claims, signature = delivery.headers["Authorization"].split(".")
    header = base64.urlsafe_b64encode(b'{"alg":["RS256"]}').rstrip(b"=").decode()
    forged = f"{header}.{claims}.{signature}"
    client = CLIENTS[framework](WebhookReceiver(store, public_url=PUBLIC))
    with caplog.at_level(logging.WARNING, logger="gong_authlib"):
        answer = client.post(
            "/gong/webhook/acme", content=delivery.body, headers={"Authorization": forged}
        )
    assert answer.status_code == 401
    assert "webhook rejected (wrong_algorithm)" in caplog.text
    assert claims[:32] not in caplog.text
    assert signature[:32] not in caplog.text


def test_a_receiver_must_be_told_where_it_is_reached(store: TokenStore) -> None:
    with pytest.raises(ValueError, match="public_url="):
        WebhookReceiver(store)
    with pytest.raises(ValueError, match="public_url="):
        WebhookReceiver(store, public_url=PUBLIC, trust_request_url=True)


@pytest.fixture(scope="module")
def redis_gone(tmp_path_factory: pytest.TempPathFactory, gong: FakeGong) -> Iterator[TokenStore]:
    """A Redis store that held acme's key, whose server has since stopped."""
    binary = require_programs("redis-server")["redis-server"]
    server = RedisServer(binary, tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        store = RedisTokenStore(server.url, socket_timeout=0.5)
        store.add_webhook_key("acme", gong.webhook_public_key("acme"))
    finally:
        server.stop()
    yield store
    store.close()


@pytest.mark.parametrize("framework", list(CLIENTS))
def test_a_store_that_cannot_be_read_is_503_and_a_huge_body_401(
    framework: str, gong: FakeGong, redis_gone: TokenStore
) -> None:
    delivery = gong.sign_webhook(PUBLIC + "/gong/webhook/acme", customer="acme")
    down = redis_gone
    client = CLIENTS[framework](WebhookReceiver(down, public_url=PUBLIC))
    answer = client.post("/gong/webhook/acme", content=delivery.body, headers=delivery.headers)
    assert answer.status_code == 503
    bounded = CLIENTS[framework](
        WebhookReceiver(MemoryTokenStore(), public_url=PUBLIC, max_body=64)
    )
    big = bounded.post("/gong/webhook/acme", content=b"x" * 10_000, headers=delivery.headers)
    assert big.status_code == 401


def test_flask_without_a_raw_uri_rebuilds_the_path(gong: FakeGong, store: TokenStore) -> None:
    """wsgiref and some WSGI servers give no RAW_URI/REQUEST_URI: the path is rebuilt."""
    delivery = gong.sign_webhook(PUBLIC + "/gong/webhook/acme", customer="acme")
    client = FlaskClient(WebhookReceiver(store, public_url=PUBLIC))
    answer = client.post(
        "/gong/webhook/acme",
        content=delivery.body,
        headers=delivery.headers,
        environ_overrides={"RAW_URI": "", "REQUEST_URI": ""},
    )
    assert answer.status_code == 204


def test_flask_reads_the_path_of_an_absolute_form_raw_uri(
    gong: FakeGong, store: TokenStore
) -> None:
    """A request sent through a forward proxy names the whole URL as its target (RFC 9112
    3.2.2), and gunicorn passes it on as RAW_URI: only its path is compared."""
    delivery = gong.sign_webhook(PUBLIC + "/gong/webhook/acme", customer="acme")
    client = FlaskClient(WebhookReceiver(store, public_url=PUBLIC))
    answer = client.post(
        "/gong/webhook/acme",
        content=delivery.body,
        headers=delivery.headers,
        environ_overrides={"RAW_URI": "http://internal:8000/gong/webhook/acme"},
    )
    assert answer.status_code == 204


def test_the_control_api_gives_the_key_and_says_when_a_receiver_is_unreachable(
    gong: FakeGong,
) -> None:
    token = "control-" + "t" * 32

    def control(action: str, **arguments: object) -> Any:
        return control_reply(
            gong,
            token,
            peer="127.0.0.1",
            method="POST",
            path=f"/_fakegong/{action}",
            authorization=f"Bearer {token}",
            body=json.dumps(arguments).encode(),
        )

    key = control("webhook-public-key", customer="acme")
    assert key.status == 200
    assert key.body["result"] == {"public_key": gong.webhook_public_key("acme")}
    unreachable = control(
        "fire-webhook", url="http://127.0.0.1:1/gong/webhook/acme", customer="acme"
    )
    assert unreachable.status == 400
    assert unreachable.body["error"].startswith("fire-webhook: ")
    unknown = control("fire-webhook", url="http://127.0.0.1:1/", customer="acme", call="12")
    assert unknown.status == 400
    assert "has no call '12'" in unknown.body["error"]
