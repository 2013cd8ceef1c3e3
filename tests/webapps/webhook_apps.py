"""Apps that receive Gong's webhooks, for real servers:
``gunicorn tests.webapps.webhook_apps:flask_app`` and
``uvicorn tests.webapps.webhook_apps:fastapi_app``.

Keys come from the SQLite store at ``E2E_STORE_PATH``; each app is told its public URL
(``E2E_FLASK_URL``, ``E2E_FASTAPI_URL``): reached directly, a request's own URL is whatever
its Host header says.
Each answers a delivery with what it was handed, so the test sees it without shared files.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import flask
from fastapi import Depends, FastAPI

from gong_authlib.stores import SQLiteTokenStore
from gong_authlib.web import WebhookReceiver
from gong_authlib.web.flask import gong_webhook_blueprint
from gong_authlib.web.starlette import gong_webhook
from gong_authlib.webhooks import GongWebhook

# Where the apps' rejections are read by the test: the library logs, the app decides where.
logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")


def seen(customer: str, webhook: GongWebhook) -> dict[str, Any]:
    return {
        "customer": customer,
        "call_id": webhook.call_id,
        "is_test": webhook.is_test,
        "key": webhook.key_fingerprint,
        "pid": os.getpid(),
    }


def create_flask_app() -> flask.Flask:
    store = SQLiteTokenStore(os.environ["E2E_STORE_PATH"])
    receiver = WebhookReceiver(store, public_url=os.environ["E2E_FLASK_URL"])
    app = flask.Flask(__name__)
    app.register_blueprint(
        gong_webhook_blueprint(
            receiver,
            path="/hooks/gong/webhook/<customer>",
            on_delivery=lambda customer, webhook: flask.jsonify(seen(customer, webhook)),
        )
    )

    @app.get("/worker")
    def worker() -> str:
        return str(os.getpid())

    return app


def create_fastapi_app() -> FastAPI:
    store = SQLiteTokenStore(os.environ["E2E_STORE_PATH"])
    verified = gong_webhook(WebhookReceiver(store, public_url=os.environ["E2E_FASTAPI_URL"]))
    app = FastAPI()

    @app.post("/gong/webhook/{customer}")
    def receive(customer: str, webhook: GongWebhook = Depends(verified)) -> dict[str, Any]:  # noqa: B008
        return seen(customer, webhook)

    @app.get("/worker")
    def worker() -> int:
        return os.getpid()

    return app


def __getattr__(name: str) -> Any:
    # Each server imports only the app it serves (and its store opens in that process).
    if name == "flask_app":
        return create_flask_app()
    if name == "fastapi_app":
        return create_fastapi_app()
    raise AttributeError(name)
