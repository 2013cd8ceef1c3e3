"""Where a bearer token may go: origins and the Gong API host check.

Neutral ground for every transport (requests, httpx) and for the token endpoint's answer: a
token is attached only to its customer's API origin, and an ``api_base_url_for_customer`` is
accepted only if it is an https host under Gong's API domain or an origin trusted explicitly
(a local FakeGong).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from gong_authlib.endpoints import GONG_API_DOMAIN

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str:
    """``scheme://host[:port]``, lower-cased, default ports dropped."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS.get(parts.scheme)) else f"{host}:{port}"
    return f"{parts.scheme.lower()}://{netloc}"


def is_gong_api_url(url: str, trusted_origins: frozenset[str] = frozenset()) -> bool:
    """True for ``https://<anything>.gong.io`` and for origins trusted explicitly (FakeGong)."""
    try:
        origin = origin_of(url)
        parts = urlsplit(url)
    except ValueError:
        return False
    if origin in trusted_origins:
        return True
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and (
        host == GONG_API_DOMAIN or host.endswith("." + GONG_API_DOMAIN)
    )
