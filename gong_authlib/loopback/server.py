"""The OAuth callback server on the loopback interface, for command-line authorization.

It binds 127.0.0.1 (or ::1) only, on the port of the registered redirect URI. The browser is
opened on a one-time *start URL* it serves (``/start/<random>``, no state in it), not on
Gong's authorize URL: the first request there gets a 302 to Gong and an ``HttpOnly``,
``SameSite=Lax`` cookie holding a nonce whose hash the state is bound to; any later request
to the start URL is refused (one browser only). A browser's command line is readable by
every local user, so a state seen there must not be enough to finish the flow with a code
for someone else's Gong company (login CSRF).

On Linux, connections from another local user's programs are refused outright (the kernel
says who opened each connection): they could read the start URL on the browser's command line
and open it before the browser does. Elsewhere the one-time start URL is the guard, and a
second visit is reported.

Nor can another user starve the server with idle connections: the owner is checked as each
connection is accepted, before a byte is read, and another user's is answered with a short
page by a handful of threads (:data:`MAX_REFUSALS`, for the developer whose browser runs as
another user than ``authorize``) or else closed at once. The connections served are capped
(``max_connections``; the ones over it are closed, and counted) and each is closed after
``idle_timeout`` seconds without a request.

A callback counts only if it carries *this* flow's state and the starting browser's cookie,
both checked before its code or error is read; any other request to the callback path is
answered with an error page and ignored: it neither ends the flow nor touches the store. The
first request that counts claims the flow atomically; a second one (a reload) is told the
flow is over. The pages never show a code or token.
"""

from __future__ import annotations

import hmac
import os
import secrets
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from gong_authlib.gong.limits import CODE_LIFETIME_SECONDS
from gong_authlib.loopback.peers import PeerOwners
from gong_authlib.oauth.binding import FlowCookie, binding_matches, browser_binding
from gong_authlib.oauth.callback_page import callback_page
from gong_authlib.origins import is_localhost_name, is_loopback_redirect

# What the caller does with the callback's query: returns (success, message for the page).
CallbackHandler = Callable[[dict[str, list[str]]], tuple[bool, str]]


def _page(ok: bool, message: str, *, title: str | None = None, waiting: bool = False) -> bytes:
    title = title or ("Authorized" if ok else "Authorization failed")
    close = "You can close this window." if ok else "Close this window and try again."
    return callback_page(title, message, ok=ok, next_step="" if waiting else close).encode()


_IGNORED_PAGE = _page(
    False,
    "This request does not carry the state of the authorization that is running together with "
    "the cookie of the browser that started it, so it was ignored. The authorization is still "
    "waiting for Gong's callback.",
    title="Not this authorization",
    waiting=True,
)
_OTHER_USER_PAGE = _page(
    False,
    "This request comes from another user's program on this computer, so it was ignored. "
    "The authorization is still waiting for the browser of the user who started it (run "
    "authorize as the same user as the browser).",
    title="Not this user's authorization",
)

_START_USED_PAGE = _page(
    False,
    "This start link was already opened, by another browser or program. It works once, so "
    "that only one browser can finish the authorization. If it was not you, press Ctrl-C in "
    "the terminal and run authorize again.",
    title="Start link already used",
)


