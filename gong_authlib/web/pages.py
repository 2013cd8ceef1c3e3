"""The pages the framework helpers answer with: what happened, in words a person can act on.

They never show a code, a token or a state.
"""

from __future__ import annotations

import secrets

from gong_authlib.errors import (
    AuthorizationNotSaved,
    GongAuthError,
    OAuthError,
    StateError,
    TokenEndpointError,
    TokenStoreError,
)
from gong_authlib.logs import get_logger
from gong_authlib.oauth.callback_page import callback_page

log = get_logger("web")

# Once Gong's part failed, the state is spent: reloading the callback can only be refused.
_START_AGAIN = "Nothing was stored: start connecting again."


def connected_page(customer: str) -> str:
    return callback_page("Gong connected", f"Customer {customer} is connected to Gong.", ok=True)


def failure(exc: GongAuthError) -> tuple[int, str]:
    """The HTTP status and page for a failed callback.

    A store failure's text names the store (its host, port, database), which is the operator's
    business, not the visitor's: the page says what happened in general terms with a reference,
    and the full text goes to the log under the same reference.
    """
    if isinstance(exc, StateError):
        status, title = 400, "Connection refused"
    elif isinstance(exc, AuthorizationNotSaved):
        status, title = 503, "Gong connected, but not saved"
    elif isinstance(exc, TokenEndpointError):
        status, title = 502, "Gong did not answer"
    elif isinstance(exc, TokenStoreError):
        status, title = 503, "Token store unavailable"
    elif isinstance(exc, OAuthError):
        status, title = 400, "Gong refused the connection"
    else:
        status, title = 400, "Connecting Gong failed"
    message = str(exc)
    if isinstance(exc, TokenStoreError):
        reference = secrets.token_hex(4)
        log.error("callback failed (reference %s): %s", reference, message)
        problem = (
            "Gong connected, but the app could not save the connection in its token store, so "
            "nothing was stored: connect again in a moment"
            if isinstance(exc, AuthorizationNotSaved)
            else "The app could not reach its token store: try again in a moment"
        )
        message = (
            f"{problem}. If it keeps failing, give the app's operators the reference {reference}."
        )
    spent = isinstance(exc, TokenEndpointError | OAuthError)
    return status, callback_page(title, message, ok=False, next_step=_START_AGAIN if spent else "")


def forbidden(customer: str) -> tuple[int, str]:
    return 403, callback_page(
        "Not allowed", f"You may not connect customer {customer} to Gong.", ok=False
    )


def bad_customer(reason: str) -> tuple[int, str]:
    """A connect link whose customer could never be one (control characters, too long)."""
    return 400, callback_page(
        "Not a customer", f"This link names no valid customer name: {reason}.", ok=False
    )
