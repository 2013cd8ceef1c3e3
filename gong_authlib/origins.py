"""Where a bearer token may go: origins and base URLs, read exactly as urllib3 reads them.

Neutral ground for every transport (requests, httpx) and for the token endpoint's answer: a
token is attached only to its customer's API origin, and an ``api_base_url_for_customer`` is
accepted only if it is a plain https URL of a host under Gong's API domain, or an origin
trusted explicitly (``trusted_api_origins``: a local FakeGong, a proxy of your own).

The checks parse with :func:`urllib3.util.parse_url`, the parser requests and urllib3 use to
open the connection, never with :mod:`urllib.parse`, whose idea of the host differs for
inputs such as ``https://evil.com\\@us-1.api.gong.io`` (urllib.parse: the Gong host; urllib3:
``evil.com``). What is compared is what urllib3 will connect to.

A base URL is accepted only if it is plain: http(s), a host, optionally a port and a path;
no backslash, no userinfo, no query, no fragment, no whitespace or control character.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from gong_authlib.endpoints import GONG_API_DOMAIN

if TYPE_CHECKING:
    from urllib3.util import Url

_DEFAULT_PORTS = {"http": 80, "https": 443}


class BaseUrlError(ValueError):
    """A base URL that is malformed or could send a token somewhere unexpected."""


def _parse(url: str) -> Url:
    """urllib3's parse of ``url``; ValueError if it cannot parse it.

    urllib3 is imported here rather than at the top: ``validate`` (a pre-commit hook) checks
    trusted origins through this module and must not load the HTTP stack.
    """
    from urllib3.exceptions import LocationParseError
    from urllib3.util import parse_url

    try:
        return parse_url(url)
    except LocationParseError:
        raise ValueError("not a URL urllib3 can parse") from None


def _has_control_or_space(text: str) -> bool:
    return any(ord(ch) < 33 or ord(ch) == 127 for ch in text)


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of the server urllib3 would connect to for ``url``.

    Lower-cased, default ports dropped, IPv6 hosts in brackets. Raises ValueError for a URL
    urllib3 cannot parse.
    """
    parts = _parse(url)
    scheme = (parts.scheme or "").lower()
    host = (parts.host or "").lower()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    return f"{scheme}://{netloc}"


def parse_base_url(url: str) -> str:
    """Check ``url`` is a plain base URL and return it without a trailing slash.

    Raises :class:`BaseUrlError` (a ValueError) saying what is wrong, without echoing the
    URL's text (it came from the network and may be hostile).
    """
    if not isinstance(url, str) or not url:
        raise BaseUrlError("the base URL is empty or not text")
    if "\\" in url:
        raise BaseUrlError("the base URL contains a backslash")
    if _has_control_or_space(url):
        raise BaseUrlError("the base URL contains whitespace or a control character")
    try:
        parts = _parse(url)
    except ValueError:
        raise BaseUrlError("the base URL cannot be parsed") from None
    if (parts.scheme or "").lower() not in _DEFAULT_PORTS:
        raise BaseUrlError("the base URL is not http or https")
    if not parts.host:
        raise BaseUrlError("the base URL has no host")
    if parts.auth is not None or "@" in url:
        raise BaseUrlError("the base URL carries a user name or password")
    if parts.query is not None or "?" in url:
        raise BaseUrlError("the base URL has a query")
    if parts.fragment is not None or "#" in url:
        raise BaseUrlError("the base URL has a fragment")
    return url.rstrip("/")


def normalize_origins(origins: Iterable[str]) -> frozenset[str]:
    """Origins given by configuration (``trusted_api_origins``), compared as urllib3 sees them."""
    normalized = set()
    for position, origin in enumerate(origins):
        try:
            normalized.add(origin_of(parse_base_url(origin)))
        except ValueError as problem:
            raise BaseUrlError(f"trusted_api_origins[{position}]: {problem}") from None
    return frozenset(normalized)


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
    host = (_parse(url).host or "").lower()
    if origin.startswith("https://") and (
        host == GONG_API_DOMAIN or host.endswith("." + GONG_API_DOMAIN)
    ):
        return None
    return f"{origin} is not an https host under {GONG_API_DOMAIN} nor in trusted_api_origins"


def is_gong_api_url(url: str, trusted_origins: frozenset[str] = frozenset()) -> bool:
    """True for plain ``https://<anything>.gong.io`` URLs and for origins trusted explicitly."""
    return untrusted_reason(url, trusted_origins) is None
