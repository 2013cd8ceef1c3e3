"""GongAccessKeyAuth: a requests auth plugin for a company's Gong API key (HTTP Basic).

The requests front end on :class:`~gong_authlib.tokens.access_key.AccessKeyAuthBase`. Basic
credentials are attached only to the key's ``base_url`` origin (anywhere else:
:class:`~gong_authlib.OriginMismatch` before anything is sent). A 401 is handed back as it is:
there is no token to refresh, and resending the same key would only spend the company's
budget; the first one is logged at WARNING.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.auth import AuthBase

from gong_authlib.tokens.access_key import AccessKey, AccessKeyAuthBase

__all__ = ["AccessKey", "GongAccessKeyAuth"]


class GongAccessKeyAuth(AccessKeyAuthBase, AuthBase):
    """Attach ``key``'s Basic credentials to requests sent to its ``base_url`` origin.

    Thread-safe; stateless but for the one-time warning. ``GongAccessKeyAuth(key)``.
    """

    def _built(self) -> None:
        # One bound method, held as a plain attribute (no descriptor on the hot path).
        self._response_hook = self._on_response

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        url = request.url
        if not (url and url.startswith(self._prefix)):
            self.check_origin(url or "")
        request.headers["Authorization"] = self._header
        # Appended directly: register_hook's isinstance(…, Callable) check would cost more
        # than the rest of this method.
        request.hooks["response"].append(self._response_hook)
        return request

    def _on_response(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        if response.status_code == 401:
            self.rejected(401)
        return response
