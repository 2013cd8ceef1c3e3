"""A one-shot OAuth callback server on the loopback interface, for command-line authorization.

It binds 127.0.0.1 (or ::1) only, on the port of the registered redirect URI, answers the
first request to the redirect path, and stops. The page it shows says whether authorization
worked and that the window can be closed; it never shows a code or token.
"""

from __future__ import annotations

import html
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# What the caller does with the callback's query: returns (success, message for the page).
CallbackHandler = Callable[[dict[str, str]], tuple[bool, str]]


def is_loopback_redirect(redirect_uri: str) -> bool:
    parts = urlsplit(redirect_uri)
    return parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS


def _page(ok: bool, message: str) -> bytes:
    title = "Authorized" if ok else "Authorization failed"
    close = "You can close this window." if ok else "Close this window and try again."
    return (
        "<!doctype html><html><head><meta charset=utf-8>"
        f"<title>{title} - gong-authlib</title></head><body>"
        f'<h1 id="result">{title}</h1><p id="message">{html.escape(message)}</p>'
        f"<p>{close}</p></body></html>"
    ).encode()


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class LoopbackCallbackServer:
    """Serve ``redirect_uri`` on loopback until one callback has been handled."""

    def __init__(self, redirect_uri: str, handle: CallbackHandler) -> None:
        if not is_loopback_redirect(redirect_uri):
            raise ValueError("the redirect URI is not an http loopback URI")
        parts = urlsplit(redirect_uri)
        self.path = parts.path or "/"
        host = "::1" if parts.hostname == "::1" else "127.0.0.1"
        self.port = parts.port or 80
        self._handle = handle
        self.done = threading.Event()
        self.outcome: tuple[bool, str] | None = None
        self._server = self._bind(host)

    def _bind(self, host: str) -> ThreadingHTTPServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != owner.path or owner.done.is_set():
                    self._reply(404, b"<p>Not the OAuth callback.</p>")
                    return
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                ok, message = owner._handle(params)
                owner.outcome = (ok, message)
                self._reply(200 if ok else 400, _page(ok, message))
                owner.done.set()

            def _reply(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                """Quiet: the access log would print the authorization code."""

        server_class = _IPv6Server if host == "::1" else ThreadingHTTPServer
        server = server_class((host, self.port), Handler)
        server.daemon_threads = True
        return server

    def start(self) -> None:
        """Answer requests from now on (before the browser is sent to Gong)."""
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def wait(self, timeout: float) -> tuple[bool, str] | None:
        """Until the callback was handled or ``timeout`` passed (None); then stop serving."""
        try:
            self.done.wait(timeout)
        finally:
            self._server.shutdown()
            self._server.server_close()
        return self.outcome
