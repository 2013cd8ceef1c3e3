"""Starlette and FastAPI: routes for ``/connect/{customer}`` and the callback
(``gong-authlib[starlette]`` or ``[fastapi]``). The blocking flow runs in the thread pool.

::

    flow = ConnectFlow.from_config(config, store)
    app = Starlette(routes=gong_routes(flow, may_connect=allowed))            # Starlette
    app.include_router(APIRouter(routes=gong_routes(flow, may_connect=allowed)))  # FastAPI
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

try:
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, RedirectResponse, Response
    from starlette.routing import BaseRoute, Route, Router
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "gong_authlib.web.starlette needs Starlette: pip install 'gong-authlib[starlette]'"
    ) from exc

from gong_authlib.errors import GongAuthError
from gong_authlib.stores.contracts import check_customer
from gong_authlib.web.flow import Connected, ConnectFlow
from gong_authlib.web.pages import bad_customer, connected_page, failure, forbidden

__all__ = ["gong_router", "gong_routes"]


def gong_routes(
    flow: ConnectFlow,
    *,
    may_connect: Callable[[Request, str], bool],
    connect_path: str = "/connect/{customer}",
    after_connect: Callable[[Request, Connected], Response] | None = None,
) -> list[BaseRoute]:
    """``connect_path`` redirects to Gong; the path of ``flow.redirect_uri`` takes the callback.

    ``may_connect(request, customer)`` decides whether the signed-in user may connect that
    customer (a 403 page otherwise; there is no allow-all default, or any visitor could
    connect their own Gong company as any customer); ``after_connect(request, connected)``
    answers once the token is stored (default: a short "connected" page).
    """

    async def connect(request: Request) -> Response:
        customer = str(request.path_params["customer"])
        try:
            check_customer(customer)  # a path segment may decode to anything
        except ValueError as exc:
            status, body = bad_customer(str(exc))
            return HTMLResponse(body, status)
        if not may_connect(request, customer):
            status, body = forbidden(customer)
            return HTMLResponse(body, status)
        previous = request.cookies.get(flow.cookie_name)
        try:
            started = await run_in_threadpool(flow.start, customer, cookie=previous)
        except GongAuthError as exc:  # the store that keeps states is down
            status, body = failure(exc)
            return HTMLResponse(body, status)
        response = RedirectResponse(started.redirect_url, 302, {"Cache-Control": "no-store"})
        cookie = started.cookie
        response.set_cookie(
            cookie.name,
            cookie.value,
            max_age=cookie.max_age,
            path=cookie.path,
            secure=cookie.secure,
            httponly=cookie.httponly,
            samesite="lax",
        )
        return response

    async def callback(request: Request) -> Response:
        try:
            connected = await run_in_threadpool(
                flow.finish, request.query_params, request.cookies.get(flow.cookie_name)
            )
        except GongAuthError as exc:
            status, body = failure(exc)
            return HTMLResponse(body, status)
        if after_connect is not None:
            return after_connect(request, connected)
        return HTMLResponse(connected_page(connected.customer))

    return [
        Route(connect_path, connect, methods=["GET"], name="gong_connect"),
        Route(
            urlsplit(flow.redirect_uri).path or "/",
            callback,
            methods=["GET"],
            name="gong_callback",
        ),
    ]


def gong_router(
    flow: ConnectFlow, *, may_connect: Callable[[Request, str], bool], **options: object
) -> Router:
    """The same routes as one Starlette :class:`~starlette.routing.Router` (an ASGI app)."""
    return Router(routes=gong_routes(flow, may_connect=may_connect, **options))  # type: ignore[arg-type]
