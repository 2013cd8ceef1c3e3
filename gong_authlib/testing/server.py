"""FakeGong's sockets: one loopback HTTP server for OAuth, one per customer for its API.

Each customer gets its own port, so ``api_base_url_for_customer`` differs per customer just as
Gong's regional hosts do, and a token sent to the wrong customer's origin really arrives
somewhere else.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs, urlsplit

from gong_authlib.logs import get_logger
from gong_authlib.testing import call_content
from gong_authlib.testing.clock import FakeClock
from gong_authlib.testing.control import CONTROL_PREFIX, MIN_TOKEN_LENGTH, control_reply
from gong_authlib.testing.emulator import (
    DEFAULT_VALIDITY,
    FAULT_KINDS,
    Emulator,
    Fault,
    FaultKind,
    Reply,
    Stats,
)
from gong_authlib.testing.emulator import default_scopes as _default_scopes
from gong_authlib.testing.records import call_record, primary_user, user_record
from gong_authlib.testing.webhook_signer import SignedDelivery, WebhookSigner

if TYPE_CHECKING:
    import requests

log = get_logger("testing")

Route = Callable[["_Handler", str], Reply]

DEFAULT_CLIENT_ID = "fakegong-client-id"
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8765/callback"
# How long a connection may keep a handler waiting for bytes it promised (a request line, the
# rest of a body its Content-Length announced) before it is answered 408 and closed: without
# it, one client that sends a short body holds a thread forever.
READ_TIMEOUT = 30.0


def _first_values(query: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(query, keep_blank_values=True).items()}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Gong's load balancers do
    server_version = "FakeGong/1"
    # Headers and body leave in one write, with Nagle off: otherwise a keep-alive client waits
    # out a 40 ms delayed ACK on every response.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    route: Route  # set per server by _serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log: it would print tokens in query strings."""

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self, method: str) -> None:
        try:
            reply = type(self).route(self, method)
        except TimeoutError:
            # The body its Content-Length promised never came (the socket's read timeout, see
            # READ_TIMEOUT): answer, close the connection and give the thread back.
            errors = ["the request body did not arrive in full"]
            reply = Reply(408, {"requestId": "emulator", "errors": errors}, {"Connection": "close"})
        except Exception:  # an emulator bug must surface as a 500, not a hung client
            log.exception("FakeGong failed on %s %s", method, urlsplit(self.path).path)
            reply = Reply(500, {"requestId": "emulator", "errors": ["FakeGong internal error"]})
        if reply.drop:
            self.close_connection = True
            return
        payload, content_type = reply.encoded()
        self.send_response(reply.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            if name != "Content-Type":
                self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")


class _Server(ThreadingHTTPServer):
    # The default backlog of 5 drops SYNs when dozens of clients connect at once, and each
    # dropped one costs its client a 1-second retransmit: a storm test would measure that.
    request_queue_size = 256
    daemon_threads = True


def _serve(route: Route, port: int = 0, read_timeout: float = READ_TIMEOUT) -> ThreadingHTTPServer:
    # StreamRequestHandler applies ``timeout`` to every read of the connection.
    attributes = {"route": staticmethod(route), "timeout": read_timeout}
    handler = type("FakeGongHandler", (_Handler,), attributes)
    server = _Server(("127.0.0.1", port), handler)
    # A short poll interval makes shutdown() quick: tests start and stop many servers.
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fakegong", daemon=True
    ).start()
    return server


def _apply_fault(emulator: Emulator, target: str, customer: str | None = None) -> Reply | None:
    fault = emulator.take_fault(target, customer)
    return None if fault is None else _fault_reply(fault)


def _fault_reply(fault: Fault) -> Reply | None:
    reply = Emulator.fault_reply(fault)
    if reply.delay:
        time.sleep(reply.delay)  # latency injection: the client's timeout is what is tested
        return None
    return reply


