"""Deliveries authenticated by a key in the URL (Gong's "URL includes key" method).

The rule's destination URL carries a secret the app made for that customer; anyone who knows
the URL can post to it, so the key must be long and random and compared in constant time.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

URL_KEY_BYTES = 32  # 256 bits, 43 URL-safe characters
# Far beyond any key made here; a longer one is refused before comparing.
MAX_URL_KEY_LENGTH = 512


def new_webhook_url_key() -> str:
    """A fresh per-customer URL key: 256 random bits, URL-safe (put it in the rule's URL)."""
    return secrets.token_urlsafe(URL_KEY_BYTES)


def webhook_url_key_matches(presented: str | None, expected: str | Iterable[str]) -> bool:
    """Whether the key a delivery brought is the customer's key (or one of its keys, while a
    key is rotated), compared in constant time. An empty or missing key never matches."""
    if not presented or len(presented) > MAX_URL_KEY_LENGTH:
        return False
    keys = [expected] if isinstance(expected, str) else list(expected)
    given = presented.encode("utf-8", "surrogateescape")
    matched = False
    for key in keys:
        # Every key is compared, so the time does not say which one matched.
        if key and secrets.compare_digest(given, key.encode("utf-8", "surrogateescape")):
            matched = True
    return matched
