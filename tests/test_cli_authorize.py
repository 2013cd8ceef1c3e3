"""`gong-authlib authorize` end to end: a real process, a real loopback callback, FakeGong."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from gong_authlib.redaction import protect_third_party_loggers
from gong_authlib.stores import SQLiteTokenStore
from gong_authlib.testing import FakeGong
from tests.cliflow import CliWorld, free_port, make_world, shown_start_url, start_in_browser
from tests.helpers import REPO_ROOT
from tests.unprivileged import as_nobody


@pytest.fixture
def world(tmp_path: Path) -> Iterator[CliWorld]:
    # The test itself requests callback URLs (codes in them) through urllib3: redact its log
    # as the library does, whichever test runs first.
    protect_third_party_loggers()
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    remote = "https://app.acme.example/oauth/gong/callback"
    with FakeGong(redirect_uris=[redirect_uri, remote]) as gong:
        gong.add_customer("acme")
        yield make_world(gong, tmp_path, redirect_uri)


def _authorize_url(process: subprocess.Popen[str]) -> str:
    """Gong's authorize URL, for the pasted-URL flow (a non-loopback redirect URI)."""
    assert process.stderr is not None
    for line in process.stderr:
        match = re.search(r"(http://\S+/oauth2/authorize\?\S+)", line)
        if match:
            return match.group(1)
    raise AssertionError("authorize printed no URL")


def _finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


def test_authorize_through_the_loopback_callback(world: CliWorld) -> None:
    process = world.popen(*world.args("authorize", "--customer", "acme", "--no-browser"))
    browser, callback = start_in_browser(world.gong, shown_start_url(process.stderr))
    page = browser.get(callback, timeout=10)
    assert page.status_code == 200
    assert "You can close this window." in page.text
    assert "code=" not in page.text
    code, out, err = _finish(process)
    assert code == 0, err
    assert "Authorized customer acme." in out
    assert f"API base URL:   {world.gong.trusted_origins[0]}" in out
    assert "granted scopes: api:calls:read:basic api:integration-settings:write" in out
    token = SQLiteTokenStore(world.folder / "tokens.db").get("acme")
    assert token is not None
    assert token.access_token not in out + err
    assert token.refresh_token not in out + err


def test_denied_consent_exits_one(tmp_path: Path) -> None:
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    with FakeGong(redirect_uris=[redirect_uri], auto_approve=False) as gong:
        gong.add_customer("acme")
        world = make_world(gong, tmp_path, redirect_uri)
        process = world.popen(*world.args("authorize", "--customer", "acme", "--no-browser"))
        browser = requests.Session()
        url = browser.get(shown_start_url(process.stderr), allow_redirects=False, timeout=10)
        query = {k: v[0] for k, v in parse_qs(urlsplit(url.headers["Location"]).query).items()}
        denied = requests.post(
            gong.authorize_url,
            data={**query, "decision": "deny"},
            allow_redirects=False,
            timeout=10,
        )
        page = browser.get(denied.headers["Location"], timeout=10)
        assert "Authorization failed" in page.text
        code, _, err = _finish(process)
        assert code == 1
        assert "the Gong admin denied access" in err
        assert "Traceback" not in err


def test_forged_requests_before_the_callback_do_not_end_the_flow(world: CliWorld) -> None:
    process = world.popen(*world.args("authorize", "--customer", "acme", "--no-browser"))
    browser, callback = start_in_browser(world.gong, shown_start_url(process.stderr))
    port_path = callback.split("?")[0]
    # Any local process or web page can send requests to the loopback port first.
    for forged in (
        callback.replace("state=", "state=forged"),
        f"{port_path}?code=x&state=guess",
        f"{port_path}?error=access_denied",
        port_path,
    ):
        page = browser.get(forged, timeout=10)
        assert page.status_code == 400
        assert "ignored" in page.text
    page = browser.get(callback, timeout=10)
    assert page.status_code == 200
    assert "You can close this window." in page.text
    code, out, err = _finish(process)
    assert code == 0, err
    assert "Authorized customer acme." in out
    assert "ignored 4 requests to the callback that did not carry this authorization's" in err
    assert SQLiteTokenStore(world.folder / "tokens.db").get("acme") is not None


