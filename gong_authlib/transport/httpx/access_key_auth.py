"""GongHttpxAccessKeyAuth: an ``httpx.Auth`` for a company's Gong API key (HTTP Basic).

The httpx twin of ``GongAccessKeyAuth``: Basic credentials only to the key's ``base_url``
origin (anywhere else :class:`~gong_authlib.OriginMismatch` before sending), a 401 handed back
as it is with one WARNING. One flow serves ``httpx.Client`` and ``httpx.AsyncClient``: it
never does I/O of its own.
"""

from __future__ import annotations

from collections.abc import Generator

import httpx

from gong_authlib.tokens.access_key import AccessKey, AccessKeyAuthBase

__all__ = ["AccessKey", "GongHttpxAccessKeyAuth"]


class GongHttpxAccessKeyAuth(AccessKeyAuthBase, httpx.Auth):
    """Attach ``key``'s Basic credentials to httpx requests sent to its ``base_url`` origin."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        url = str(request.url)
        if not url.startswith(self._prefix):
            self.check_origin(url)
        request.headers["Authorization"] = self._header
        response = yield request
        if response.status_code == 401:
            self.rejected(401)
