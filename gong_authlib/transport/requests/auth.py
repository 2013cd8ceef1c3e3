"""GongAuth: a requests auth plugin that keeps one Gong customer's bearer token valid.

A thin requests front end on :class:`~gong_authlib.CustomerToken`, which owns freshness,
the locks and the refresh: this module only attaches the header, checks the origin and reads
the 401.

A 401 from the customer's API is handled like requests' ``HTTPDigestAuth`` handles its
challenge: if the token that failed is still current, refresh once, resend once, and keep the
first response in ``history``. Not every 401 is a dead token: a missing scope (Gong's "You
don't have permission to use '<scope>' in your app.") is handed back as it is, and so is a
401 for a token a 401 made us fetch that Gong has not accepted yet (no refresh loop). A
resend never goes to an origin the fresh token does not belong to: if the refresh moved the
customer, OriginMismatch (with ``moved_to``) is raised instead, and ``gong_session`` sends
relative paths again to the new origin.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.auth import AuthBase
from requests.utils import rewind_body

from gong_authlib.errors import OriginMismatch, RequestNotReplayable
from gong_authlib.logs import get_logger
from gong_authlib.origins import origin_of
from gong_authlib.tokens.auth_base import CustomerAuthBase
from gong_authlib.tokens.customer_token import DEFAULT_LEEWAY

__all__ = ["DEFAULT_LEEWAY", "GongAuth"]

log = get_logger("auth")


class GongAuth(CustomerAuthBase, AuthBase):
    """Attach ``customer``'s Gong bearer token to requests sent to its API origin.

    Requests to any other origin raise :class:`~gong_authlib.OriginMismatch` before they are
    sent: a token must never leave its customer's ``api_base_url``. Thread-safe; any number of
    GongAuth objects and sessions may share one store. Built as
    ``GongAuth(client, store, customer, *, leeway=..., lock_lease=..., lock_timeout=...,
    clock=...)``; see :class:`~gong_authlib.tokens.auth_base.CustomerAuthBase`.
    """

    def _built(self) -> None:
        # One bound method, not one per request; a plain instance attribute, so the hot path
        # reads it without a descriptor's detour (a cached_property cost ~90 ns a call).
        self._response_hook = self._on_response

    # -- requests' AuthBase --------------------------------------------------------------

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        customer_token = self.customer_token
        current = customer_token.current
        if current is None or self._clock() >= current.refresh_at:
            current = customer_token.fresh()
        url = request.url
        if not (url and url.startswith(current.prefix)):
            customer_token.check_origin(url or "", current)
        request.headers["Authorization"] = current.header
        # Appended directly: register_hook's isinstance(…, Callable) check would cost more
        # than the rest of this method.
        request.hooks["response"].append(self._response_hook)
        return request

    # -- the 401 hook --------------------------------------------------------------------

    def _on_response(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        if response.status_code != 401:
            if self.customer_token.unproven is not None:  # a token a 401 fetched, now accepted
                self.customer_token.accepted(str(response.request.headers.get("Authorization")))
            return response
        request = response.request
        if getattr(request, "_gong_resent", False):
            return response  # resent once already: the 401 stands
        current = self.customer_token.current
        if current is None or origin_of(response.url) != current.origin:
            return response  # a redirect led elsewhere: never send the token there
        failed_header = str(request.headers.get("Authorization", ""))
        fresh = self.customer_token.after_401(failed_header, response.content)
        if fresh.header == failed_header:
            return response  # a missing scope, or a token too young to be dead: the 401 stands
        if fresh.refusal is not None or fresh.origin != current.origin:
            response.close()
            raise OriginMismatch(
                f"Gong answered 401 for customer {self.customer!r} and the refresh moved it to "
                f"{fresh.origin}; the request, addressed to {current.origin}, was not resent",
                moved_to=None if fresh.refusal is not None else fresh.token.api_base_url,
            )
        log.info("customer %s: 401 from Gong; resending once with a fresh token", self.customer)
        if not _rewind(request):
            raise RequestNotReplayable(
                f"Gong answered 401 for customer {self.customer!r}; the token was refreshed, "
                "but the request body is a stream that cannot be sent again: retry the request"
            )
        response.content  # noqa: B018 - read it so the connection can be reused
        response.close()
        retry = request.copy()
        retry.headers["Authorization"] = fresh.header
        retry._gong_resent = True  # type: ignore[attr-defined]
        resent: requests.Response = response.connection.send(retry, **kwargs)
        resent.history.append(response)
        resent.request = retry
        if resent.status_code != 401 and self.customer_token.unproven is not None:
            self.customer_token.accepted(fresh.header)  # hooks do not run for this send
        return resent


def _rewind(request: requests.PreparedRequest) -> bool:
    """Make ``request``'s body sendable again; False if it is a stream that cannot be."""
    body = request.body
    if body is None or isinstance(body, bytes | str):
        return True
    if getattr(request, "_body_position", None) is not None and hasattr(body, "seek"):
        rewind_body(request)
        return True
    return False
