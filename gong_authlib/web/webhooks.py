"""Receiving Gong's webhooks in a web app: what Flask and Starlette/FastAPI helpers share.

A :class:`WebhookReceiver` holds the token store (where each customer's public keys are,
``gong-authlib webhooks add-key``) and the public URL the app is reached at. The URL matters:
Gong signs the destination URL, and the check that a delivery was meant for this customer's
URL compares against it. Behind a proxy or a load balancer the app's own idea of its URL
(``http://10.0.0.5:8000/...``) is not the one Gong signed, and headers like ``Host`` and
``X-Forwarded-*`` are whatever the sender wrote unless a proxy the app trusts set them. So the
public URL is configuration (``public_url``). The request's own URL is used only when the app
says so (``trust_request_url``), which is safe only behind a proxy that overwrites ``Host``
and ``X-Forwarded-*`` and that nobody can go around: reached directly, an app's request URL is
whatever the sender's ``Host`` header says, and a delivery Gong signed for another app of the
same company, replayed with that app's Host, would pass (tests/test_webhooks_web.py shows it).

A rejection is answered 401 with a plain body that says nothing more; its reason is logged
(``gong_authlib.web`` logger) with the customer, never the JWT or the body.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import quote

from gong_authlib.errors import TokenStoreError, WebhookRejected
from gong_authlib.logs import get_logger
from gong_authlib.safe_text import customer_problem
from gong_authlib.stores.contracts import TokenStore
from gong_authlib.webhooks.verify import (
    DEFAULT_LEEWAY,
    MAX_BODY,
    GongWebhook,
    HeaderSource,
    verify_gong_webhook,
)

log = get_logger("web")

REJECTED_STATUS = 401
REJECTED_BODY = "webhook rejected\n"
UNAVAILABLE_STATUS = 503  # the store could not be read: Gong may try again later
UNAVAILABLE_BODY = "webhook keys unavailable, try again later\n"
DEFAULT_WEBHOOK_PATH = "/gong/webhook/<customer>"


class WebhookReceiver:
    """Verifies deliveries to ``/…/gong/webhook/<customer>`` with that customer's stored keys.

    ``public_url`` is the URL the app's root is reached at from outside (scheme, host, port
    and any prefix a proxy strips), for example ``https://app.example.com``; a delivery's URL
    is it plus the request's path and query. ``trust_request_url=True`` instead takes the URL
    the framework computed for the request: only behind a proxy that overwrites ``Host`` and
    ``X-Forwarded-*`` and cannot be gone around. One of the two is required.
    """

    def __init__(
        self,
        store: TokenStore,
        *,
        public_url: str | None = None,
        trust_request_url: bool = False,
        clock: Callable[[], float] = time.time,
        leeway: float = DEFAULT_LEEWAY,
        max_body: int = MAX_BODY,
    ) -> None:
        if (public_url is None) == (not trust_request_url):
            raise ValueError(
                "say where Gong reaches the app: public_url='https://app.example.com' (the "
                "URL of the app's root as Gong's rules name it), or trust_request_url=True "
                "only behind a proxy that overwrites Host and X-Forwarded-*"
            )
        self.store = store
        self.public_url = None if public_url is None else public_url.rstrip("/")
        self.clock = clock
        self.leeway = leeway
        self.max_body = max_body

    def __repr__(self) -> str:
        return f"WebhookReceiver(store={self.store!r}, public_url={self.public_url!r})"

    def delivery_url(self, *, raw_path: str, query: str, request_url: str) -> str:
        """The URL a delivery was sent to: ``public_url`` + the path and query as received,
        or the framework's ``request_url`` when trusted."""
        if self.public_url is None:
            return request_url
        return self.public_url + raw_path + (f"?{query}" if query else "")

    def verify(self, customer: str, *, headers: HeaderSource, body: bytes, url: str) -> GongWebhook:
        """``customer``'s delivery verified with its stored keys; WebhookRejected otherwise.
        TokenStoreError when the store cannot be read (answer 503: not the sender's fault)."""
        if customer_problem(customer) is not None:
            raise WebhookRejected("bad_key", "the URL names no customer this app could have")
        keys = self.store.webhook_keys(customer)
        if not keys:
            raise WebhookRejected(
                "bad_key", "no webhook key is stored for this customer (webhooks add-key)"
            )
        return verify_gong_webhook(
            headers=headers,
            body=body,
            url=url,
            public_key=keys,
            now=self.clock(),
            leeway=self.leeway,
            max_body=self.max_body,
        )


def refusal(customer: str, failure: WebhookRejected | TokenStoreError) -> tuple[int, str]:
    """The status and plain-text body for a delivery that was not verified: 401 with the
    reason logged (never echoed: it would guide a forger), or 503 when the store cannot be
    read (not the sender's fault; Gong may try again)."""
    if isinstance(failure, WebhookRejected):
        log.warning("webhook for customer %r: %s", customer, failure)
        return REJECTED_STATUS, REJECTED_BODY
    log.warning("webhook for customer %r not verified: %s", customer, failure)
    return UNAVAILABLE_STATUS, UNAVAILABLE_BODY


def read_bounded(read: Callable[[int], bytes], limit: int) -> bytes:
    """A body read to its end but never more than one byte past ``limit`` (verification
    refuses that), whatever Content-Length claims. Reads until the stream is done: one read
    may return less than asked (a WSGI server's input, a socket)."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = read(min(64 * 1024, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def quoted_path(path: str) -> str:
    """A decoded path as it would have been sent (for servers that give no raw path)."""
    return quote(path, safe="/:@!$&'()*+,;=-._~")
