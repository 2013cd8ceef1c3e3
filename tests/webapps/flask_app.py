"""A Flask app with the connect blueprint: ``gunicorn -w 4 tests.webapps.flask_app:app``."""

from __future__ import annotations

import os

import flask

from gong_authlib import load_config
from gong_authlib.web import ConnectFlow
from gong_authlib.web.flask import gong_blueprint

FORBIDDEN = {"umbrella"}  # a customer this app's users may not connect


def create_app() -> flask.Flask:
    config = load_config(os.environ["E2E_GONG_CONFIG"])
    store = config.open_store(os.environ.get("E2E_STORE_URL"))
    flow = ConnectFlow.from_config(config, store, redirect_uri=os.environ["E2E_REDIRECT_URI"])
    app = flask.Flask(__name__)
    app.register_blueprint(
        gong_blueprint(flow, may_connect=lambda customer: customer not in FORBIDDEN)
    )

    @app.get("/worker")
    def worker() -> str:
        return str(os.getpid())

    return app


app = create_app()