def test_forged_requests_then_timeout_say_what_happened(world: CliWorld) -> None:
    process = world.popen(
        *world.args("authorize", "--customer", "acme", "--no-browser", "--timeout", "1")
    )
    browser, callback = start_in_browser(world.gong, shown_start_url(process.stderr))
    browser.get(callback.replace("state=", "state=forged"), timeout=10)
    code, _, err = _finish(process)
    assert code == 1
    assert "no callback with this authorization's state arrived within 1 s" in err
    assert "1 forged or stray request was ignored" in err
    assert SQLiteTokenStore(world.folder / "tokens.db").get("acme") is None


def test_timeout_exits_one(world: CliWorld) -> None:
    result = world.run(
        *world.args("authorize", "--customer", "acme", "--no-browser", "--timeout", "0.3")
    )
    assert result.returncode == 1
    assert "no callback with this authorization's state arrived within 0.3 s" in result.stderr


def test_port_in_use_exits_one(world: CliWorld) -> None:
    port = int(urlsplit(world.redirect_uri).port or 0)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        result = world.run(*world.args("authorize", "--customer", "acme", "--no-browser"))
    assert result.returncode == 1
    assert f"cannot listen on {world.redirect_uri}" in result.stderr


def test_ctrl_c_exits_130(world: CliWorld) -> None:
    process = world.popen(*world.args("authorize", "--customer", "acme", "--no-browser"))
    shown_start_url(process.stderr)
    process.send_signal(signal.SIGINT)
    code, _, err = _finish(process)
    assert code == 130
    assert "interrupted" in err
    assert "Traceback" not in err


# A shell without job control starts `pytest &` with SIGINT ignored: what the loaded CI run
# that timed out here had (tests/conftest.py gives children the default back).
_IGNORING_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "os.execv(sys.executable, [sys.executable, '-m', 'pytest', *sys.argv[1:]])"
)


