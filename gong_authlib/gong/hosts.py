"""Which API origins are Gong's: where a customer's bearer token may be sent.

An ``api_base_url_for_customer`` is accepted only if it is a plain https URL of a host under
Gong's API domain, or an origin trusted explicitly (``trusted_api_origins``: a local FakeGong,
a proxy of your own).
"""

from __future__ import annotations

from gong_authlib.gong.endpoints import GONG_API_DOMAIN
from gong_authlib.origins import host_of, origin_of, parse_base_url


def untrusted_reason(url: str, trusted_origins: frozenset[str] = frozenset()) -> str | None:
    """Why a token must not be sent to ``url``'s origin, or None if it may.

    Trusted: a plain https URL whose host is ``gong.io`` or under it, or an origin listed in
    ``trusted_origins`` (a FakeGong, a proxy of your own).
    """
    try:
        parse_base_url(url)
        origin = origin_of(url)
    except ValueError as problem:
        return str(problem)
    if origin in trusted_origins:
        return None
    host = host_of(url)
    if origin.startswith("https://") and (
        host == GONG_API_DOMAIN or host.endswith("." + GONG_API_DOMAIN)
    ):
        return None
    return f"{origin} is not an https host under {GONG_API_DOMAIN} nor in trusted_api_origins"


def is_gong_api_url(url: str, trusted_origins: frozenset[str] = frozenset()) -> bool:
    """True for plain ``https://<anything>.gong.io`` URLs and for origins trusted explicitly."""
    return untrusted_reason(url, trusted_origins) is None
