"""Connecting customers from a web app: a framework-neutral flow and thin framework helpers.

:class:`ConnectFlow` is the whole job in two calls: ``start(customer)`` gives the URL to send
the browser to and a cookie to set; ``finish(callback, cookie)`` checks the callback, exchanges
its code and stores the token. States live in the app's TokenStore, so any worker may receive
the callback. :mod:`gong_authlib.web.flask` and :mod:`gong_authlib.web.starlette` wrap it for
Flask and Starlette/FastAPI; anything else (Django) calls it directly. Neither framework is
imported by this package.

:class:`WebhookReceiver` receives Gong's webhooks the same way: verified with each customer's
keys from the store, against the public URL the app is configured with.
"""

from __future__ import annotations

from gong_authlib.oauth.binding import FlowCookie, browser_binding
from gong_authlib.web.flow import COOKIE_NAME, Connected, ConnectFlow, FlowStart
from gong_authlib.web.webhooks import WebhookReceiver

__all__ = [
    "COOKIE_NAME",
    "ConnectFlow",
    "Connected",
    "FlowCookie",
    "FlowStart",
    "WebhookReceiver",
    "browser_binding",
]
