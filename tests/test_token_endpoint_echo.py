"""A token endpoint (or a gateway before it) that quotes the request's Authorization header
back in its error: the encoded ``client_id:secret`` pair decodes to the client secret, so it
must not reach an exception's message or a log record."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from gong_authlib import ClientCredentialsRejected, GongOAuthClient, MemoryTokenStore, OAuthError
from gong_authlib.oauth import secret_backoff
from gong_authlib.testing import FakeGong
from tests.authflow import authorize_into
from tests.helpers import serve_on_loopback

SECRET = "client-secret-" + "e5" * 12


class _EchoingTokenEndpoint(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        sent = self.headers.get("Authorization") or ""
        error = "invalid_client" if "client" in self.path else "invalid_request"
        body = json.dumps({"error": error, "error_description": f"refused {sent}"}).encode()
        self.send_response(401 if error == "invalid_client" else 400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def endpoint() -> Iterator[str]:
    with serve_on_loopback(_EchoingTokenEndpoint) as origin:
        yield origin


@pytest.mark.parametrize("path", ["/client", "/request"])
def test_the_encoded_client_credentials_quoted_back_are_redacted(
    path: str,
    endpoint: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(secret_backoff, "_refusals", {})
    with FakeGong() as gong:
        token = authorize_into(gong, MemoryTokenStore())
    client = GongOAuthClient("client-id", SECRET, token_url=endpoint + path, retries=0)
    with caplog.at_level(logging.DEBUG), pytest.raises(OAuthError) as caught:
        client.refresh(token)
    assert isinstance(caught.value, ClientCredentialsRejected) == (path == "/client")
    message = str(caught.value)
    if path == "/request":  # (a refused client's message names the secret's fingerprint only)
        assert "refused Basic <redacted>" in message, message
    blob = base64.b64encode(f"client-id:{SECRET}".encode()).decode()
    for text in (message, repr(caught.value), caplog.text):
        assert blob not in text
        assert SECRET not in text
