"""Helpers for GongAuth tests: a customer authorized at FakeGong with its token stored."""

from __future__ import annotations

from gong_authlib import GongOAuthClient
from gong_authlib.stores import TokenStore
from gong_authlib.testing import FakeGong
from gong_authlib.token import Token

SCOPES = ("api:users:read", "api:calls:read:basic", "api:integration-settings:write")


def authorize_into(
    gong: FakeGong,
    store: TokenStore,
    customer: str = "acme",
    *,
    client: GongOAuthClient | None = None,
    validity_duration: int | None = None,
) -> Token:
    """Run the authorize flow for ``customer`` and persist its token, as the CLI does."""
    gong.sign_in(customer)
    client = client or gong.oauth_client()
    url, _ = client.authorization_url(SCOPES, gong.redirect_uri, customer=customer)
    pending, code = client.parse_callback(gong.approve(url), redirect_uri=gong.redirect_uri)
    token = client.exchange_code(
        code, gong.redirect_uri, customer=pending.customer, validity_duration=validity_duration
    )
    store.put(customer, token)
    return token
