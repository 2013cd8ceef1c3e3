"""The pages the framework helpers answer with: what happened, in words a person can act on.

They never show a code, a token or a state.
"""

from __future__ import annotations

import html

from gong_authlib.errors import (
    AuthorizationNotSaved,
    GongAuthError,
    OAuthError,
    StateError,
    TokenEndpointError,
    TokenStoreError,
)


def page(title: str, message: str, *, ok: bool, next_step: str = "") -> str:
    element = "result" if ok else "error"
    step = f'<p id="next">{html.escape(next_step)}</p>' if next_step else ""
    return (
        "<!doctype html><html><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title></head><body>"
        f'<h1 id="{element}">{html.escape(title)}</h1>'
        f'<p id="message">{html.escape(message)}</p>{step}</body></html>'
    )


# Once Gong's part failed, the state is spent: reloading the callback can only be refused.
_START_AGAIN = "Nothing was stored: start connecting again."


def connected_page(customer: str) -> str:
    return page("Gong connected", f"Customer {customer} is connected to Gong.", ok=True)


def failure(exc: GongAuthError) -> tuple[int, str]:
    """The HTTP status and page for a failed callback."""
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
    spent = isinstance(exc, TokenEndpointError | OAuthError)
    return status, page(title, str(exc), ok=False, next_step=_START_AGAIN if spent else "")


def forbidden(customer: str) -> tuple[int, str]:
    return 403, page("Not allowed", f"You may not connect customer {customer} to Gong.", ok=False)


def bad_customer(reason: str) -> tuple[int, str]:
    """A connect link whose customer could never be one (control characters, too long)."""
    return 400, page(
        "Not a customer", f"This link names no valid customer name: {reason}.", ok=False
    )
