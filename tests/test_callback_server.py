"""The loopback callback server: waits for its own state, ignores the rest, handles once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from gong_authlib.callback import LoopbackCallbackServer
from gong_authlib.redaction import protect_third_party_loggers
from tests.cliflow import free_port

STATE = "s" * 43


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

    server = LoopbackCallbackServer(redirect, handle, state=STATE)
    server.start()
    try:
        for forged in ("?state=other&code=x", "?code=x", f"?state={STATE}&state=other", ""):
            assert requests.get(redirect + forged, timeout=10).status_code == 400
        assert not server.done.is_set()
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(requests.get, f"{redirect}?state={STATE}&code=c1", timeout=10)
            assert entered.wait(10)  # the first callback holds the flow
            second = requests.get(f"{redirect}?state={STATE}&code=c2", timeout=10)
            release.set()
            assert first.result().status_code == 200
        assert second.status_code == 409
        assert "already been handled" in second.text
    finally:
        release.set()
        outcome = server.wait(5)
    assert outcome == (True, "connected")
    assert [p["code"] for p in handled] == [["c1"]]
    assert server.ignored == 4


def test_a_callback_arriving_as_the_wait_times_out_is_turned_away_not_half_handled() -> None:
    # Once wait() has decided "no callback", the flow is over: a callback slipping in before
    # the server stops must not start an exchange the command line will not report.
    protect_third_party_loggers()
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    handled: list[dict[str, list[str]]] = []

    def handle(params: dict[str, list[str]]) -> tuple[bool, str]:
        handled.append(params)
        return True, "connected"

    server = LoopbackCallbackServer(redirect, handle, state=STATE)
    late: list[int] = []
    stop = server._server.shutdown

    def shutdown_after_a_late_callback() -> None:
        late.append(requests.get(f"{redirect}?state={STATE}&code=c1", timeout=10).status_code)
        stop()

    server._server.shutdown = shutdown_after_a_late_callback  # type: ignore[method-assign]
    server.start()
    assert server.wait(0) is None
    assert (late, handled) == ([409], [])
