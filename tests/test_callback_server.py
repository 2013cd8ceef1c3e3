"""The loopback callback server: waits for its own state and the starting browser's cookie,
ignores the rest, handles once."""

from __future__ import annotations

import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from gong_authlib.loopback.peers import loopback_peer_uid
from gong_authlib.loopback.server import CallbackHandler, LoopbackCallbackServer
from gong_authlib.redaction import protect_third_party_loggers
from tests.cliflow import free_port
from tests.unprivileged import as_nobody

STATE = "s" * 43
NONCE = "n" * 43
GONG = "http://127.0.0.1:9/oauth2/authorize?state=" + STATE


def _server(redirect: str, handle: CallbackHandler) -> LoopbackCallbackServer:
    return LoopbackCallbackServer(redirect, handle, state=STATE, authorize_url=GONG, nonce=NONCE)


def _cookie(redirect: str, nonce: str = NONCE) -> dict[str, str]:
    return {f"gong_authlib_cli_{urlsplit(redirect).port}": nonce}


def test_only_the_flows_state_is_handled_and_only_once() -> None:
    protect_third_party_loggers()
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    release, entered = threading.Event(), threading.Event()
    handled: list[dict[str, list[str]]] = []

    def handle(params: dict[str, list[str]]) -> tuple[bool, str]:
        handled.append(params)
        entered.set()
        release.wait(10)  # hold the flow while a second, racing callback arrives
        return True, "connected"

    server = _server(redirect, handle)
    server.start()
    cookie = _cookie(redirect)
    try:
        for forged in ("?state=other&code=x", "?code=x", f"?state={STATE}&state=other", ""):
            assert requests.get(redirect + forged, cookies=cookie, timeout=10).status_code == 400
        # The right state from anyone but the starting browser: no cookie, or another nonce.
        for other in ({}, _cookie(redirect, "m" * 43), _cookie(redirect, "short")):
            forged = f"{redirect}?state={STATE}&error=access_denied"
            assert requests.get(forged, cookies=other, timeout=10).status_code == 400
        assert not server.done.is_set()
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(
                requests.get, f"{redirect}?state={STATE}&code=c1", cookies=cookie, timeout=10
            )
            assert entered.wait(10)  # the first callback holds the flow
            second = requests.get(f"{redirect}?state={STATE}&code=c2", cookies=cookie, timeout=10)
            release.set()
            assert first.result().status_code == 200
        assert second.status_code == 409
        assert "already been handled" in second.text
    finally:
        release.set()
        outcome = server.wait(5)
    assert outcome == (True, "connected")
    assert [p["code"] for p in handled] == [["c1"]]
    assert server.ignored == 7


def test_a_callback_arriving_as_the_wait_times_out_is_turned_away_not_half_handled() -> None:
    # Once wait() has decided "no callback", the flow is over: a callback slipping in before
    # the server stops must not start an exchange the command line will not report.
    protect_third_party_loggers()
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    handled: list[dict[str, list[str]]] = []

    def handle(params: dict[str, list[str]]) -> tuple[bool, str]:
        handled.append(params)
        return True, "connected"

    server = _server(redirect, handle)
    late: list[int] = []
    stop = server._server.shutdown

    def shutdown_after_a_late_callback() -> None:
        callback = f"{redirect}?state={STATE}&code=c1"
        late.append(requests.get(callback, cookies=_cookie(redirect), timeout=10).status_code)
        stop()

    server._server.shutdown = shutdown_after_a_late_callback  # type: ignore[method-assign]
    server.start()
    assert server.wait(0) is None
    assert (late, handled) == ([409], [])


def test_a_planted_cookie_of_the_same_name_does_not_hide_the_browsers_own() -> None:
    # Cookies ignore ports: a page on another loopback port can set one of the same name.
    protect_third_party_loggers()
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    server = _server(redirect, lambda params: (True, "connected"))
    name = next(iter(_cookie(redirect)))
    server.start()
    try:
        headers = {"Cookie": f"{name}={'m' * 43}; other=1; {name}={NONCE}"}
        page = requests.get(f"{redirect}?state={STATE}&code=c1", headers=headers, timeout=10)
    finally:
        outcome = server.wait(5)
    assert page.status_code == 200
    assert outcome == (True, "connected")
    assert server.ignored == 0


def test_another_local_users_programs_are_turned_away_even_with_the_state_and_cookie() -> None:
    # They can read the start URL on the browser's command line and race the browser to it.
    protect_third_party_loggers()
    if not Path("/proc/net/tcp").exists():
        pytest.skip("no /proc/net/tcp: which user opened a connection is unknown here")
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    server = _server(redirect, lambda params: (True, "connected"))
    server.start()
    callback = f"{redirect}?state={STATE}&code=c1"
    try:

        def as_another_user() -> tuple[int, int, str]:
            start = requests.get(server.start_url, allow_redirects=False, timeout=10)
            finish = requests.get(callback, cookies=_cookie(redirect), timeout=10)
            return start.status_code, finish.status_code, finish.text

        start, finish, page = as_nobody(as_another_user)
        assert (start, finish) == (403, 403)
        assert "another user" in page
        assert not server.done.is_set()
        # The start URL was not used up by the refused visit, and the flow still finishes.
        mine = requests.get(server.start_url, allow_redirects=False, timeout=10)
        assert mine.status_code == 302
        assert requests.get(callback, cookies=_cookie(redirect), timeout=10).status_code == 200
    finally:
        outcome = server.wait(5)
    assert outcome == (True, "connected")
    assert (server.other_users, server.ignored, server.refused_starts) == (2, 0, 0)


def test_the_kernel_names_this_process_as_the_owner_of_its_own_connection() -> None:
    if not Path("/proc/net/tcp").exists():
        pytest.skip("no /proc/net/tcp here")
    with (
        socket.create_server(("127.0.0.1", 0)) as listener,
        socket.create_connection(listener.getsockname()) as client,
        listener.accept()[0],
    ):
        assert (
            loopback_peer_uid(socket.AF_INET, client.getsockname(), listener.getsockname())
            == os.geteuid()
        )
        # A pair no connection has: unknown, not a guess.
        assert loopback_peer_uid(socket.AF_INET, listener.getsockname(), ("127.0.0.1", 9)) is None
