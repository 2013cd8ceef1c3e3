"""Flask: a blueprint with ``/connect/<customer>`` and the callback route (``gong-authlib[flask]``),
and one that receives Gong's webhooks.

::

    flow = ConnectFlow.from_config(config, store)
    app.register_blueprint(gong_blueprint(flow, may_connect=lambda customer: ...))

    receiver = WebhookReceiver(store, public_url="https://app.example.com")
    app.register_blueprint(gong_webhook_blueprint(receiver, on_delivery=handle))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

try:
    import flask
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "gong_authlib.web.flask needs Flask: pip install 'gong-authlib[flask]'"
    ) from exc

from gong_authlib.errors import GongAuthError, TokenStoreError, WebhookRejected
from gong_authlib.stores.contracts import check_customer
from gong_authlib.web.flow import Connected, ConnectFlow
from gong_authlib.web.pages import bad_customer, connected_page, failure, forbidden
from gong_authlib.web.webhooks import (
    DEFAULT_WEBHOOK_PATH,
    WebhookReceiver,
    quoted_path,
    read_bounded,
    refusal,
)
from gong_authlib.webhooks.verify import GongWebhook

__all__ = ["gong_blueprint", "gong_webhook_blueprint"]


def gong_blueprint(
    flow: ConnectFlow,
    *,
    name: str = "gong_authlib",
    may_connect: Callable[[str], bool],
    connect_path: str = "/connect/<customer>",
    after_connect: Callable[[Connected], Any] | None = None,
) -> flask.Blueprint:
    """Routes that connect customers: ``connect_path`` redirects to Gong, the path of
    ``flow.redirect_uri`` receives the callback.

    ``may_connect(customer)`` runs inside the request (use ``flask.request``, your login) and
    decides whether the signed-in user may connect that customer: a 403 page otherwise. It
    has no default on purpose: allowing everyone would let any visitor connect their own Gong
    company as any customer, replacing that customer's token.
    ``after_connect(connected)`` returns the response once the token is stored (default: a
    short "connected" page); failures answer a page that says what happened and what to do.
    Register it without a ``url_prefix``: the callback route is the redirect URI's own path.
    """
    blueprint = flask.Blueprint(name, __name__)

    @blueprint.get(connect_path)
    def connect(customer: str) -> Any:
        try:
            check_customer(customer)  # a path segment may decode to anything
        except ValueError as exc:
            status, body = bad_customer(str(exc))
            return flask.Response(body, status, content_type="text/html; charset=utf-8")
        if not may_connect(customer):
            status, body = forbidden(customer)
            return flask.Response(body, status, content_type="text/html; charset=utf-8")
        try:
            started = flow.start(customer, cookie=flask.request.cookies.get(flow.cookie_name))
        except GongAuthError as exc:  # the store that keeps states is down
            status, body = failure(exc)
            return flask.Response(body, status, content_type="text/html; charset=utf-8")
        response = flask.redirect(started.redirect_url, 302)
        cookie = started.cookie
        response.set_cookie(
            cookie.name,
            cookie.value,
            max_age=cookie.max_age,
            path=cookie.path,
            secure=cookie.secure,
            httponly=cookie.httponly,
            samesite=cookie.samesite,
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    @blueprint.get(urlsplit(flow.redirect_uri).path or "/")
    def callback() -> Any:
        try:
            connected = flow.finish(flask.request.args, flask.request.cookies.get(flow.cookie_name))
        except GongAuthError as exc:
            status, body = failure(exc)
            return flask.Response(body, status, content_type="text/html; charset=utf-8")
        if after_connect is not None:
            return after_connect(connected)
        return flask.Response(connected_page(connected.customer), 200, content_type="text/html")

    return blueprint


def gong_webhook_blueprint(
    receiver: WebhookReceiver,
    *,
    on_delivery: Callable[[str, GongWebhook], Any],
    path: str = DEFAULT_WEBHOOK_PATH,
    name: str = "gong_authlib_webhooks",
) -> flask.Blueprint:
    """``POST path`` (``/gong/webhook/<customer>`` by default; keep ``<customer>``) verifies
    each delivery with the customer's stored keys and calls ``on_delivery(customer,
    webhook)`` with the verified :class:`GongWebhook`; its return value is the response
    (None: 204). A rejection answers 401 and logs the reason; a store that cannot be read
    answers 503.
    """
    blueprint = flask.Blueprint(name, __name__)

    @blueprint.post(path)
    def receive(customer: str) -> Any:
        request = flask.request
        body = read_bounded(request.stream.read, receiver.max_body)
        environ = request.environ
        raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if raw_uri and "://" in raw_uri.split("?", 1)[0]:
            raw_uri = urlsplit(raw_uri).path  # absolute-form request target (via a proxy)
        raw_path = (
            raw_uri.split("?", 1)[0] if raw_uri else quoted_path(request.script_root + request.path)
        )
        url = receiver.delivery_url(
            raw_path=raw_path,
            query=request.query_string.decode("latin-1"),
            request_url=request.url,
        )
        try:
            webhook = receiver.verify(customer, headers=request.headers, body=body, url=url)
        except (WebhookRejected, TokenStoreError) as failure:
            status, text = refusal(customer, failure)
            return flask.Response(text, status, content_type="text/plain")
        answer = on_delivery(customer, webhook)
        return flask.Response(status=204) if answer is None else answer

    return blueprint
