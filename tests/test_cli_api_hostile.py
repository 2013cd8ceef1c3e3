"""`gong-authlib api` against hostile arguments and a hostile server: every bad argument is a
usage error (exit 2) with its reason, never an internal error; nothing a server echoes back
puts the credential that was sent on stdout or stderr."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from gong_authlib.cli import main
from gong_authlib.stores import SQLiteTokenStore
from tests.cliflow import authorized_world
from tests.helpers import serve_on_loopback

KEY_ID = "AKEYHOSTILE1"
SECRET = "apikey-secret-" + "h7" * 12
DEEP = 100_000


@pytest.fixture
def key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K", KEY_ID)
    monkeypatch.setenv("S", SECRET)


def _key_args(origin: str) -> list[str]:
    return [
        *("api", "--access-key-env", "K", "--secret-env", "S"),
        *("--base-url", origin, "--trust-origin", origin),
    ]


@pytest.mark.parametrize(
    ("fields", "input_text", "message"),
    [
        (["-F", "a=1e400"], None, "-F 'a=1e400': the number is too large"),
        # Arguments that were not UTF-8 bytes (Python's surrogate escapes): not sent as text.
        (["-f", "a=\udcff"], None, "-f 'a=\\udcff': not UTF-8 text"),
        (["-F", "a\udcff=1"], None, "not UTF-8 text"),
        (["-F", "a=-1e400"], None, "the number is too large"),
        (["-F", "a=" + "9" * 5000], None, "the number has too many digits"),
        (["-F", "a" + "[b]" * DEEP + "=1"], None, "nested deeper than 32 levels"),
        ([], "[" * DEEP + "]" * DEEP, "nested deeper than"),
        ([], '{"a": ' * 200 + "1" + "}" * 200, "nested deeper than 64 levels"),
        ([], '{"a": NaN}', "NaN is not JSON"),
        ([], '{"a": -Infinity}', "-Infinity is not JSON"),
        ([], '{"a": 1e400}', "the number 1e400 is too large"),
    ],
)
def test_hostile_fields_and_input_are_usage_errors(
    *,
    fields: list[str],
    input_text: str | None,
    message: str,
    tmp_path: Path,
    key_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [*_key_args("https://us-1.api.gong.io"), "POST", "/v2/x", *fields]
    if input_text is not None:
        body = tmp_path / "body.json"
        body.write_text(input_text)
        argv += ["--input", str(body)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err, err[:500]
    assert "internal error" not in err
    assert len(err) < 1000  # the reason, not the argument echoed whole


@pytest.mark.parametrize("source", [["-F", "a=@-"], ["--input", "-"]])
def test_standard_input_that_is_not_utf8_is_a_usage_error(
    source: list[str],
    key_env: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'"\xff"'), encoding="utf-8"))
    assert main([*_key_args("https://us-1.api.gong.io"), "POST", "/v2/x", *source]) == 2
    err = capsys.readouterr().err
    assert "cannot read it (not UTF-8 text)" in err, err


class _Echo(BaseHTTPRequestHandler):
    """A server (a debugging proxy, a gateway's error page) that quotes the request's
    Authorization header back in its body and in a header."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        sent = self.headers.get("Authorization") or ""
        status = int(self.path.split("?")[0].rsplit("/", 1)[-1])
        body = json.dumps({"errors": [f"refused Authorization: {sent}"], "echo": sent}).encode()
        if self.path.startswith("/deep/"):  # JSON nested past Python's recursion limit
            body = b"[" * DEEP + b"]" * DEEP
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Echo", sent)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def echo_origin() -> Iterator[str]:
    with serve_on_loopback(_Echo) as origin:
        yield origin


@pytest.mark.parametrize(("status", "code"), [(401, 1), (200, 0)])
def test_a_server_echoing_the_authorization_header_does_not_print_it(
    status: int,
    code: int,
    echo_origin: str,
    key_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    header = base64.b64encode(f"{KEY_ID}:{SECRET}".encode()).decode()
    assert main(["-vv", *_key_args(echo_origin), "-i", f"/echo/{status}"]) == code
    printed = capsys.readouterr()
    for stream in (printed.out, printed.err):
        assert header not in stream
        assert SECRET not in stream
    assert "X-Echo: Basic <redacted>" in printed.out  # the rest of the answer is still shown
    assert '"echo":"Basic <redacted>"' in printed.out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["/deep/200"], 0, ""),
        (["/deep/400"], 1, "HTTP 400 from GET /deep/400: (no JSON body)"),
        (["--paginate", "/deep/200"], 1, "HTTP 200 from GET /deep/200: "),
    ],
)
def test_an_answer_nested_past_the_recursion_limit_is_not_an_internal_error(
    *,
    args: list[str],
    code: int,
    message: str,
    echo_origin: str,
    key_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([*_key_args(echo_origin), *args]) == code
    printed = capsys.readouterr()
    assert "internal error" not in printed.err
    assert message in printed.err


def test_a_customers_bearer_token_echoed_back_is_not_printed(
    echo_origin: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with authorized_world(tmp_path, "acme") as world:
        with SQLiteTokenStore(world.folder / "tokens.db") as store:
            token = store.get("acme")
            assert token is not None
            store.put("acme", dataclasses.replace(token, api_base_url=echo_origin))
        for name, value in world.env.items():
            monkeypatch.setenv(name, value)
        argv = world.args("-vv", "api", "--customer", "acme", "-i", "/echo/403")
        assert main([*argv, "--trust-origin", echo_origin]) == 1
    printed = capsys.readouterr()
    for stream in (printed.out, printed.err):
        assert token.access_token not in stream
        assert token.refresh_token not in stream
        assert world.gong.client_secret not in stream
    assert "X-Echo: Bearer <redacted>" in printed.out
    assert "refused Authorization: Bearer <redacted>" in printed.err
