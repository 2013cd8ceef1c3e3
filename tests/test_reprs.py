"""No ``repr`` shows a secret: every public object a caller can hold, built with real tokens.

A repr ends up in tracebacks, debugger views, log lines (``%r``) and error reports, so each one
is checked against the secrets FakeGong actually issued: the client secret, the access token
(also as the ``Bearer`` header a transport sends) and the refresh token.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import gong_authlib
from gong_authlib import (
    AccessKey,
    CustomerToken,
    GongAccessKeyAuth,
    GongAuth,
    GongHttpxAccessKeyAuth,
    GongHttpxAuth,
    MemoryTokenStore,
    SQLiteTokenStore,
    gong_async_client,
    gong_httpx_client,
    gong_session,
)
from gong_authlib.testing import FakeGong
from tests.authflow import authorize_into


def _secrets(gong: FakeGong, token: gong_authlib.Token) -> list[str]:
    return [gong.client_secret, token.access_token, token.refresh_token]


def _leaks(objects: dict[str, object], secrets: list[str]) -> list[str]:
    return [
        f"{name} shows secret #{index}"
        for name, value in objects.items()
        for index, secret in enumerate(secrets)
        if secret in repr(value) or secret in str(value)
    ]


def test_no_public_object_shows_a_secret_in_its_repr(fake_gong: FakeGong, tmp_path: Path) -> None:
    client = fake_gong.oauth_client()
    store = SQLiteTokenStore(tmp_path / "tokens.db")
    token = authorize_into(fake_gong, store)
    customer_token = CustomerToken(client, store, "acme")
    auth = GongAuth(client, store, "acme")
    httpx_auth = GongHttpxAuth(client, store, "acme")
    session = gong_session(client, store, "acme")
    sync_client = gong_httpx_client(client, store, "acme")
    memory = MemoryTokenStore()
    memory.put("acme", token)
    current = customer_token.fresh()
    assert current.token == token  # the object under test really carries the secrets

    async def fresh_async() -> object:
        async with gong_async_client(client, store, "acme") as async_client:
            async_auth = async_client.auth
            assert isinstance(async_auth, GongHttpxAuth)
            return await async_auth.fresh_async()

    objects: dict[str, object] = {
        "Token": token,
        "GongOAuthClient": client,
        "SQLiteTokenStore": store,
        "MemoryTokenStore": memory,
        "CustomerToken": customer_token,
        "CustomerToken.fresh()": current,
        "GongHttpxAuth.fresh_async()": asyncio.run(fresh_async()),
        "GongAuth": auth,
        "GongHttpxAuth": httpx_auth,
        "GongSession": session,
        "gong_httpx_client": sync_client,
        "the prepared request's auth": session.auth,
    }
    try:
        assert _leaks(objects, _secrets(fake_gong, token)) == []
    finally:
        session.close()
        sync_client.close()


def test_no_access_key_object_shows_its_secret(fake_gong: FakeGong) -> None:
    secret = "company-key-secret-" + "k" * 24
    origin = fake_gong.add_customer("acme")
    fake_gong.add_access_key("acme", "AKEYREPR", secret)
    key = AccessKey("AKEYREPR", secret, origin, trusted_origins=[origin])
    session = gong_session(key)
    sync_client = gong_httpx_client(key)
    async_client = gong_async_client(key)
    objects: dict[str, object] = {
        "AccessKey": key,
        "AccessKey.secret": key.secret,
        "GongAccessKeyAuth": GongAccessKeyAuth(key),
        "GongHttpxAccessKeyAuth": GongHttpxAccessKeyAuth(key),
        "gong_session(key)": session,
        "its auth": session.auth,
        "gong_httpx_client(key)": sync_client,
        "gong_async_client(key)": async_client,
    }
    try:
        assert session.get("/v2/users").status_code == 200  # the objects really carry it
        assert _leaks(objects, [secret, key.header().split()[1]]) == []
    finally:
        session.close()
        sync_client.close()
        asyncio.run(async_client.aclose())
