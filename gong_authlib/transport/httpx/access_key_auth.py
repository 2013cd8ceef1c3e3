"""GongHttpxAccessKeyAuth: an ``httpx.Auth`` for a company's Gong API key (HTTP Basic).

The httpx twin of ``GongAccessKeyAuth``: Basic credentials only to the key's ``base_url``
origin (anywhere else :class:`~gong_authlib.OriginMismatch` before sending), a 401 handed back
as it is with one WARNING. One flow serves ``httpx.Client`` and ``httpx.AsyncClient``: it
never does I/O of its own.
"""

from __future__ import annotations

from collections.abc import Generator
from urllib.parse import urlsplit

import httpx

from gong_authlib.tokens.access_key import AccessKey, AccessKeyAuthBase

__all__ = ["AccessKey", "GongHttpxAccessKeyAuth"]


class GongHttpxAccessKeyAuth(AccessKeyAuthBase, httpx.Auth):
    """Attach ``key``'s Basic credentials to httpx requests sent to its ``base_url`` origin."""

    def _built(self) -> None:
        # The origin as httpx gives a URL's parts (host bytes, port or None for the scheme's
        # default, scheme): comparing them costs less than rendering the URL as text.
        parts = urlsplit(self._origin)
        self._parts = ((parts.hostname or "").encode("ascii", "replace"), parts.port, parts.scheme)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        url = request.url
        if (url.raw_host, url.port, url.scheme) != self._parts:
            self.check_origin(str(url))  # the exact check, for spellings the parts differ in
        request.headers["Authorization"] = self._header
        response = yield request
        if response.status_code == 401:
            self.rejected(401)
