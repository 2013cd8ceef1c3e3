"""Must show: a Flask app under gunicorn and a FastAPI app under uvicorn receive deliveries
for two customers fired by FakeGong's standalone server (its control API and `fakegong ctl`;
keys added as an admin pastes what Gong shows), and refuse deliveries forged by hand, with
the reason in their logs only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests

from gong_authlib.stores import SQLiteTokenStore
from gong_authlib.testing import FakeGong, LiveClock
from gong_authlib.testing.records import call_id
from gong_authlib.testing.webhook_signer import WebhookSigner
from tests.cliflow import free_port
from tests.helpers import REPO_ROOT, run_cli, serve_on_loopback
from tests.test_fakegong_command import fakegong
from tests.webflow import _stop, _wait_until_serving

pytestmark = pytest.mark.slow

CUSTOMERS = ("acme", "globex")


@dataclass
class App:
    name: str
    base: str  # where it listens
    path: str  # its webhook route, with {customer}
    log: Path

    def url(self, customer: str) -> str:
        return self.base + self.path.format(customer=customer)


@contextmanager
def serving(
    name: str, command: list[str], base: str, path: str, *, env: dict[str, str], folder: Path
) -> Iterator[App]:
    log = Path(tempfile.mkstemp(prefix=f"{name}-", suffix=".log", dir=folder)[1])
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, cwd=REPO_ROOT, env=env
        )
    try:
        _wait_until_serving(base + "/worker", process, log)
        yield App(name, base, path, log)
    finally:
        _stop(process, signal.SIGINT)


class Capture(BaseHTTPRequestHandler):
    """A receiver that keeps what it was sent: deliveries captured to replay by hand."""

    caught: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.caught.append((dict(self.headers.items()), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class World:
    control_url: str
    control_token: str
    apps: list[App]
    keys: dict[str, str]
    in_process: FakeGong

    def control(self, action: str, **arguments: Any) -> Any:
        answer = requests.post(
            f"{self.control_url}/{action}",
            json=arguments,
            headers={"Authorization": f"Bearer {self.control_token}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["result"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("webhooks")
    store_path = folder / "tokens.db"
    flask_port, fastapi_port = free_port(), free_port()
    flask_base = f"http://127.0.0.1:{flask_port}"
    fastapi_base = f"http://127.0.0.1:{fastapi_port}"
    env = {
        **os.environ,
        "E2E_STORE_PATH": str(store_path),
        "E2E_FLASK_URL": flask_base,
        "E2E_FASTAPI_URL": fastapi_base,
    }
    with ExitStack() as stack:
        # FakeGong's standalone server, as a test in another language would run it.
        announced = stack.enter_context(
            fakegong(*(arg for name in CUSTOMERS for arg in ("--customer", name)))
        )
        keys: dict[str, str] = {}
        in_process = stack.enter_context(FakeGong(clock=LiveClock()))
        world = World(announced["control_url"], announced["control_token"], [], keys, in_process)
        with SQLiteTokenStore(store_path) as store:
            store.add_webhook_key("umbrella", in_process.webhook_public_key("umbrella"))
            for customer in CUSTOMERS:
                # As an admin copies "Show public key" from Gong into the app's store.
                keys[customer] = world.control("webhook-public-key", customer=customer)[
                    "public_key"
                ]
                store.add_webhook_key(customer, keys[customer])
        world.apps.append(
            stack.enter_context(
                serving(
                    "flask",
                    [
                        *(sys.executable, "-m", "gunicorn", "--workers", "2"),
                        *("--bind", f"127.0.0.1:{flask_port}"),
                        "tests.webapps.webhook_apps:flask_app",
                    ],
                    flask_base,
                    "/hooks/gong/webhook/{customer}",
                    env=env,
                    folder=folder,
                )
            )
        )
        world.apps.append(
            stack.enter_context(
                serving(
                    "fastapi",
                    [
                        *(sys.executable, "-m", "uvicorn", "--no-access-log"),
                        *("--host", "127.0.0.1", "--port", str(fastapi_port)),
                        "tests.webapps.webhook_apps:fastapi_app",
                    ],
                    fastapi_base,
                    "/gong/webhook/{customer}",
                    env=env,
                    folder=folder,
                )
            )
        )
        yield world


def test_each_app_receives_deliveries_for_two_customers(world: World) -> None:
    for app in world.apps:
        for customer in CUSTOMERS:
            third_call = call_id(customer, 2)
            fired = world.control(
                "fire-webhook", url=app.url(customer), customer=customer, call=third_call
            )
            assert fired["status"] == 200, (app.name, customer, fired)
            handed = json.loads(fired["body"])
            assert handed["customer"] == customer
            assert handed["call_id"] == third_call
            assert handed["is_test"] is False
            assert handed["key"].startswith("sha256:")
    # A long call (a megabyte of content) from an in-process FakeGong, whose key for
    # "umbrella" is in the store too: the apps read the whole body before checking it.
    big = {"metaData": {"id": "42"}, "content": {"brief": "x" * 1_000_000}}
    for app in world.apps:
        fired = world.in_process.fire_webhook(app.url("umbrella"), customer="umbrella", call=big)
        assert fired.status_code == 200, (app.name, fired.text)
        assert fired.json()["call_id"] == "42"
    # From a shell: `gong-authlib fakegong ctl fire-webhook`, a "Test now" delivery.
    shell = run_cli(
        *("fakegong", "ctl", "fire-webhook", "--arg", f"url={world.apps[1].url('globex')}"),
        *("--arg", "customer=globex", "--arg", "is_test=true"),
        env={
            "FAKEGONG_CONTROL_URL": world.control_url,
            "FAKEGONG_CONTROL_TOKEN": world.control_token,
        },
    )
    assert shell.returncode == 0, shell.stderr
    assert json.loads(json.loads(shell.stdout)["body"])["is_test"] is True


def _captured(world: World, customer: str) -> tuple[dict[str, str], bytes]:
    """A genuine delivery of ``customer``'s, fired at a receiver of the test's own."""
    Capture.caught.clear()
    with serve_on_loopback(Capture) as origin:
        url = f"{origin}/gong/webhook/{customer}"
        assert world.control("fire-webhook", url=url, customer=customer)["status"] == 200
    return Capture.caught[0]


def test_each_app_refuses_deliveries_forged_by_hand(world: World) -> None:
    forger = WebhookSigner(time.time)  # keys of its own, that no admin added
    headers, body = _captured(world, "acme")  # genuine, for another app's URL
    acme_key = world.keys["acme"]
    for app in world.apps:
        acme = app.url("acme")
        forged = forger.sign(acme, json.loads(body), customer="acme")
        attempts = {
            "signed with a key nobody added": (acme, forged.headers, forged.body, "bad_signature"),
            "HS256 with acme's public key as the secret": (
                acme,
                {"Authorization": hs256(acme, body, acme_key)},
                body,
                "wrong_algorithm",
            ),
            # Replayed with all its headers, Host included: the configured URL decides.
            "genuine, but signed for another app's URL": (acme, headers, body, "url_mismatch"),
            "genuine, body altered": (
                acme,
                headers,
                body.replace(b"false", b"true "),
                "body_mismatch",
            ),
            "no signature": (acme, {"Content-Type": "application/json"}, body, "missing"),
            "a customer with no keys": (app.url("initech"), forged.headers, body, "bad_key"),
        }
        for what, (url, sent_headers, sent_body, reason) in attempts.items():
            answer = requests.post(url, data=sent_body, headers=sent_headers, timeout=10)
            assert answer.status_code == 401, (app.name, what, answer.text)
            assert answer.text.strip() in ("webhook rejected", '{"detail":"webhook rejected"}')
            assert reason not in answer.text  # the reason is logged, not echoed
            assert f"webhook rejected ({reason})" in app.log.read_text(), (app.name, what)
        log = app.log.read_text()
        assert headers["Authorization"][:40] not in log
        assert forged.headers["Authorization"][:40] not in log


def hs256(url: str, body: bytes, public_key: str) -> str:
    """The key-confusion forgery, by hand: HMAC "signed" with the public key anyone can read."""

    def part(data: object) -> str:
        raw = json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    claims = {"webhook_url": url, "body_sha256": hashlib.sha256(body).hexdigest(), "exp": 2**40}
    head = part({"alg": "HS256", "typ": "JWT"}) + "." + part(claims)
    mac = hmac.new(public_key.encode(), head.encode(), hashlib.sha256).digest()
    return head + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