def _http_response(status: str, body: bytes) -> bytes:
    head = (
        f"HTTP/1.0 {status}\r\nContent-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


_OTHER_USER_RESPONSE = _http_response("403 Forbidden", _OTHER_USER_PAGE)

# Connections served at once (a browser opens about six per host) and how long one may stay
# silent: an idle one holds a thread and a descriptor, and the callback needs neither long.
MAX_CONNECTIONS = 32
IDLE_TIMEOUT = 10.0
# Another user's connections answered with the page at once; the rest are closed unread.
MAX_REFUSALS = 4
_REFUSAL_TIMEOUT = 2.0
_REFUSAL_DRAIN = 64 * 1024


class _Server(ThreadingHTTPServer):
    """Admits a connection (in the accepting thread, before reading it) only when its owner
    is this user and a slot is free; see :meth:`LoopbackCallbackServer._admit`."""

    daemon_threads = True
    # A burst of connections waits in the kernel (capped by net.core.somaxconn) while one
    # reading of the peer table names their owners; a full queue drops the browser's SYN, and
    # it would wait a second to send it again.
    request_queue_size = 1024
    admit: Callable[[socket.socket, Any], bool]
    leave: Callable[[], None]

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.admit(request, client_address):  # admit() closed it or handed it on
            return
        try:
            super().process_request(request, client_address)  # its thread leaves the slot
        except BaseException:
            self.leave()  # no thread started (the process is out of them): the slot is free
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.leave()


class _IPv6Server(_Server):
    address_family = socket.AF_INET6


def _turn_away(connection: socket.socket, release: Callable[[], None]) -> None:
    """Send another user's connection the page and close it. What the client sent is read
    (bounded, with a timeout) after the page, because closing a socket with unread input
    resets the connection and the client would lose the page."""
    try:
        connection.settimeout(_REFUSAL_TIMEOUT)
        connection.sendall(_OTHER_USER_RESPONSE)
        connection.shutdown(socket.SHUT_WR)
        drained = 0
        while drained < _REFUSAL_DRAIN and (chunk := connection.recv(4096)):
            drained += len(chunk)
    except OSError:
        pass
    finally:
        connection.close()
        release()


class LoopbackCallbackServer:
    """Serve ``redirect_uri`` on loopback until the callback carrying ``state`` is handled.

    Send the browser to :attr:`start_url`: it redirects once to ``authorize_url`` (which
    carries ``state``, issued bound to ``browser_binding(nonce)``) and gives the browser the
    ``nonce`` cookie the callback must bring back.
    """

    def __init__(
        self,
        redirect_uri: str,
        handle: CallbackHandler,
        *,
        state: str,
        authorize_url: str,
        nonce: str,
        max_connections: int = MAX_CONNECTIONS,
        idle_timeout: float = IDLE_TIMEOUT,
    ) -> None:
        if not is_loopback_redirect(redirect_uri):
            raise ValueError("the redirect URI is not an http loopback URI")
        if is_localhost_name(redirect_uri):
            raise ValueError(
                "the redirect URI names localhost, which another local user can race on ::1; "
                "use 127.0.0.1 (RFC 8252, 8.3)"
            )
        if not state or not nonce:
            raise ValueError("the loopback server needs the state it waits for and its nonce")
        parts = urlsplit(redirect_uri)
        self.path = parts.path or "/"
        host = "::1" if parts.hostname == "::1" else "127.0.0.1"
        self.port = parts.port or 80
        # The start URL is on the browser's command line, which other local users can read:
        # it carries no state, and it works once.
        self._start_path = f"/start/{secrets.token_urlsafe(16)}"
        self.start_url = f"http://{parts.netloc}{self._start_path}"
        self._authorize_url = authorize_url
        # Cookies are not kept apart by port: the port in the name keeps two flows (or a web
        # app on another loopback port) from overwriting each other's cookie.
        self._cookie = FlowCookie(
            f"gong_authlib_cli_{self.port}", nonce, CODE_LIFETIME_SECONDS, self.path, False
        )
        self._binding = browser_binding(nonce)
        self._handle = handle
        self._state = state.encode()
        self._claim_lock = threading.Lock()
        self._claimed = False
        self._started = False
        self.done = threading.Event()
        self.outcome: tuple[bool, str] | None = None
        self.ignored = 0  # requests to the callback path without this flow's state and cookie
        self.refused_starts = 0  # requests to the start URL after the first
        self.other_users = 0  # connections from another local user's programs (Linux)
        self.over_capacity = 0  # connections closed unread: max_connections were being served
        self._slots = threading.BoundedSemaphore(max_connections)
        self._refusals = threading.BoundedSemaphore(MAX_REFUSALS)
        self._idle_timeout = idle_timeout
        self._server = self._bind(host)
        address = self._server.server_address
        self._peers = PeerOwners(
            socket.AddressFamily(self._server.address_family), (str(address[0]), address[1])
        )

    def _carries_state(self, params: dict[str, list[str]]) -> bool:
        states = params.get("state", [])
        return len(states) == 1 and hmac.compare_digest(states[0].encode(), self._state)

    def _carries_cookie(self, cookie_headers: list[str]) -> bool:
        """Whether the starting browser's nonce is among the request's cookies.

        Every cookie of that name counts: a page on another loopback port may plant one of
        the same name (cookies ignore ports), and that must not hide the real one.
        """
        for header in cookie_headers:
            for pair in header.split(";"):
                name, _, value = pair.strip().partition("=")
                if name == self._cookie.name and binding_matches(self._binding, value):
                    return True
        return False

    def _from_another_user(self, client: Any) -> bool:
        uid = self._peers.uid((client[0], client[1]))
        return uid is not None and uid != os.geteuid()

    def _admit(self, connection: socket.socket, client: Any) -> bool:
        """Whether to serve a connection just accepted (nothing of it has been read); one not
        served is closed, or handed to a thread that turns it away. Runs in the accepting
        thread, so it never waits on a client."""
        if self._from_another_user(client):
            with self._claim_lock:
                self.other_users += 1
            if self._refusals.acquire(blocking=False):
                threading.Thread(
                    target=_turn_away, args=(connection, self._refusals.release), daemon=True
                ).start()
                return False
            self._server.shutdown_request(connection)  # the handful answering are busy
            return False
        if not self._slots.acquire(blocking=False):
            with self._claim_lock:
                self.over_capacity += 1
            self._server.shutdown_request(connection)
            return False
        return True

    def _first_start(self) -> bool:
        with self._claim_lock:
            if self._started:
                self.refused_starts += 1
                return False
            self._started = True
            return True

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
            timeout = owner._idle_timeout  # the socket's: a silent client is dropped

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path == owner._start_path:
                    self._start()
                    return
                if parts.path != owner.path:
                    self._reply(404, b"<p>Not the OAuth callback.</p>")
                    return
                params = parse_qs(parts.query, keep_blank_values=True)
                # Both before the callback's code or error is read: a request from anyone
                # but the starting browser neither finishes nor aborts the flow.
                cookies = self.headers.get_all("Cookie") or []
                if not (owner._carries_state(params) and owner._carries_cookie(cookies)):
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

            def _start(self) -> None:
                if not owner._first_start():
                    self._reply(409, _START_USED_PAGE)
                    return
                self.send_response(302)
                self.send_header("Location", owner._authorize_url)
                self.send_header("Set-Cookie", owner._cookie.header())
                self.send_header("Cache-Control", "no-store")
                self.send_header("Referrer-Policy", "no-referrer")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _reply(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                """Quiet: the access log would print the authorization code."""

        server_class = _IPv6Server if host == "::1" else _Server
        server = server_class((host, self.port), Handler)
        server.admit = self._admit
        server.leave = self._slots.release
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
