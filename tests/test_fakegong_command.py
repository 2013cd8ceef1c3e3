"""`gong-authlib fakegong` and FakeGong(port=, api_ports=): fixed ports, settings from flags or
a file, a consent page that picks the company, and clean stops."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from gong_authlib.oauth.client import GongOAuthClient
from gong_authlib.redaction import protect_third_party_loggers
from gong_authlib.testing import FakeGong, LiveClock
from tests.cliflow import free_port
from tests.helpers import REPO_ROOT, run_cli

REDIRECT = "http://127.0.0.1:8000/oauth/gong/callback"


@contextmanager
def fakegong(*args: str, env: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """Run the command; yield what its first line announces; stop it with SIGTERM."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gong_authlib", "fakegong", "--format", "json", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, process.communicate(timeout=30)[1]
        yield json.loads(line)
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
        assert "Traceback" not in err


def client_for(info: dict[str, Any]) -> GongOAuthClient:
    return GongOAuthClient(
        info["client_id"],
        info["client_secret"],
        authorize_url=info["authorize_url"],
        token_url=info["token_url"],
        trusted_api_origins=info["customers"].values(),
    )


def test_serves_on_the_ports_of_its_file_and_the_tester_picks_the_company(
    tmp_path: Path,
) -> None:
    protect_third_party_loggers()
    oauth, acme, globex = free_port(), free_port(), free_port()
    settings = tmp_path / "fakegong.yaml"
    settings.write_text(
        f"port: {oauth}\n"
        "client_id: my-app\n"
        f"redirect_uris: [{REDIRECT}]\n"
        f"customers: {{acme: {acme}, globex: {globex}}}\n"
    )
    with fakegong(
        "--file", str(settings), "--client-secret-env", "MY_SECRET", env={"MY_SECRET": "shh-1"}
    ) as info:
        assert info["url"] == f"http://127.0.0.1:{oauth}"
        assert info["customers"] == {
            "acme": f"http://127.0.0.1:{acme}",
            "globex": f"http://127.0.0.1:{globex}",
        }
        assert info["client_id"] == "my-app"
        assert (info["client_secret_from"], "client_secret" in info) == ("$MY_SECRET", False)
        client = client_for({**info, "client_secret": "shh-1"})
        url, _ = client.authorization_url(
            ["api:users:read"], REDIRECT, customer="globex", extra_params={"login_hint": "globex"}
        )
        consent = requests.get(url, timeout=10)
        assert consent.status_code == 200
        assert '<option value="globex" selected>' in consent.text  # the flow's company
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        form = {**query, "decision": "approve", "company": "globex"}
        answer = requests.post(info["authorize_url"], data=form, allow_redirects=False, timeout=10)
        pending, code = client.parse_callback(answer.headers["Location"], redirect_uri=REDIRECT)
        token = client.exchange_code(code, REDIRECT)
        assert pending.customer == "globex"
        assert token.api_base_url == info["customers"]["globex"]
        users = requests.get(
            f"{token.api_base_url}/v2/users",
            headers={"Authorization": f"Bearer {token.access_token}"},
            timeout=10,
        )
        assert users.status_code == 200


def two_companies_approved() -> tuple[str, ...]:
    """Flags for a server on free ports with acme and globex, approving as login_hint says."""
    companies = ("--customer", "acme", "--customer", "globex")
    return ("--port", str(free_port()), *companies, "--redirect-uri", REDIRECT, "--auto-approve")


def test_auto_approve_approves_as_the_company_the_flow_was_started_for() -> None:
    protect_third_party_loggers()
    with fakegong(*two_companies_approved()) as info:
        client = client_for(info)
        for company in ("globex", "acme"):
            url, _ = client.authorization_url(
                ["api:users:read"], REDIRECT, extra_params={"login_hint": company}
            )
            callback = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]
            _, code = client.parse_callback(callback, redirect_uri=REDIRECT)
            assert client.exchange_code(code, REDIRECT).api_base_url == info["customers"][company]


def test_gongs_limits_and_page_size_can_be_switched_on() -> None:
    protect_third_party_loggers()
    with fakegong(
        "--port",
        str(free_port()),
        "--redirect-uri",
        REDIRECT,
        "--auto-approve",
        "--rate-limit",
        "2",
        "--page-size",
        "1",
    ) as info:
        client = client_for(info)
        url, _ = client.authorization_url(["api:users:read"], REDIRECT)
        callback = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]
        _, code = client.parse_callback(callback, redirect_uri=REDIRECT)
        token = client.exchange_code(code, REDIRECT)
        headers = {"Authorization": f"Bearer {token.access_token}"}
        answers = [
            requests.get(f"{token.api_base_url}/v2/users", headers=headers, timeout=10)
            for _ in range(3)
        ]
        assert answers[0].json()["records"]["currentPageSize"] == 1
        assert "cursor" in answers[0].json()["records"]
        assert 429 in [answer.status_code for answer in answers]