class FakeGong:
    """A local Gong for tests and demos: OAuth endpoints and a per-customer API on 127.0.0.1.

    Use it as a context manager (or the ``fake_gong`` pytest fixture)::

        with FakeGong() as gong:
            gong.add_customer("acme")
            client = gong.oauth_client()
            url, state = client.authorization_url(["api:users:read"], gong.redirect_uri)
            pending, code = client.parse_callback(gong.approve(url), redirect_uri=gong.redirect_uri)
            token = client.exchange_code(code, gong.redirect_uri)

    ``clock`` (a :class:`FakeClock` by default) decides every expiry, so tests move time
    instead of sleeping. ``inject`` adds faults; ``stats`` counts what happened.

    ``port`` fixes the OAuth server's port and ``api_ports`` a customer's API port (0, the
    default, takes a free one), so apps in other processes (gunicorn workers, another
    language, a browser test) can be configured before it starts; ``gong-authlib fakegong``
    runs it as its own server.

    Gong's per-company limits are off unless asked for: ``rate_limit=3, daily_limit=10_000``
    are Gong's defaults, counted on real time (``rate_clock=gong.clock`` makes them follow the
    FakeClock). ``page_size`` and :meth:`set_records` shape the list endpoints.
    :meth:`add_access_key` gives a company an API key, as its tech admin would in Gong.

    ``strict_query=True`` refuses token parameters anywhere but the query string (and a code
    exchange without ``client_id``), Gong's documented shape, to pin a client's wire format;
    by default a form body is read too, as production Gong reads it, and counted in
    ``stats.form_body``. ``read_timeout`` (30 s) bounds how long a connection may keep a
    handler waiting for bytes it promised: a short body is answered 408 and closed.

    ``control_token`` opens the control API (``POST /_fakegong/<action>`` on :attr:`url`,
    :mod:`gong_authlib.testing.control`) to loopback callers presenting it as a Bearer token:
    what a test in another process uses to do what these methods do. Off when None.
    """

    def __init__(
        self,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str | None = None,
        redirect_uris: Iterable[str] = (DEFAULT_REDIRECT_URI,),
        scopes: Iterable[str] | None = None,
        clock: FakeClock | None = None,
        auto_approve: bool = True,
        default_validity: int = DEFAULT_VALIDITY,
        rate_limit: int | None = None,
        port: int = 0,
        api_ports: Mapping[str, int] | None = None,
        daily_limit: int | None = None,
        rate_clock: Callable[[], float] | None = None,
        page_size: int | None = None,
        answer_integration_id: bool = True,
        strict_query: bool = False,
        read_timeout: float = READ_TIMEOUT,
        control_token: str | None = None,
    ) -> None:
        self.clock: FakeClock = clock or FakeClock()
        self.port = port
        self.api_ports = dict(api_ports or {})
        self.client_id = client_id
        self.client_secret = client_secret or "fakegong-secret-" + secrets.token_urlsafe(16)
        self.redirect_uris = tuple(redirect_uris)
        self.emulator: Emulator = Emulator(
            client_id=client_id,
            client_secret=self.client_secret,
            redirect_uris=self.redirect_uris,
            scopes=tuple(scopes) if scopes is not None else _default_scopes(),
            clock=self.clock,
            auto_approve=auto_approve,
            default_validity=default_validity,
            rate_limit=rate_limit,
            daily_limit=daily_limit,
            rate_clock=rate_clock,
            page_size=page_size,
            strict_query=strict_query,
        )
        self.read_timeout = read_timeout
        if control_token is not None and len(control_token) < MIN_TOKEN_LENGTH:
            raise ValueError(f"a control token has at least {MIN_TOKEN_LENGTH} characters")
        self.control_token = control_token
        self.emulator.answer_integration_id = answer_integration_id
        self._oauth_server: ThreadingHTTPServer | None = None
        self._api_servers: dict[str, ThreadingHTTPServer] = {}
        self.webhooks = WebhookSigner(self.clock)

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeGong:
        if self._oauth_server is None:
            self._oauth_server = _serve(self._oauth_route, self.port, self.read_timeout)
        return self

    def stop(self) -> None:
        servers = [self._oauth_server, *self._api_servers.values()]
        for server in servers:
            if server is not None:
                server.shutdown()
                server.server_close()
        self._oauth_server = None
        self._api_servers.clear()

    def __enter__(self) -> FakeGong:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"FakeGong(url={self.url!r}, customers={list(self._api_servers)!r})"

    # -- addresses -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._oauth_server is None:
            raise RuntimeError("FakeGong is not started: use it as a context manager")
        host, port = self._oauth_server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def authorize_url(self) -> str:
        return f"{self.url}/oauth2/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.url}/oauth2/generate-customer-token"

    @property
    def control_url(self) -> str:
        """Where the control API answers (``POST {control_url}/<action>``)."""
        return self.url + CONTROL_PREFIX.rstrip("/")

    @property
    def redirect_uri(self) -> str:
        return self.redirect_uris[0]

    @property
    def trusted_origins(self) -> tuple[str, ...]:
        """The customers' API origins, to pass as ``trusted_api_origins`` to clients."""
        return tuple(self.emulator.customer_origins.values())

    @property
    def stats(self) -> Stats:
        return self.emulator.stats

    # -- customers, faults, helpers --------------------------------------------------------

    def add_customer(self, name: str) -> str:
        """Start ``name``'s API origin and return it (its ``api_base_url_for_customer``)."""
        self.start()
        if name not in self._api_servers:
            server = _serve(
                lambda handler, method: self._api_route(name, handler, method),
                self.api_ports.get(name, 0),
                self.read_timeout,
            )
            host, port = server.server_address[:2]
            self._api_servers[name] = server
            self.emulator.customer_origins[name] = f"http://{host!s}:{port}"
            if self.emulator.signed_in_customer is None:
                self.emulator.signed_in_customer = name
        return self.emulator.customer_origins[name]

    def add_access_key(self, customer: str, key: str, secret: str) -> None:
        """Give ``customer`` a company API key: Basic ``key:secret`` on its API origin has
        every scope, meets the same limits, and a wrong secret gets Gong's 401."""
        self.add_customer(customer)
        self.emulator.add_access_key(customer, key, secret)

    def sign_in(self, customer: str) -> None:
        """Make ``customer`` the company whose tech admin approves the next authorization."""
        self.add_customer(customer)
        self.emulator.signed_in_customer = customer

    def set_records(
        self, customer: str, *, users: int | None = None, calls: int | None = None
    ) -> None:
        """How many users and calls ``customer``'s list endpoints hold (default 3 and 5)."""
        self.emulator.catalog.set_records(customer, users=users, calls=calls)

    def inject(self, target: str, kind: str, **options: Any) -> None:
        """Queue a fault for the ``"token"`` endpoint or the ``"api"`` (see :class:`Fault`)."""
        if target not in ("token", "api"):
            raise ValueError("target is 'token' or 'api'")
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind is one of {sorted(FAULT_KINDS)}, not {kind!r}")
        if kind == "answer" and target != "token":
            raise ValueError("an 'answer' fault alters a token answer: target 'token'")
        with self.emulator.lock:
            self.emulator.faults.append(Fault(target=target, kind=cast(FaultKind, kind), **options))

    def rotate_secret(self, new_secret: str | None = None, *, grace_hours: float = 24) -> str:
        """Rotate the app's client secret as a Gong tech admin does; returns the new secret.

        The old one keeps working for ``grace_hours`` on FakeGong's clock (0 revokes it at
        once); a second rotation inside the grace period revokes the previous old secret.
        :meth:`oauth_client` builds clients with the new secret from now on.
        """
        new_secret = new_secret or "fakegong-secret-" + secrets.token_urlsafe(16)
        self.emulator.rotate_secret(new_secret, grace_hours=grace_hours)
        self.client_secret = new_secret
        return new_secret

    def issued_secrets(self) -> list[str]:
        """Every client secret, code, access and refresh token this FakeGong issued."""
        return self.emulator.issued_secrets()

    def revoke(self, customer: str) -> None:
        """Invalidate every token of ``customer``, as an admin uninstalling the app would."""
        self.emulator.revoke(customer)

    def invalidate_access_tokens(self, customer: str) -> None:
        """Make ``customer``'s current access tokens answer 401; refresh tokens still work."""
        self.emulator.invalidate_access_tokens(customer)

    def oauth_client(self, *, client_secret: str | None = None, **options: Any) -> Any:
        """A GongOAuthClient wired to this FakeGong (its URLs, secret, origins and clock);
        ``client_secret`` for one other than the current (a worker not yet redeployed)."""
        from gong_authlib.oauth.client import GongOAuthClient

        defaults: dict[str, Any] = {
            "authorize_url": self.authorize_url,
            "token_url": self.token_url,
            "trusted_api_origins": self.trusted_origins,
            "clock": self.clock,
            "backoff_factor": 0.0,
        }
        secret = client_secret or self.client_secret
        return GongOAuthClient(self.client_id, secret, **{**defaults, **options})

    def approve(self, authorize_url: str, *, company: str | None = None) -> str:
        """Follow ``authorize_url`` as the signed-in admin's browser would; return the callback.

        With ``auto_approve=False`` this submits the consent form's Approve button, as
        ``company`` if given (else the company the consent page preselects).
        """
        import requests

        response = requests.get(authorize_url, allow_redirects=False, timeout=10)
        if response.status_code == 200:  # the consent page: press Approve
            query = _first_values(urlsplit(authorize_url).query)
            chosen = company or self.emulator.company_for(query)
            form = {**query, "decision": "approve", "company": chosen}
            response = requests.post(
                self.authorize_url, data=form, allow_redirects=False, timeout=10
            )
        if response.status_code != 302:
            raise RuntimeError(f"authorization was not redirected (HTTP {response.status_code})")
        return response.headers["Location"]

    # -- automation rules: webhooks -------------------------------------------------------

    def webhook_public_key(self, customer: str) -> str:
        """``customer``'s webhook public key as Gong's UI shows it (Show public key): bare
        base64 of the DER SubjectPublicKeyInfo, no PEM armour. Made on first use."""
        return self.webhooks.public_key(customer)

    def sign_webhook(
        self,
        url: str,
        *,
        customer: str,
        call: str | Mapping[str, Any] | None = None,
        is_test: bool = False,
    ) -> SignedDelivery:
        """The delivery :meth:`fire_webhook` would send, signed but not sent (for tests that
        alter it: tamper with the body, replay it elsewhere)."""
        payload = {"isTest": is_test, "callData": self._call_data(customer, call)}
        return self.webhooks.sign(url, payload, customer=customer)

    def fire_webhook(
        self,
        url: str,
        *,
        customer: str,
        call: str | Mapping[str, Any] | None = None,
        is_test: bool = False,
        timeout: float = 10.0,
    ) -> requests.Response:
        """POST a call to ``url`` as ``customer``'s automation rule would ("Fire webhook",
        Signed JWT header); returns the receiver's answer.

        ``call`` is one of the customer's call ids (default: its first call), or a whole
        ``callData`` object to send as it is; ``is_test`` marks the rule's "Test now".
        """
        import requests

        delivery = self.sign_webhook(url, customer=customer, call=call, is_test=is_test)
        return requests.post(
            url,
            data=delivery.body,
            headers=delivery.headers,
            timeout=timeout,
            allow_redirects=False,
        )

    def _call_data(self, customer: str, call: str | Mapping[str, Any] | None) -> dict[str, Any]:
        """``callData`` as Gong's rules send it: the call as ``/v2/calls/extensive`` has it
        (metaData, parties, basic CRM context) and its content."""
        if isinstance(call, Mapping):
            return dict(call)
        catalog = self.emulator.catalog
        index = 0 if call is None else catalog.call_index(customer, call)
        if index is None:
            raise ValueError(f"customer {customer!r} has no call {call!r} in FakeGong")
        origin = self.emulator.customer_origins.get(customer, self.url)
        users = catalog.user_count(customer)
        meta = call_record(customer, index, origin, users=users)
        host = user_record(customer, primary_user(index, users))
        return {
            "metaData": meta,
            "parties": call_content.parties(customer, meta["id"], host),
            "context": call_content.context(customer, meta["id"], "Basic"),
            "content": {"topics": [], "trackers": []},
        }

    # -- routes --------------------------------------------------------------------------

    def _oauth_route(self, handler: _Handler, method: str) -> Reply:
        parts = urlsplit(handler.path)
        query = _first_values(parts.query)
        body = handler._body()
        if self.control_token is not None and parts.path.startswith(CONTROL_PREFIX):
            reply = control_reply(
                self,
                self.control_token,
                peer=str(handler.client_address[0]),
                method=method,
                path=parts.path,
                authorization=handler.headers.get("Authorization", ""),
                body=body,
            )
            log.info("FakeGong control %s: HTTP %d", parts.path, reply.status)
            return reply
        if parts.path == "/oauth2/authorize":
            if method == "GET":
                return self.emulator.authorize_page(query)
            return self.emulator.decide(_first_values(body.decode("utf-8", "replace")))
        if parts.path == "/oauth2/generate-customer-token" and method == "POST":
            odd = self.emulator.take_fault("token")
            if odd is not None and odd.kind != "answer":
                injected = _fault_reply(odd)
                if injected is not None:
                    return injected
            reply = self.emulator.token(
                query,
                handler.headers.get("Authorization", ""),
                body,
                content_type=handler.headers.get("Content-Type", ""),
            )
            return odd.alter(reply) if odd is not None and odd.kind == "answer" else reply
        return Reply(404, {"error": "not_found"})

    def _api_route(self, customer: str, handler: _Handler, method: str) -> Reply:
        body = handler._body()
        fault = _apply_fault(self.emulator, "api", customer)
        if fault is not None:
            if fault.status == 429:
                self.emulator.stats.api_429[customer] += 1
            return fault
        parts = urlsplit(handler.path)
        authorization = handler.headers.get("Authorization", "")
        query = _first_values(parts.query)
        return self.emulator.api(customer, method, parts.path, authorization, body, query=query)
