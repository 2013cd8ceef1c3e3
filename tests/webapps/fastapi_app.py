"""A FastAPI app with the connect routes: ``uvicorn --workers 2 tests.webapps.fastapi_app:app``."""

from __future__ import annotations

import os

from fastapi import APIRouter, FastAPI

from gong_authlib import load_config
from gong_authlib.web import ConnectFlow
from gong_authlib.web.starlette import gong_routes

FORBIDDEN = {"umbrella"}


def create_app() -> FastAPI:
    config = load_config(os.environ["E2E_GONG_CONFIG"])
    store = config.open_store(os.environ.get("E2E_STORE_URL"))
    flow = ConnectFlow.from_config(config, store, redirect_uri=os.environ["E2E_REDIRECT_URI"])
    app = FastAPI()
    app.include_router(
        APIRouter(
            routes=gong_routes(
                flow, may_connect=lambda request, customer: customer not in FORBIDDEN
            )
        )
    )

    @app.get("/worker")
    def worker() -> int:
        return os.getpid()

    return app


app = create_app()
