"""Inbound: deliveries from Gong's automation rules ("Fire webhook"), verified.

- :func:`verify_gong_webhook` checks a delivery signed with a JWT (RS256, Gong's public key)
  and returns the :class:`GongWebhook`, or raises :class:`~gong_authlib.WebhookRejected`.
- :func:`new_webhook_url_key` and :func:`webhook_url_key_matches`: deliveries authenticated
  by a secret key in the URL instead.
- Keys per customer live in the token store (``add_webhook_key``, ``webhook_keys``,
  ``remove_webhook_key``); :mod:`gong_authlib.web.flask` and :mod:`gong_authlib.web.starlette`
  receive deliveries with them.
"""

from __future__ import annotations

from gong_authlib.errors import WEBHOOK_REJECTION_REASONS, WebhookRejected
from gong_authlib.stores.webhook_keys import WebhookKey, key_fingerprint
from gong_authlib.webhooks.url_keys import new_webhook_url_key, webhook_url_key_matches
from gong_authlib.webhooks.verify import GongWebhook, verify_gong_webhook

__all__ = [
    "WEBHOOK_REJECTION_REASONS",
    "GongWebhook",
    "WebhookKey",
    "WebhookRejected",
    "key_fingerprint",
    "new_webhook_url_key",
    "verify_gong_webhook",
    "webhook_url_key_matches",
]
