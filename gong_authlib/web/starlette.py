"""Starlette and FastAPI: routes for ``/connect/{customer}`` and the callback
(``gong-authlib[starlette]`` or ``[fastapi]``). The blocking flow runs in the thread pool.

::

    flow = ConnectFlow.from_config(config, store)
    app = Starlette(routes=gong_routes(flow, may_connect=allowed))            # Starlette
    app.include_router(APIRouter(routes=gong_routes(flow, may_connect=allowed)))  # FastAPI

Gong's webhooks: :func:`gong_webhook_routes` for Starlette, or the FastAPI dependency
:func:`gong_webhook` that hands the verified delivery to a route of the app's own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

try:
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
    from starlette.routing import BaseRoute, Route, Router
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "gong_authlib.web.starlette needs Starlette: pip install 'gong-authlib[starlette]'"
    ) from exc

from gong_authlib.errors import GongAuthError, TokenStoreError, WebhookRejected
from gong_authlib.stores.contracts import check_customer
from gong_authlib.web.flow import Connected, ConnectFlow
from gong_authlib.web.pages import bad_customer, connected_page, failure, forbidden
from gong_authlib.web.webhooks import DEFAULT_WEBHOOK_PATH, WebhookReceiver, quoted_path, refusal
from gong_authlib.webhooks.verify import GongWebhook

__all__ = ["gong_router", "gong_routes", "gong_webhook", "gong_webhook_routes"]


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


def gong_webhook(receiver: WebhookReceiver) -> Callable[[Request], Awaitable[GongWebhook]]:
    """A FastAPI dependency for a route with a ``{customer}`` path parameter: the verified
    :class:`GongWebhook`, or 401 (reason logged) / 503 (store unreadable) before the route
    runs::

        verified = gong_webhook(WebhookReceiver(store, public_url="https://app.example.com"))

        @app.post("/gong/webhook/{customer}", status_code=204)
        def receive(customer: str, webhook: GongWebhook = Depends(verified)) -> None: ...
    """

    async def dependency(request: Request) -> GongWebhook:
        customer = str(request.path_params["customer"])
        body = await _bounded_body(request, receiver.max_body)
        scope = request.scope
        raw = scope.get("raw_path")
        raw_path = raw.decode("latin-1") if raw else quoted_path(scope["path"])
        url = receiver.delivery_url(
            raw_path=raw_path,
            query=scope.get("query_string", b"").decode("latin-1"),
            request_url=str(request.url),
        )
        try:
            return await run_in_threadpool(
                receiver.verify, customer, headers=request.headers, body=body, url=url
            )
        except (WebhookRejected, TokenStoreError) as failure:
            status, text = refusal(customer, failure)
            raise HTTPException(status, text.strip()) from None

    return dependency


def gong_webhook_routes(
    receiver: WebhookReceiver,
    *,
    on_delivery: Callable[[Request, str, GongWebhook], Response | None],
    path: str = DEFAULT_WEBHOOK_PATH.replace("<customer>", "{customer}"),
) -> list[BaseRoute]:
    """``POST path`` verifies each delivery, then calls ``on_delivery(request, customer,
    webhook)`` in the thread pool; its response is returned (None: 204)."""
    verified = gong_webhook(receiver)

    async def receive(request: Request) -> Response:
        try:
            webhook = await verified(request)
        except HTTPException as refused:
            return PlainTextResponse(refused.detail, refused.status_code)
        customer = str(request.path_params["customer"])
        answer = await run_in_threadpool(on_delivery, request, customer, webhook)
        return Response(status_code=204) if answer is None else answer

    return [Route(path, receive, methods=["POST"], name="gong_webhook")]


async def _bounded_body(request: Request, limit: int) -> bytes:
    """The body, read no further than one byte past ``limit`` (verification refuses it)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    return b"".join(chunks)
