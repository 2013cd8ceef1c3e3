"""FakeGong's control API (issue 22 item 5): a test in another process or language does to a
running `gong-authlib fakegong` what the Python object does, over HTTP or with `fakegong ctl`,
and nobody without the control token does anything. Also: the consent page makes the tester
choose the company."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from gong_authlib.oauth.client import GongOAuthClient
from gong_authlib.redaction import protect_third_party_loggers
from gong_authlib.testing import FakeGong
from gong_authlib.testing.control import control_reply
from gong_authlib.token import Token
from tests.helpers import run_cli
from tests.test_fakegong import _token
from tests.test_fakegong_command import REDIRECT, fakegong, two_companies_approved

CONTROL_TOKEN = "control-" + "x" * 40


@dataclass
class Running:
    info: dict[str, Any]
    token_file: Path
    secret: str

    def client(self) -> GongOAuthClient:
        return GongOAuthClient(
            self.info["client_id"],
            self.secret,
            authorize_url=self.info["authorize_url"],
            token_url=self.info["token_url"],
            trusted_api_origins=self.info["customers"].values(),
            backoff_factor=0,
        )

    def token(self, customer: str = "acme") -> Token:
        client = self.client()
        url, _ = client.authorization_url(
            ["api:users:read"], REDIRECT, extra_params={"login_hint": customer}
        )
        callback = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]
        _, code = client.parse_callback(callback, redirect_uri=REDIRECT)
        return client.exchange_code(code, REDIRECT, customer=customer)

    def ctl(self, *args: str, token_file: Path | None = None) -> tuple[int, Any, str]:
        done = run_cli(
            "fakegong",
            "ctl",
            *args,
            "--token-file",
            str(token_file or self.token_file),
            env={"FAKEGONG_CONTROL_URL": self.info["control_url"]},
        )
        assert "Traceback" not in done.stderr
        output = json.loads(done.stdout) if done.stdout.strip() else None
        return done.returncode, output, done.stderr

    def token_endpoint(self, secret: str, **request: Any) -> requests.Response:
        pair = f"{self.info['client_id']}:{secret}".encode()
        headers = {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        return requests.post(self.info["token_url"], headers=headers, timeout=10, **request)

    def post(self, action: str, body: object, token: str | None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return requests.post(
            f"{self.info['control_url']}/{action}", json=body, headers=headers, timeout=10
        )


def _users(token: Token) -> int:
    return requests.get(
        token.api_base_url + "/v2/users",
        headers={"Authorization": f"Bearer {token.access_token}"},
        timeout=10,
    ).status_code


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    protect_third_party_loggers()
    token_file = tmp_path_factory.mktemp("control") / "token"
    with fakegong(
        *two_companies_approved(),
        "--strict-query",
        "--control-token-file",
        str(token_file),
    ) as info:
        assert token_file.read_text().strip() == info["control_token"]
        assert token_file.stat().st_mode & 0o777 == 0o600
        yield Running(info, token_file, info["client_secret"])


def test_without_the_right_token_nothing_is_done(running: Running, tmp_path: Path) -> None:
    token = running.token("globex")
    missing = running.post("revoke", {"customer": "globex"}, token=None)
    assert (missing.status_code, missing.headers["WWW-Authenticate"]) == (401, "Bearer")
    wrong = running.post("revoke", {"customer": "globex"}, token=CONTROL_TOKEN)
    assert wrong.status_code == 403
    assert "unknown" not in wrong.text  # nothing about actions before the token is right
    forged = tmp_path / "forged"
    forged.write_text(CONTROL_TOKEN)
    code, output, err = running.ctl("revoke", "--arg", "customer=globex", token_file=forged)
    assert (code, output) == (1, None)
    assert "control token is wrong" in err
    assert CONTROL_TOKEN not in err
    assert _users(token) == 200  # still not revoked
    stats = running.post("stats", {}, token=running.info["control_token"]).json()["result"]
    assert stats["token_calls"]["globex"]["authorization_code"] >= 1


def test_revoke_and_end_tokens_act_as_the_python_object_does(running: Running) -> None:
    revoked, ended = running.token("acme"), running.token("globex")
    assert running.ctl("revoke", "--arg", "customer=acme")[0] == 0
    assert _users(revoked) == 401
    with pytest.raises(Exception, match="expired or revoked"):
        running.client().refresh(revoked, customer="acme")
    over_http = running.post("end-tokens", {"customer": "globex"}, running.info["control_token"])
    assert over_http.json() == {"action": "end-tokens", "result": None}
    assert _users(ended) == 401
    assert _users(running.client().refresh(ended, customer="globex")) == 200


def test_faults_records_and_the_clock(running: Running) -> None:
    token = running.token("globex")
    code, _, _ = running.ctl(
        "inject", "--arg", "target=api", "--arg", "kind=status", "--arg", "status=503"
    )
    assert code == 0
    assert _users(token) == 503
    assert _users(token) == 200
    assert running.ctl("set-records", "--arg", "customer=globex", "--arg", "users=7")[0] == 0
    users = requests.get(
        token.api_base_url + "/v2/users",
        headers={"Authorization": f"Bearer {token.access_token}"},
        timeout=10,
    )
    assert users.json()["records"]["totalRecords"] == 7
    code, moved, _ = running.ctl("advance-clock", "--arg", "seconds=86400")
    assert code == 0
    assert moved["now"] > token.expires_at
    assert _users(token) == 401
    code, _, err = running.ctl("set-records", "--arg", "customer=nobody", "--arg", "users=1")
    assert (code, "unknown customer 'nobody'" in err) == (2, True)
    code, _, err = running.ctl("set-records", "--arg", "customer=acme", "--arg", "users=-1")
    assert (code, "users must be 0 or more" in err) == (2, True)
    assert running.ctl("no-such-action")[0] == 2


def test_rotate_secret_returns_the_new_secret_and_ends_the_old_one(running: Running) -> None:
    old = running.secret
    code, answer, err = running.ctl("rotate-secret", "--arg", "grace_hours=0")
    assert code == 0
    running.secret = answer["client_secret"]
    assert running.secret != old
    assert running.secret not in err
    assert running.token("acme").access_token  # the new secret works
    refused = running.token_endpoint(
        old, params={"grant_type": "refresh_token", "refresh_token": "x"}
    )
    assert refused.status_code == 401


def test_the_standalone_server_can_be_strict_about_the_query(running: Running) -> None:
    form = running.token_endpoint(
        running.secret, data={"grant_type": "refresh_token", "refresh_token": "x"}
    )
    assert "query string" in form.json()["error_description"]


def test_ctl_needs_a_url_and_a_token(tmp_path: Path) -> None:
    done = run_cli("fakegong", "ctl", "stats", env={"FAKEGONG_CONTROL_URL": ""})
    assert done.returncode == 2
    assert "FAKEGONG_CONTROL_URL" in done.stderr
    done = run_cli("fakegong", "ctl", "stats", "--url", "http://127.0.0.1:1/_fakegong")
    assert done.returncode == 2
    assert "FAKEGONG_CONTROL_TOKEN" in done.stderr
    done = run_cli("fakegong", "ctl", "stats", "--arg", "novalue")
    assert (done.returncode, "NAME=VALUE" in done.stderr) == (2, True)


def test_control_is_off_unless_a_token_is_given_and_serves_loopback_only() -> None:
    with FakeGong() as gong:
        gong.add_customer("acme")
        assert requests.post(gong.control_url + "/stats", timeout=5).status_code == 404
        gong.control_token = CONTROL_TOKEN
        authorization = f"Bearer {CONTROL_TOKEN}"

        def call(
            peer: str,
            method: str = "POST",
            path: str = "/_fakegong/revoke",
            body: bytes = b'{"customer": "acme"}',
        ) -> int:
            reply = control_reply(
                gong,
                CONTROL_TOKEN,
                peer=peer,
                method=method,
                path=path,
                authorization=authorization,
                body=body,
            )
            return reply.status

        token = _token(gong, "acme")
        assert call("192.0.2.7") == 403
        assert call("::1", method="GET") == 405
        assert call("127.0.0.1", path="/_fakegong/nothing") == 404
        assert _users(token) == 200
        assert call("127.0.0.1") == 200
        assert _users(token) == 401
        for seconds in (b"-1", b'"Infinity"', b'"ten"'):
            assert (
                call(
                    "127.0.0.1", path="/_fakegong/advance-clock", body=b'{"seconds": %s}' % seconds
                )
                == 400
            )
    with pytest.raises(ValueError, match="at least 16"):
        FakeGong(control_token="guessable")


def _consent(gong: FakeGong, **extra: str) -> tuple[str, dict[str, str]]:
    client = gong.oauth_client()
    url, _ = client.authorization_url(["api:users:read"], gong.redirect_uri, extra_params=extra)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    return requests.get(url, timeout=5).text, query


def test_consent_page_makes_the_tester_choose_the_company() -> None:
    with FakeGong(auto_approve=False) as gong:
        gong.add_customer("acme")
        gong.add_customer("globex")
        page, query = _consent(gong)
        assert '<option value="" selected disabled>Choose a company</option>' in page
        assert '<option value="acme">' in page  # the first company is not preselected
        unchosen = requests.post(
            gong.authorize_url,
            data={**query, "decision": "approve"},
            allow_redirects=False,
            timeout=5,
        )
        assert unchosen.status_code == 400
        assert "Location" not in unchosen.headers
        assert "Choose a company before approving." in unchosen.text
        assert 'name="state"' in unchosen.text  # the form again, to choose and approve
        chosen = requests.post(
            gong.authorize_url,
            data={**query, "decision": "approve", "company": "globex"},
            allow_redirects=False,
            timeout=5,
        )
        assert chosen.status_code == 302
        hinted, _ = _consent(gong, login_hint="globex")
        assert '<option value="globex" selected>' in hinted
        assert '<option value="" disabled>' in hinted
