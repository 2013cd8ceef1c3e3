"""The end-to-end web world: `gong-authlib fakegong` on fixed ports, an integration file that
points at it, and real app servers (gunicorn, uvicorn) running tests/webapps."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

from tests.cliflow import free_port
from tests.helpers import GOOD_CONFIG, REPO_ROOT, integration_file

COMPANIES = ("acme", "globex", "initech")
CLIENT_ID = "e2e-client"
SECRET = "e2e-secret-not-real"  # FakeGong's; handed to both sides through the environment
CALLBACK_PATH = "/oauth/gong/callback"


@dataclass
class WebWorld:
    folder: Path
    gong_port: int = field(default_factory=free_port)
    customer_ports: dict[str, int] = field(
        default_factory=lambda: {name: free_port() for name in COMPANIES}
    )
    app_ports: dict[str, int] = field(
        default_factory=lambda: {"flask": free_port(), "fastapi": free_port()}
    )
    announced: dict[str, Any] = field(default_factory=dict)

    @property
    def gong_url(self) -> str:
        return f"http://127.0.0.1:{self.gong_port}"

    def app_url(self, app: str) -> str:
        return f"http://127.0.0.1:{self.app_ports[app]}"

    def redirect_uri(self, app: str) -> str:
        return self.app_url(app) + CALLBACK_PATH

    def origin(self, company: str) -> str:
        return f"http://127.0.0.1:{self.customer_ports[company]}"

    @property
    def config(self) -> Path:
        return self.folder / "gong-integration.yaml"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "GONG_CLIENT_ID": CLIENT_ID,
            "GONG_CLIENT_SECRET": SECRET,
            "FAKEGONG_SECRET": SECRET,
            "GONG_AUTHORIZE_URL": f"{self.gong_url}/oauth2/authorize",
            "GONG_TOKEN_URL": f"{self.gong_url}/oauth2/generate-customer-token",
            "E2E_GONG_CONFIG": str(self.config),
        }

    def write_config(self) -> None:
        """The integration file as a user would point it at FakeGong: endpoints from the
        environment, the fixed customer origins trusted in the file."""
        data = yaml.safe_load(GOOD_CONFIG)
        data["integration"]["redirect_uris"] = [self.redirect_uri(app) for app in self.app_ports]
        data["oauth"] = {
            "client_id": "${env:GONG_CLIENT_ID}",
            "client_secret": "${env:GONG_CLIENT_SECRET}",
            "authorize_url": "${env:GONG_AUTHORIZE_URL}",
            "token_url": "${env:GONG_TOKEN_URL}",
            "trusted_api_origins": [self.origin(name) for name in COMPANIES],
        }
        data["token_store"] = {"url": "sqlite:///tokens.db"}
        integration_file(self.folder, yaml.safe_dump(data, sort_keys=False))


def _stop(process: subprocess.Popen[bytes], how: signal.Signals = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(how)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def running_fakegong(world: WebWorld) -> Iterator[dict[str, Any]]:
    customers = [f"{name}={port}" for name, port in world.customer_ports.items()]
    redirects = [world.redirect_uri(app) for app in world.app_ports]
    args = [
        sys.executable,
        "-m",
        "gong_authlib",
        "fakegong",
        "--format",
        "json",
        "--port",
        str(world.gong_port),
        "--client-id",
        CLIENT_ID,
        "--client-secret-env",
        "FAKEGONG_SECRET",
        *(arg for uri in redirects for arg in ("--redirect-uri", uri)),
        *(arg for customer in customers for arg in ("--customer", customer)),
    ]
    process = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=REPO_ROOT, env=world.env
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, "fakegong printed nothing"
        world.announced = json.loads(line)
        yield world.announced
    finally:
        _stop(process)


def _wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the app server exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(url, timeout=10).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.05)  # polling a starting server, not timing the code under test
    raise AssertionError(f"{url} never answered: {log.read_text()[-2000:]}")


@contextmanager
def running_app(
    world: WebWorld, app: str, store_url: str | None = None, *, recycle: bool = False
) -> Iterator[str]:
    """``flask`` under gunicorn with 4 sync workers, or ``fastapi`` under uvicorn with 2.

    ``recycle`` replaces each gunicorn worker after every request, so the worker that issued
    a state is gone when its callback comes: no state can hide in a process. (``--preload``
    makes the replacements cheap forks; SQLite and Redis stores reopen their connections in
    a forked child.)
    """
    port = str(world.app_ports[app])
    if app == "flask":
        recycling = ["--preload", "--max-requests", "1"] if recycle else []
        command = [
            *(sys.executable, "-m", "gunicorn", "--workers", "4", *recycling),
            *("--bind", f"127.0.0.1:{port}", "tests.webapps.flask_app:app"),
        ]
    else:
        command = [
            *(sys.executable, "-m", "uvicorn", "--workers", "2", "--no-access-log"),
            *("--host", "127.0.0.1", "--port", port, "tests.webapps.fastapi_app:app"),
        ]
    env = {**world.env, "E2E_REDIRECT_URI": world.redirect_uri(app)}
    if store_url:
        env["E2E_STORE_URL"] = store_url
    log = Path(tempfile.mkstemp(prefix=f"{app}-", suffix=".log", dir=world.folder)[1])
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, cwd=REPO_ROOT, env=env
        )
    try:
        _wait_until_serving(world.app_url(app) + "/worker", process, log)
        yield world.app_url(app)
    finally:
        _stop(process, signal.SIGINT)  # gunicorn and uvicorn: stop now, no graceful drain
