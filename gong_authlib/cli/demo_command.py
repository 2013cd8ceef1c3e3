"""``gong-authlib demo``: the whole flow against an embedded FakeGong, told as it happens.

Nothing is mocked: FakeGong serves real HTTP on 127.0.0.1, the callback arrives at a real
loopback server, tokens go to a real SQLite file, and the library code is the same a user's
app runs. Only the admin's browser is stood in for by an HTTP client that follows redirects.
"""

from __future__ import annotations

import argparse
import os
import socket
import struct
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from gong_authlib.cli.common import describe_seconds
from gong_authlib.cli.outcome import EXIT_OK
from gong_authlib.cli.reporters import use_color
from gong_authlib.config.model import load_config
from gong_authlib.config.validate import validate_file
from gong_authlib.errors import ReauthorizationRequired
from gong_authlib.loopback.authorize import authorize_customer
from gong_authlib.stores import SQLiteTokenStore, open_store
from gong_authlib.testing import FakeGong
from gong_authlib.transport.requests.session import gong_session

SCOPES = ("api:users:read", "api:calls:read:basic", "api:integration-settings:write")


def _png(size: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x7c\x3a\xed" * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _integration_file(folder: Path, gong: FakeGong, redirect_uri: str) -> Path:
    (folder / "assets").mkdir()
    (folder / "assets" / "small.png").write_bytes(_png(32))
    (folder / "assets" / "large.png").write_bytes(_png(128))
    path = folder / "gong-integration.yaml"
    path.write_text(
        f"""version: 1
integration:
  name: Acme Call Notes (demo)
  short_description: Push Gong call notes into Acme.
  description: The demo integration of gong-authlib, against FakeGong.
  logos: {{small: assets/small.png, large: assets/large.png}}
  scopes: [{", ".join(SCOPES)}]
  redirect_uris: [{redirect_uri}]
  links:
    privacy_policy: https://acme.example/privacy
    terms_and_conditions: https://acme.example/terms
    help_article: https://help.acme.example/gong
  contacts: [integrations@acme.example]
  domains: [acme.example]
oauth:
  client_id: ${{env:GONG_CLIENT_ID}}
  client_secret: ${{env:GONG_CLIENT_SECRET}}
  authorize_url: {gong.authorize_url}
  token_url: {gong.token_url}
token_store:
  url: sqlite:///tokens.db
""",
        encoding="utf-8",
    )
    return path


class Narrator:
    """Numbered steps with their durations, bold on a terminal."""

    def __init__(self, *, color: bool) -> None:
        self.step = 0
        codes = ("\x1b[1m", "\x1b[2m", "\x1b[0m") if color else ("", "", "")
        self.bold, self.dim, self.reset = codes

    @contextmanager
    def __call__(self, title: str) -> Iterator[Callable[[str], None]]:
        self.step += 1
        notes: list[str] = []
        started = time.perf_counter()
        yield notes.append
        elapsed = (time.perf_counter() - started) * 1000
        timing = f"{self.dim}({elapsed:.0f} ms){self.reset}"
        sys.stdout.write(f"{self.bold}[{self.step}] {title}{self.reset} {timing}\n")
        for note in notes:
            sys.stdout.write(f"    {note}\n")
        sys.stdout.flush()


def _browser(url: str) -> None:
    """The tech admin's browser: opens the start URL, keeps its cookie through Gong's
    redirect back to the loopback callback."""
    response = requests.get(url, timeout=10)
    response.raise_for_status()


def run(args: argparse.Namespace) -> int:
    say = Narrator(color=use_color(sys.stdout, no_color=args.no_color))
    sys.stdout.write(
        "gong-authlib demo: the whole flow against an embedded FakeGong "
        "(no Gong account, no network).\n\n"
    )
    redirect_uri = f"http://127.0.0.1:{_free_port()}/callback"
    with (
        tempfile.TemporaryDirectory(prefix="gong-authlib-demo-") as temp,
        FakeGong(redirect_uris=[redirect_uri]) as gong,
    ):
        with say("Started FakeGong") as note:
            for customer in ("acme", "globex"):
                note(f"customer {customer}: API origin {gong.add_customer(customer)}")
            note(f"OAuth endpoints on {gong.url}")
        with say("Validated the integration file") as note:
            path = _integration_file(Path(temp), gong, redirect_uri)
            note(f"{path.name}: {len(validate_file(path))} finding(s); secrets from ${{env:…}}")
            environ = {"GONG_CLIENT_ID": gong.client_id, "GONG_CLIENT_SECRET": gong.client_secret}
            config = load_config(path, environ={**os.environ, **environ})
        client = config.oauth_client(trusted_api_origins=gong.trusted_origins, clock=gong.clock)
        assert config.token_store is not None
        with open_store(config.token_store.url.reveal()) as store:
            assert isinstance(store, SQLiteTokenStore)  # the file says sqlite:///tokens.db
            demo = _Demo(gong, client, store, say)
            for customer in ("acme", "globex"):
                demo.authorize(customer, redirect_uri)
            demo.calls()
            demo.expiry()
            demo.early_401()
            demo.storm()
            demo.uninstall()
        stats = gong.stats
        exchanges = sum(
            n for (_, grant), n in stats.token_calls.items() if grant != "refresh_token"
        )
        sys.stdout.write(
            f"\nFakeGong saw {sum(stats.api_calls.values())} API calls, {exchanges} code "
            f"exchanges, {stats.refreshes()} refreshes and {sum(stats.invalid_grant.values())} "
            "invalid_grant. No token was printed.\n"
        )
    return EXIT_OK


class _Demo:
    """The demo's steps, each one narrated."""

    def __init__(self, gong: FakeGong, client: Any, store: SQLiteTokenStore, say: Narrator):
        self.gong, self.client, self.store, self.say = gong, client, store, say
        self.session: Any = None

    def authorize(self, customer: str, redirect_uri: str) -> None:
        self.gong.sign_in(customer)
        with self.say(f"Authorized customer {customer}") as note:
            token = authorize_customer(
                self.client,
                self.store,
                customer,
                scopes=SCOPES,
                redirect_uri=redirect_uri,
                open_url=_browser,
            ).token
            note(
                f"consent approved in FakeGong, callback on {redirect_uri}, "
                "state and browser cookie checked"
            )
            note(
                f"token stored in {self.store.path.name} (mode 0600): access "
                f"sha256:{token.access_fingerprint}, expires in "
                f"{describe_seconds(token.expires_at - self.gong.clock())}"
            )
            note(f"api_base_url_for_customer: {token.api_base_url}")

    def calls(self) -> None:
        self.session = gong_session(self.client, self.store, "acme")
        with self.say("Called Gong's API for acme through gong_session") as note:
            for path in ("/v2/users", "/v2/calls"):
                note(f"GET {path} -> {self.session.get(path).status_code}")

    def expiry(self) -> None:
        with self.say(
            "A day passed: the token expired, and was refreshed on the next call"
        ) as note:
            before = self.session.auth.token.access_fingerprint
            self.gong.clock.advance(86_400)
            status = self.session.get("/v2/users").status_code
            after = self.session.auth.token.access_fingerprint
            note(f"GET /v2/users -> {status}; access sha256:{before} -> sha256:{after}")
            note(f"token calls so far: {self.gong.stats.refreshes('acme')} refresh")

    def early_401(self) -> None:
        with self.say("Gong ended the access token early: 401, one refresh, one resend") as note:
            self.gong.clock.advance(600)
            self.gong.invalidate_access_tokens("acme")
            response = self.session.get("/v2/calls")
            history = [r.status_code for r in response.history]
            note(f"GET /v2/calls -> {response.status_code} (history {history})")

    def storm(self) -> None:
        with self.say("32 threads called at once just after an expiry") as note:
            # The storm shows one refresh for 32 callers; pacing them to 3 a second would
            # only make the demo wait, so it is off for these.
            sessions = [
                gong_session(self.client, self.store, "acme", rate_limit=None) for _ in range(32)
            ]
            for session in sessions:
                session.get("/v2/users")
            before = self.gong.stats.refreshes("acme")
            self.gong.clock.advance(86_400)
            statuses: list[int] = []
            guard = threading.Lock()

            def call(session: Any) -> None:
                status = session.get("/v2/users").status_code
                with guard:
                    statuses.append(status)

            threads = [threading.Thread(target=call, args=(s,)) for s in sessions]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            refreshes = self.gong.stats.refreshes("acme") - before
            invalid = sum(self.gong.stats.invalid_grant.values())
            note(f"{statuses.count(200)} x 200, {refreshes} refresh, {invalid} invalid_grant")

    def uninstall(self) -> None:
        with self.say("globex's admin uninstalled the app") as note:
            self.gong.revoke("globex")
            self.gong.clock.advance(86_400)
            try:
                gong_session(self.client, self.store, "globex").get("/v2/users")
                note("unexpected: the call worked")
            except ReauthorizationRequired as exc:
                note(f"ReauthorizationRequired: {exc}")
                note("the token stays stored; `gong-authlib authorize --customer globex` fixes it")
