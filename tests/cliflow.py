"""A FakeGong, an integration file pointing at it, and the CLI run as a real process."""

from __future__ import annotations

import itertools
import os
import random
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from gong_authlib.stores import SQLiteTokenStore
from gong_authlib.testing import FakeGong
from tests.authflow import authorize_into
from tests.helpers import GOOD_CONFIG, REPO_ROOT, integration_file

# Ports handed to servers the tests start later (a redirect URI's listener, redis-server,
# PostgreSQL). Not the kernel's ephemeral range (32768-60999 on Linux): a port probed free there
# can be taken by any outgoing connection before the server binds it. Each xdist worker draws
# from its own slice, so two workers never hand out the same port.
_PORT_FLOOR, _PORT_CEILING = 20000, 32000


def _worker_slice() -> range:
    workers = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    index = int(worker) if worker.isdigit() else 0
    width = (_PORT_CEILING - _PORT_FLOOR) // workers
    start = _PORT_FLOOR + (index % workers) * width
    return range(start, start + width)


_PORTS = _worker_slice()
# A different starting point per process: subprocesses of a test draw too.
_next_port = itertools.count(random.randrange(len(_PORTS)))
_port_guard = threading.Lock()


def free_port() -> int:
    """A loopback port nothing listens on now, outside the ephemeral range, not handed out
    before by this process."""
    for _ in range(len(_PORTS)):
        with _port_guard:
            port = _PORTS[next(_next_port) % len(_PORTS)]
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free loopback port in {_PORTS}")


@dataclass
class CliWorld:
    gong: FakeGong
    folder: Path
    redirect_uri: str
    remote_redirect_uri: str = "https://app.acme.example/oauth/gong/callback"
    env: dict[str, str] = field(default_factory=dict)

    @property
    def config(self) -> Path:
        return self.folder / "gong-integration.yaml"

    def args(self, *args: str) -> list[str]:
        trust = [arg for origin in self.gong.trusted_origins for arg in ("--trust-origin", origin)]
        return [*args, "--config", str(self.config), *trust]

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "gong_authlib", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO_ROOT,
            env={**os.environ, **self.env},
        )

    def run(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gong_authlib", *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            env={**os.environ, **self.env},
            timeout=120,
            check=False,
        )


def make_world(gong: FakeGong, folder: Path, redirect_uri: str) -> CliWorld:
    world = CliWorld(gong, folder, redirect_uri)
    text = GOOD_CONFIG.replace("    - http://127.0.0.1:8765/callback\n", f"    - {redirect_uri}\n")
    text = text.replace(
        "  validity_duration: 86400\n",
        f"  authorize_url: {gong.authorize_url}\n  token_url: {gong.token_url}\n",
    )
    text = text.replace(
        "      - https://app.acme.example\n",
        "      - https://app.acme.example\n"
        "    customer_origins:\n"
        "      template: https://{customer}.acme.example\n"
        "      integration_types: [EMAIL_COMPOSER, ACCOUNT_PAGES]\n",
    )
    text = text.replace("  encryption_key: ${env:GONG_AUTHLIB_KEY}\n", "")
    text = text.replace(
        "    - api:users:read\n", "    - api:users:read\n    - api:integration-settings:write\n"
    )
    integration_file(folder, text)
    world.env = {"GONG_CLIENT_ID": gong.client_id, "GONG_CLIENT_SECRET": gong.client_secret}
    return world


@contextmanager
def authorized_world(folder: Path, *customers: str) -> Iterator[CliWorld]:
    """A running FakeGong, an integration file for it in ``folder`` and ``customers``
    authorized into its SQLite store (``folder/tokens.db``)."""
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    with FakeGong(redirect_uris=[redirect_uri]) as gong:
        for customer in customers:
            gong.add_customer(customer)
        world = make_world(gong, folder, redirect_uri)
        with SQLiteTokenStore(folder / "tokens.db") as store:
            for customer in customers:
                authorize_into(gong, store, customer)
        yield world


START_URL = re.compile(r"(http://\S+/start/[A-Za-z0-9_-]+)")


def shown_start_url(stderr: Iterable[str] | None) -> str:
    """The loopback start URL `authorize` prints (the browser is sent there, not to Gong)."""
    assert stderr is not None
    seen = []
    for line in stderr:
        match = START_URL.search(line)
        if match:
            return match.group(1)
        seen.append(line)
    raise AssertionError("authorize printed no start URL; it printed:\n" + "".join(seen[-20:]))


def start_in_browser(
    gong: FakeGong, start_url: str, *, company: str | None = None
) -> tuple[requests.Session, str]:
    """What the developer's browser does: open the start URL (keeping its cookie), consent at
    FakeGong; returns the browser and the callback URL Gong redirected it to, not yet sent."""
    browser = requests.Session()
    started = browser.get(start_url, allow_redirects=False, timeout=10)
    assert started.status_code == 302, started.text
    return browser, gong.approve(started.headers["Location"], company=company)