def test_ctrl_c_exits_130_when_pytest_itself_ignores_sigint() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    inner = subprocess.run(
        [
            sys.executable,
            "-c",
            _IGNORING_SIGINT,
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "tests/test_cli_authorize.py::test_ctrl_c_exits_130",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert inner.returncode == 0, inner.stdout[-3000:] + inner.stderr[-3000:]
    assert "1 passed" in inner.stdout


def test_pasted_callback_for_a_remote_redirect_uri(world: CliWorld) -> None:
    process = world.popen(
        *world.args(
            "authorize",
            "--customer",
            "acme",
            "--no-browser",
            "--redirect-uri",
            world.remote_redirect_uri,
        )
    )
    url = _authorize_url(process)
    pasted = world.gong.approve(url)
    assert pasted.startswith(world.remote_redirect_uri)
    out, err = process.communicate(pasted + "\n", timeout=60)
    assert process.returncode == 0, err
    assert "Authorized customer acme." in out


def test_redirect_uri_must_be_registered(world: CliWorld) -> None:
    result = world.run(
        *world.args("authorize", "--customer", "acme", "--redirect-uri", "https://evil.example/cb")
    )
    assert result.returncode == 2
    assert "is not one of the integration's redirect_uris" in result.stderr


def test_unset_secret_is_a_positioned_message(world: CliWorld) -> None:
    world.env = {"GONG_CLIENT_ID": "x"}
    result = world.run(*world.args("authorize", "--customer", "acme", "--no-browser"))
    assert result.returncode == 1
    assert "error[env-unset]: environment variable GONG_CLIENT_SECRET is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_integration_file(world: CliWorld, tmp_path: Path) -> None:
    result = world.run("authorize", "--customer", "acme", "--config", str(tmp_path / "no.yaml"))
    assert result.returncode == 1
    assert "file not found" in result.stderr


def test_the_state_without_the_starting_browsers_cookie_neither_finishes_nor_aborts(
    tmp_path: Path,
) -> None:
    # The security review's attack: another local user learns the state (it used to be on
    # the browser's command line) and sends it to the callback with a code for their own Gong
    # company, or with error=access_denied. Without the starting browser's cookie, ignored.
    protect_third_party_loggers()
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    with FakeGong(redirect_uris=[redirect_uri], auto_approve=False) as gong:
        gong.add_customer("acme")
        gong.add_customer("evilcorp")
        world = make_world(gong, tmp_path, redirect_uri)
        process = world.popen(*world.args("authorize", "--customer", "acme", "--no-browser"))
        browser, callback = start_in_browser(gong, shown_start_url(process.stderr), company="acme")
        state = parse_qs(urlsplit(callback).query)["state"][0]
        own = (
            gong.authorize_url
            + "?"
            + urlencode(
                {
                    "client_id": gong.client_id,
                    "response_type": "code",
                    "scope": "api:users:read",
                    "redirect_uri": redirect_uri,
                    "state": "the-attackers-own",
                }
            )
        )
        their_code = parse_qs(urlsplit(gong.approve(own, company="evilcorp")).query)["code"][0]
        port = urlsplit(redirect_uri).port
        for forged, cookies in (
            ({"state": state, "code": their_code}, {}),
            ({"state": state, "error": "access_denied"}, {}),
            ({"state": state, "code": their_code}, {f"gong_authlib_cli_{port}": "n" * 43}),
        ):
            page = requests.get(redirect_uri, params=forged, cookies=cookies, timeout=10)
            assert page.status_code == 400
            assert "ignored" in page.text
        page = browser.get(callback, timeout=10)
        assert page.status_code == 200, page.text
        code, out, err = _finish(process)
    assert code == 0, err
    assert "Authorized customer acme." in out
    assert "ignored 3 requests to the callback" in err
    token = SQLiteTokenStore(tmp_path / "tokens.db").get("acme")
    assert token is not None
    assert token.api_base_url == gong.emulator.customer_origins["acme"]
    assert token.api_base_url != gong.emulator.customer_origins["evilcorp"]


def test_the_start_url_works_once_and_carries_no_state(world: CliWorld) -> None:
    process = world.popen(*world.args("authorize", "--customer", "acme", "--no-browser"))
    start = shown_start_url(process.stderr)
    browser = requests.Session()
    first = browser.get(start, allow_redirects=False, timeout=10)
    assert first.status_code == 302
    gong_url = first.headers["Location"]
    assert gong_url.startswith(world.gong.authorize_url + "?")
    assert parse_qs(urlsplit(gong_url).query)["state"][0] not in start
    cookie = first.headers["Set-Cookie"]
    assert cookie.startswith(f"gong_authlib_cli_{urlsplit(world.redirect_uri).port}=")
    for attribute in ("HttpOnly", "SameSite=Lax", "Path=/callback", "Max-Age=600"):
        assert attribute in cookie.split("; ")
    # One browser only: any later visit, from anywhere, is refused and gets neither.
    for again in (requests.get, browser.get):
        refused = again(start, allow_redirects=False, timeout=10)
        assert refused.status_code == 409
        assert "already opened" in refused.text
        assert "Location" not in refused.headers
        assert "Set-Cookie" not in refused.headers
    page = browser.get(world.gong.approve(gong_url), timeout=10)
    assert page.status_code == 200
    code, out, err = _finish(process)
    assert code == 0, err
    assert "Authorized customer acme." in out
    assert "the start URL was opened 3 times and only the first was let through" in err


def test_the_browsers_command_line_carries_only_the_start_url(
    world: CliWorld, tmp_path: Path
) -> None:
    # The browser `authorize` opens is this script (webbrowser honours $BROWSER): it records
    # its command line, which every local user can read, then behaves as a browser would.
    argv = tmp_path / "browser-argv.txt"
    script = tmp_path / "browser.py"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, pathlib, sys, requests\n"
        f"pathlib.Path({str(argv)!r}).write_text(json.dumps(sys.argv[1:]))\n"
        "requests.Session().get(sys.argv[1], timeout=10).raise_for_status()\n"
    )
    script.chmod(0o700)
    world.env["BROWSER"] = str(script)
    code, out, err = _finish(world.popen(*world.args("authorize", "--customer", "acme")))
    assert code == 0, err
    assert "Authorized customer acme." in out
    (opened,) = json.loads(argv.read_text())
    assert opened == shown_start_url(err.splitlines())
    assert "state" not in opened
    assert "oauth2/authorize" not in opened
    assert SQLiteTokenStore(world.folder / "tokens.db").get("acme") is not None


def test_another_local_user_racing_to_the_start_url_is_turned_away(world: CliWorld) -> None:
    # The start URL is on the browser's command line too: another user's program that opens
    # it first must get neither Gong's URL (the state) nor the cookie.
    if not Path("/proc/net/tcp").exists():
        pytest.skip("no /proc/net/tcp: which user opened a connection is unknown here")
    process = world.popen(*world.args("authorize", "--customer", "acme", "--no-browser"))
    start = shown_start_url(process.stderr)

    def race() -> tuple[int, bool, bool]:
        page = requests.get(start, allow_redirects=False, timeout=10)
        return page.status_code, "Location" in page.headers, "Set-Cookie" in page.headers

    assert as_nobody(race) == (403, False, False)
    browser, callback = start_in_browser(world.gong, start)
    assert browser.get(callback, timeout=10).status_code == 200
    code, out, err = _finish(process)
    assert code == 0, err
    assert "Authorized customer acme." in out
    assert "turned away 1 connection from another local user's programs" in err
    assert "start URL was opened" not in err


def test_a_timeout_after_another_users_requests_says_so(world: CliWorld) -> None:
    # Also what a developer sees who runs authorize as root while their browser is not.
    if not Path("/proc/net/tcp").exists():
        pytest.skip("no /proc/net/tcp: which user opened a connection is unknown here")
    process = world.popen(
        *world.args("authorize", "--customer", "acme", "--no-browser", "--timeout", "1")
    )
    start = shown_start_url(process.stderr)
    page = as_nobody(lambda: requests.get(start, allow_redirects=False, timeout=10).text)
    assert "run authorize as the same user as the browser" in page
    code, _, err = _finish(process)
    assert code == 1
    assert "1 connection from another local user's programs turned away" in err
    assert SQLiteTokenStore(world.folder / "tokens.db").get("acme") is None


def test_the_summary_escapes_what_the_token_answer_said() -> None:
    # The API base URL and the granted scopes come from the token endpoint's answer.
    from gong_authlib.cli.authorize_command import _summary
    from gong_authlib.loopback.authorize import Authorization
    from gong_authlib.token import Token

    escapes = "\x1b]0;pwned\x07\x1b[2J\u202e"
    token = Token(
        access_token="a" * 20,
        refresh_token="r" * 20,
        expires_at=1000.0,
        api_base_url=f"https://acme{escapes}.api.gong.io",
        scope=frozenset({f"api:users:read{escapes}"}),
    )
    summary = _summary(Authorization("acme", token, ("api:calls:read:basic",)), 0.0)
    assert not any(raw in summary for raw in ("\x1b", "\x07", "\u202e")), summary
    assert "https://acme\\x1b]0;pwned\\x07\\x1b[2J\\u202e.api.gong.io" in summary
    assert summary.count("\n") == 5


def test_a_localhost_redirect_uri_is_refused_before_anything_listens(tmp_path: Path) -> None:
    """RFC 8252, 8.3: a browser may resolve localhost to ::1 first, where another local user's
    server would receive the start URL and the state. The command refuses, names the fix, and
    opens no port; a listed 127.0.0.1 URI is chosen over a localhost one."""
    port = free_port()
    localhost = f"http://localhost:{port}/callback"
    with FakeGong(redirect_uris=[localhost]) as gong:
        gong.add_customer("acme")
        world = make_world(gong, tmp_path, localhost)
        result = world.run(*world.args("authorize", "--customer", "acme", "--no-browser"))
        assert result.returncode == 2, result.stderr
        assert "names localhost" in result.stderr
        assert "127.0.0.1 in place of localhost" in result.stderr
        assert "Traceback" not in result.stderr
        assert "oauth2/authorize" not in result.stderr  # no URL shown, nothing started
        explicit = world.run(
            *world.args("authorize", "--customer", "acme", "--redirect-uri", localhost)
        )
        assert explicit.returncode == 2
        assert "names localhost" in explicit.stderr
        with socket.create_server(("127.0.0.1", port)):  # the port was never held by authorize
            pass


def test_a_loopback_address_is_preferred_over_a_localhost_redirect_uri(tmp_path: Path) -> None:
    protect_third_party_loggers()  # the test sends the callback (a code in it) through urllib3
    literal = f"http://127.0.0.1:{free_port()}/callback"
    localhost = f"http://localhost:{free_port()}/callback"
    with FakeGong(redirect_uris=[localhost, literal]) as gong:
        gong.add_customer("acme")
        world = make_world(gong, tmp_path, literal)
        text = world.config.read_text().replace(
            f"    - {literal}\n", f"    - {localhost}\n    - {literal}\n"
        )
        world.config.write_text(text)
        process = world.popen(*world.args("authorize", "--customer", "acme", "--no-browser"))
        browser, callback = start_in_browser(gong, shown_start_url(process.stderr))
        assert callback.startswith(literal)
        assert browser.get(callback, timeout=10).status_code == 200
        code, out, err = _finish(process)
        assert code == 0, err
        assert "Authorized customer acme." in out