def test_a_taken_port_is_a_clear_error() -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = run_cli("fakegong", "--port", str(port))
    assert result.returncode == 1
    assert "cannot listen on 127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_settings_are_usage_errors_with_their_place(tmp_path: Path) -> None:
    bad = tmp_path / "fakegong.json"
    bad.write_text('{"port": 9100, "customers": {"acme": "x"}}')
    result = run_cli("fakegong", "--file", str(bad))
    assert result.returncode == 2
    assert "customers.acme: a port is a whole number" in result.stderr
    bad.write_text('{"prot": 9100}')
    result = run_cli("fakegong", "--file", str(bad))
    assert result.returncode == 2
    assert "unknown setting 'prot'" in result.stderr
    bad.write_text("port: [9100\n")
    result = run_cli("fakegong", "--file", str(bad))
    assert result.returncode == 2
    assert f"{bad}:2:1: YAML syntax error" in result.stderr  # the integration file's reader
    result = run_cli("fakegong", "--customer", "acme=http")
    assert result.returncode == 2
    assert "expected NAME or NAME=PORT" in result.stderr


def test_fakegong_in_process_takes_fixed_ports() -> None:
    oauth, acme = free_port(), free_port()
    with FakeGong(port=oauth, api_ports={"acme": acme}) as gong:
        assert gong.url == f"http://127.0.0.1:{oauth}"
        assert gong.add_customer("acme") == f"http://127.0.0.1:{acme}"
        assert gong.add_customer("globex") not in (gong.url, f"http://127.0.0.1:{acme}")


def test_live_clock_follows_real_time_and_can_be_moved() -> None:
    now = [1_000.0]
    clock = LiveClock(real=lambda: now[0])
    assert clock() == 1_000.0
    now[0] = 1_005.0
    assert clock() == 1_005.0
    assert clock.advance(600) == 1_605.0
    now[0] = 1_006.0
    assert clock() == 1_606.0


def test_odd_files_names_and_uris_are_usage_errors_not_internal_ones(tmp_path: Path) -> None:
    latin1 = tmp_path / "fakegong.yaml"
    latin1.write_bytes(b"client_id: caf\xe9\n")
    result = run_cli("fakegong", "--file", str(latin1))
    assert (result.returncode, "internal error" in result.stderr) == (2, False)
    assert f"{latin1}:1:15: file is not valid UTF-8 (byte 0xe9)" in result.stderr
    for args, expected in [
        (("--redirect-uri", "127.0.0.1:8000/callback"), "--redirect-uri: '127.0.0.1:8000/cal"),
        (("--redirect-uri", ""), "--redirect-uri: '' is not an http(s) URL"),
        (("--customer", "a\nb=9101"), "--customer: a customer name cannot contain control"),
    ]:
        result = run_cli("fakegong", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert expected in result.stderr
        assert "Traceback" not in result.stderr
    named = tmp_path / "names.yaml"
    named.write_text('customers: {"a\\nb": 9101}\nredirect_uris: ["ftp://x/cb"]\n')
    result = run_cli("fakegong", "--file", str(named))
    assert result.returncode == 2
    assert "a customer name cannot contain control characters" in result.stderr


def test_a_client_secret_from_the_environment_is_never_printed() -> None:
    # Users point --client-secret-env at a variable their app reads too: it may be real.
    secret = "shh-the-real-one-perhaps"
    for output in ("text", "json"):
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "gong_authlib", "fakegong", "--port", str(free_port())),
                *("--client-secret-env", "APP_SECRET", "--format", output),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO_ROOT,
            env={**os.environ, "APP_SECRET": secret},
        )
        try:
            assert process.stdout is not None
            lines = [process.stdout.readline()]
            while output == "text" and "trust the customer origins" not in lines[-1]:
                lines.append(process.stdout.readline())
                assert lines[-1], "the announcement ended early"
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = process.communicate(timeout=30)
        printed = "".join(lines)
        assert "APP_SECRET" in printed
        assert secret not in printed + err


def test_the_text_banner_escapes_control_characters() -> None:
    # Settings may come from a file in a repository: what they hold is shown escaped.
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gong_authlib",
            "fakegong",
            "--port",
            str(free_port()),
            "--client-id",
            "app\x1b]0;pwned\x07\u202e",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(4)]
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert banner[3] == "  client_id:      app\\x1b]0;pwned\\x07\\u202e\n", banner


def test_access_keys_take_their_secret_from_the_environment_and_never_print_it() -> None:
    secret = "company-key-secret-perhaps-real"
    port, api_port = free_port(), free_port()
    with fakegong(
        *("--port", str(port), "--customer", f"acme={api_port}", "--access-key", "acme=AKEY9"),
        env={"FAKEGONG_ACCESS_KEY_SECRET": secret},
    ) as info:
        assert info["access_keys"] == [{"customer": "acme", "access_key": "AKEY9"}]
        assert info["access_key_secret_from"] == "$FAKEGONG_ACCESS_KEY_SECRET"
        assert secret not in json.dumps(info)
        origin = info["customers"]["acme"]
        good = requests.get(origin + "/v2/users", auth=("AKEY9", secret), timeout=10)
        assert good.status_code == 200
        wrong = requests.get(origin + "/v2/users", auth=("AKEY9", "guess"), timeout=10)
        assert wrong.status_code == 401
        assert wrong.json()["errors"] == ["Access denied"]
    missing = run_cli(
        *("fakegong", "--port", str(free_port()), "--access-key", "acme=AKEY9"),
        env={"FAKEGONG_ACCESS_KEY_SECRET": ""},
    )
    assert missing.returncode == 2
    assert "FAKEGONG_ACCESS_KEY_SECRET" in missing.stderr
