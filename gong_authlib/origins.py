"""Where a bearer token may go: origins and base URLs, read exactly as urllib3 reads them.

Neutral ground for every transport (requests, httpx) and for the token endpoint's answer: a
token is attached only to its customer's API origin. Which origins are Gong's is a fact about
Gong, kept in :mod:`gong_authlib.gong.hosts`; this module only reads URLs.

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
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from urllib3.util import Url

_DEFAULT_PORTS = {"http": 80, "https": 443}
# The names of this machine's own interfaces that a redirect URI may use over plain http.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


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


def has_control_or_space(text: str) -> bool:
    """Whether ``text`` holds a space, a control character or DEL (never in a URL, header
    value or key id we send)."""
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
    if has_control_or_space(url):
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


def host_of(url: str) -> str:
    """The lower-cased host urllib3 would connect to for ``url`` (ValueError if unparsable)."""
    return (_parse(url).host or "").lower()


def is_localhost_name(redirect_uri: str) -> bool:
    """True for a URI whose host is the name ``localhost`` rather than a loopback address.

    RFC 8252, 8.3: a browser may resolve ``localhost`` to ``::1`` before ``127.0.0.1``, so a
    callback server listening on one of them can be raced by another local user's server on
    the other. Loopback redirect URIs should name ``127.0.0.1`` (or ``[::1]``).
    """
    return (urlsplit(redirect_uri).hostname or "") == "localhost"


def is_loopback_redirect(redirect_uri: str) -> bool:
    """True for an ``http://`` redirect URI on a loopback host (a command-line callback)."""
    parts = urlsplit(redirect_uri)
    return parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS


def origin_in_message(url: str) -> str:
    """``url``'s origin as a refusal names it: :func:`origin_of`, or "an unparsable URL"."""
    try:
        return origin_of(url)
    except ValueError:
        return "an unparsable URL"
