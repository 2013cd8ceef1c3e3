"""`gong-authlib api [METHOD] PATH` against FakeGong: real processes for what operators run,
in-process ``main()`` for usage errors (no HTTP is reached)."""

from __future__ import annotations

import dataclasses
import json
import os
import pty
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gong_authlib.cli import main
from gong_authlib.cli.api_fields import as_body, as_query, parse_fields
from gong_authlib.stores import SQLiteTokenStore
from gong_authlib.testing import FakeGong
from tests.authflow import authorize_into
from tests.cliflow import CliWorld, free_port, make_world
from tests.helpers import REPO_ROOT

KEY_ID = "AKEYACME77"
SECRET = "apikey-secret-" + "q9" * 12


@pytest.fixture
def world(tmp_path: Path) -> Iterator[CliWorld]:
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    with FakeGong(redirect_uris=[redirect_uri], page_size=10) as gong:
        gong.add_access_key("acme", KEY_ID, SECRET)
        gong.set_records("acme", calls=25)
        world = make_world(gong, tmp_path, redirect_uri)
        world.env.update({"GONG_KEY": KEY_ID, "GONG_KEY_SECRET": SECRET})
        yield world


def _key_args(world: CliWorld, *args: str) -> list[str]:
    origin = world.gong.emulator.customer_origins["acme"]
    return [
        "api",
        *("--access-key-env", "GONG_KEY", "--secret-env", "GONG_KEY_SECRET"),
        *("--base-url", origin, "--trust-origin", origin),
        *args,
    ]


def _no_secret(result: subprocess.CompletedProcess[str], *secrets: str) -> None:
    for secret in (SECRET, *secrets):
        assert secret not in result.stdout
        assert secret not in result.stderr


def test_a_key_pages_through_every_call(world: CliWorld) -> None:
    budget = world.folder / "budget.db"  # paced through a store other processes may share
    result = world.run(
        "-vv", *_key_args(world, "/v2/calls", "--paginate", "--store", f"sqlite:///{budget}")
    )
    assert result.returncode == 0, result.stderr
    assert budget.exists()
    assert result.stdout.count("\n") == 1  # compact JSON: stdout is not a terminal
    document = json.loads(result.stdout)
    ids = [call["id"] for call in document["calls"]]
    assert len(set(ids)) == 25
    assert document["records"]["totalRecords"] == 25
    assert "cursor" not in document["records"]
    assert world.gong.stats.api_calls["acme"] == 3  # pages of 10
    assert "GET /v2/calls?cursor=" in result.stderr  # -vv shows the wire, without credentials
    _no_secret(result)
    assert "Basic " not in result.stderr


def test_a_wrong_secret_exits_1_with_gongs_text_after_one_call(world: CliWorld) -> None:
    world.env["GONG_KEY_SECRET"] = "not-the-" + SECRET
    result = world.run("-vv", *_key_args(world, "/v2/users"))
    assert result.returncode == 1
    assert "HTTP 401 from GET /v2/users: Access denied (requestId " in result.stderr
    assert json.loads(result.stdout)["errors"] == ["Access denied"]
    assert world.gong.stats.api_calls["acme"] == 1
    assert not world.gong.stats.token_calls
    _no_secret(result, "not-the-" + SECRET)


def test_the_customers_stored_token_is_used(world: CliWorld) -> None:
    with SQLiteTokenStore(world.folder / "tokens.db") as store:
        token = authorize_into(world.gong, store, "acme")
        # Expired in the store (its refresh token still good): the command refreshes first.
        store.put("acme", dataclasses.replace(token, expires_at=time.time() - 60))
    result = world.run(
        *world.args("-vv", "api", "--customer", "acme", "--paginate", "-i", "GET", "/v2/calls"),
        *("-f", "fromDateTime=2026-01-05T23:00:00Z"),
    )
    assert result.returncode == 0, result.stderr
    *heads, document = result.stdout.split("\n\n")
    assert len(heads) == 2  # -i: each page's status line and headers
    assert all(head.startswith("HTTP/1.1 200 OK\n") for head in heads)
    calls = json.loads(document)["calls"]
    assert len(calls) == 11  # the calls from 23:00 on, an hour apart: two pages
    assert world.gong.stats.api_calls["acme"] == 2
    assert not world.gong.stats.api_401
    assert world.gong.stats.refreshes("acme") == 1  # refreshed as usual, and stored
    with SQLiteTokenStore(world.folder / "tokens.db") as store:
        fresh = store.get("acme")
    assert fresh is not None
    assert fresh.refresh_token != token.refresh_token
    _no_secret(result, token.access_token, token.refresh_token, world.gong.client_secret)
    _no_secret(result, fresh.access_token, fresh.refresh_token)


