"""The OAuth callback server on the loopback interface, for command-line authorization.

It binds 127.0.0.1 (or ::1) only, on the port of the registered redirect URI, and waits for
the callback that carries *this* authorization's state. Any local process or web page can send
requests to a loopback port, so a request without that state is answered with an error page
and ignored: it neither ends the flow nor touches the store. The first request with the right
state claims the flow atomically; a second one (a reload) is told the flow is over. The pages
never show a code or token.
"""

from __future__ import annotations

import hmac
import html
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# What the caller does with the callback's query: returns (success, message for the page).
CallbackHandler = Callable[[dict[str, list[str]]], tuple[bool, str]]


def is_loopback_redirect(redirect_uri: str) -> bool:
    parts = urlsplit(redirect_uri)
    return parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS


def _page(ok: bool, message: str, *, title: str | None = None) -> bytes:
    title = title or ("Authorized" if ok else "Authorization failed")
    close = "You can close this window." if ok else "Close this window and try again."
    return (
        "<!doctype html><html><head><meta charset=utf-8>"
        f"<title>{title} - gong-authlib</title></head><body>"
        f'<h1 id="result">{title}</h1><p id="message">{html.escape(message)}</p>'
        f"<p>{close}</p></body></html>"
    ).encode()


_IGNORED_PAGE = (
    b"<!doctype html><html><head><meta charset=utf-8><title>Not this authorization - "
    b'gong-authlib</title></head><body><h1 id="result">Not this authorization</h1>'
    b'<p id="message">This request does not carry the state of the authorization that is '
    b"running, so it was ignored. The authorization is still waiting for Gong's "
    b"callback.</p></body></html>"
)


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class LoopbackCallbackServer:
    """Serve ``redirect_uri`` on loopback until the callback carrying ``state`` is handled."""

    def __init__(self, redirect_uri: str, handle: CallbackHandler, *, state: str) -> None:
        if not is_loopback_redirect(redirect_uri):
            raise ValueError("the redirect URI is not an http loopback URI")
        if not state:
            raise ValueError("the loopback server needs the state it waits for")
        parts = urlsplit(redirect_uri)
        self.path = parts.path or "/"
        host = "::1" if parts.hostname == "::1" else "127.0.0.1"
        self.port = parts.port or 80
        self._handle = handle
        self._state = state.encode()
        self._claim_lock = threading.Lock()
        self._claimed = False
        self.done = threading.Event()
        self.outcome: tuple[bool, str] | None = None
        self.ignored = 0  # requests to the callback path without this flow's state
        self._server = self._bind(host)

    def _carries_state(self, params: dict[str, list[str]]) -> bool:
        states = params.get("state", [])
        return len(states) == 1 and hmac.compare_digest(states[0].encode(), self._state)

    def _claim(self) -> bool:
        """True for exactly one request: the flow is handled once, whatever races it."""
        with self._claim_lock:
            if self._claimed:
                return False
            self._claimed = True
            return True

    def _ignore(self) -> None:
        with self._claim_lock:
            self.ignored += 1

    def _bind(self, host: str) -> ThreadingHTTPServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != owner.path:
                    self._reply(404, b"<p>Not the OAuth callback.</p>")
                    return
                params = parse_qs(parts.query, keep_blank_values=True)
                if not owner._carries_state(params):
                    owner._ignore()
                    self._reply(400, _IGNORED_PAGE)
                    return
                if not owner._claim():
                    over = "This authorization has already been handled, or it timed out."
                    self._reply(409, _page(False, over, title="Already handled"))
                    return
                try:
                    ok, message = owner._handle(params)
                except BaseException:
                    owner.outcome = (False, "the callback could not be handled")
                    owner.done.set()
                    raise
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
        """Until the callback was handled or ``timeout`` passed (None); then stop serving.

        A callback being handled when the timeout passes is waited for: its code may already
        be exchanged, and its token must be stored and reported, not abandoned.
        """
        try:
            if not self.done.wait(timeout):
                with self._claim_lock:
                    handling = self._claimed
                    # Closed: a callback arriving from now on is told the flow is over,
                    # rather than exchanged after we have reported that none came.
                    self._claimed = True
                if handling:
                    self.done.wait()
        finally:
            self._server.shutdown()
            self._server.server_close()
        return self.outcome
