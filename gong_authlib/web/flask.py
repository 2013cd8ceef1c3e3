"""Flask: a blueprint with ``/connect/<customer>`` and the callback route (``gong-authlib[flask]``).

::

    flow = ConnectFlow.from_config(config, store)
    app.register_blueprint(gong_blueprint(flow, may_connect=lambda customer: ...))
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

from gong_authlib.errors import GongAuthError
from gong_authlib.stores.contracts import check_customer
from gong_authlib.web.flow import Connected, ConnectFlow
from gong_authlib.web.pages import bad_customer, connected_page, failure, forbidden

__all__ = ["gong_blueprint"]


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