def test_typed_fields_make_the_body_and_get_puts_them_in_the_query(world: CliWorld) -> None:
    result = world.run(
        *_key_args(world, "/v2/calls/extensive", "-F", "filter[fromDateTime]=@-", "-F", "x=3"),
        stdin="2026-01-06T09:00:00Z",
    )
    assert result.returncode == 0, result.stderr  # POST: a body was given
    assert len(json.loads(result.stdout)["calls"]) == 1  # the last call, at 09:00 the next day
    # Fields are a body (POST) unless the method is GET: then they are the query string.
    query = world.run(
        *_key_args(world, "GET", "/v2/calls", "-f", "fromDateTime=2026-01-06T08:00:00Z")
    )
    assert query.returncode == 0, query.stderr
    assert len(json.loads(query.stdout)["calls"]) == 2


def test_the_answer_is_pretty_on_a_terminal(world: CliWorld) -> None:
    leader, follower = pty.openpty()
    try:
        process = subprocess.run(
            [sys.executable, "-m", "gong_authlib", *_key_args(world, "/v2/users")],
            stdout=follower,
            stderr=subprocess.PIPE,
            cwd=REPO_ROOT,
            env={**os.environ, **world.env},
            timeout=60,
            check=False,
        )
        os.close(follower)
        printed = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other end is closed: all read
                break
            if not chunk:
                break
            printed += chunk
    finally:
        os.close(leader)
    assert process.returncode == 0, process.stderr
    assert b'\r\n  "requestId": ' in printed


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["api", "/v2/users"], "say whose call it is"),
        (["api", "--customer", "a", "--access-key-env", "K", "/v2/users"], "not both"),
        (["api", "--access-key-env", "UNSET_KEY_VAR", "/v2/users"], "UNSET_KEY_VAR is not set"),
        (["api", "--access-key-env", "K", "--secret-env", "S", "/v2/users"], "--base-url"),
        (
            ["api", "--access-key-env", "K", "--secret-env", "S", "--base-url", "http://x.io", "/"],
            "not an https host under gong.io",
        ),
        (["api", "FETCH", "/v2/users"], "unknown method 'FETCH'"),
        (["api", "GET", "/v2/users", "extra"], "expected [METHOD] PATH"),
        (["api", "https://evil.example/v2/users"], "relative to the API base URL"),
        (["api", "/v2/users", "-F", "novalue"], "-F expects key=value"),
        (["api", "/v2/users", "-F", "a[b=1"], "brackets balanced"),
        (["api", "/v2/users", "-F", "a[]x=1"], "brackets balanced"),
        (["api", "GET", "/v2/users", "-F", "a[b]=1"], "nested fields go in a JSON body"),
        (["api", "/v2/x", "-F", "a=1", "-F", "a[b]=2"], "conflicts"),
        (["api", "/v2/x", "-F", "a=1", "-F", "a=2"], "given twice"),
        (["api", "/v2/x", "-F", "a=@/nonexistent/file"], "cannot read it"),
        (["api", "/v2/x", "--input", "/nonexistent/file"], "cannot read it"),
    ],
)
def test_usage_errors_exit_2_with_the_reason(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("K", KEY_ID)
    monkeypatch.setenv("S", SECRET)
    monkeypatch.delenv("UNSET_KEY_VAR", raising=False)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert SECRET not in err


def test_input_that_is_not_json_says_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = tmp_path / "body.json"
    body.write_text('{"filter": {\n  "fromDateTime": oops}}')
    assert main(["api", "POST", "/v2/calls/extensive", "--input", str(body)]) == 2
    assert "not JSON: Expecting value: line 2 column 19" in capsys.readouterr().err


def test_fields_nest_and_append_as_gh_api_does() -> None:
    fields = parse_fields(
        ["filter[callIds][]=7", "n=1.5", "t=true", "z=null", "e=2e3"],
        ["filter[callIds][]=8", "s=12"],
    )
    assert as_body(fields) == {
        "filter": {"callIds": [7, "8"]},
        "n": 1.5,
        "t": True,
        "z": None,
        "e": 2000.0,
        "s": "12",
    }
    query = as_query(parse_fields(["ids[]=1", "ids[]=2", "on=true"], ["a=b"]))
    assert query == {"ids": ["1", "2"], "on": "true", "a": "b"}


def test_paging_over_nothing_found_is_an_empty_result(
    world: CliWorld, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in world.env.items():
        monkeypatch.setenv(name, value)
    later = "fromDateTime=2030-01-01T00:00:00Z"
    assert main(_key_args(world, "--paginate", "GET", "/v2/calls", "-f", later)) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["records"] == {
        "totalRecords": 0,
        "currentPageSize": 0,
        "currentPageNumber": 0,
    }
    # Without --paginate the same 404 is Gong's answer, and an HTTP error.
    assert main(_key_args(world, "GET", "/v2/calls", "-f", later)) == 1
    assert "HTTP 404 from GET /v2/calls: No calls found" in capsys.readouterr().err
