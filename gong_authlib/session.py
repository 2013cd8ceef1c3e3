"""gong_session: a requests.Session for one customer, ready for Gong's API.

Relative paths go to the customer's ``api_base_url`` (``session.get("/v2/users")``), GongAuth
is attached, 429 and idempotent 5xx answers are retried by urllib3's Retry honouring
``Retry-After``, and every request has a timeout unless the caller gives one.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter

from gong_authlib.auth import GongAuth
from gong_authlib.oauth import GongOAuthClient
from gong_authlib.retry import gong_retry
from gong_authlib.stores.base import TokenStore

# (connect, read) seconds: Gong's heavier endpoints (extensive calls, transcripts) are slow.
DEFAULT_API_TIMEOUT = (5.0, 60.0)


class GongSession(requests.Session):
    """A Session bound to one customer's GongAuth; see :func:`gong_session`."""

    auth: GongAuth

    def __init__(
        self,
        auth: GongAuth,
        *,
        retries: int = 4,
        backoff_factor: float = 0.5,
        timeout: float | tuple[float, float] | None = DEFAULT_API_TIMEOUT,
    ) -> None:
        super().__init__()
        self.auth = auth
        self.timeout = timeout
        adapter = HTTPAdapter(max_retries=gong_retry(total=retries, backoff_factor=backoff_factor))
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    @property
    def customer(self) -> str:
        return self.auth.customer

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        if isinstance(url, str) and url.startswith("/"):
            url = self.auth.api_base_url + url
        if self.timeout is not None:
            kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)

    def __repr__(self) -> str:
        return f"GongSession(customer={self.customer!r})"


def gong_session(
    client: GongOAuthClient,
    store: TokenStore,
    customer: str,
    *,
    retries: int = 4,
    backoff_factor: float = 0.5,
    timeout: float | tuple[float, float] | None = DEFAULT_API_TIMEOUT,
    **auth_options: Any,
) -> GongSession:
    """A :class:`GongSession` for ``customer``: ``session.get("/v2/users")`` just works.

    ``auth_options`` go to :class:`GongAuth` (``leeway``, ``lock_lease``, ``clock`` …).
    """
    auth = GongAuth(client, store, customer, **auth_options)
    return GongSession(auth, retries=retries, backoff_factor=backoff_factor, timeout=timeout)
