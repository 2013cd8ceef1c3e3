"""Idle connections cannot starve the loopback ``authorize`` server.

The review's attack: another local user opens a thousand connections to the callback port
and sends nothing. Each one held a thread and a descriptor until the process ran out, the
real browser's callback timed out, and nothing said another user was there (the user check
ran only after a whole request). Now the owner of each connection is checked as it is
accepted, before a byte is read; the connections the server does serve are capped and time
out when idle.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from gong_authlib.errors import OAuthError
from gong_authlib.loopback.authorize import authorize_customer
from gong_authlib.loopback.server import MAX_CONNECTIONS, LoopbackCallbackServer
from gong_authlib.redaction import protect_third_party_loggers
from gong_authlib.stores import MemoryTokenStore
from gong_authlib.testing import FakeGong
from tests.cliflow import free_port
from tests.unprivileged import as_nobody

STATE = "s" * 43
NONCE = "n" * 43
GONG = "http://127.0.0.1:9/oauth2/authorize?state=" + STATE
IDLE = 300  # bounded: enough to have starved the old server's threads, fast to open


def _needs_proc() -> None:
    if not Path("/proc/net/tcp").exists():
        pytest.skip("no /proc/net/tcp: which user opened a connection is unknown here")


def _open_idle(port: int, count: int) -> list[socket.socket]:
    # The timeout bounds each read: a server that never answers fails the test, not hangs it.
    return [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]


def _until_closed(connections: list[socket.socket]) -> int:
    """Read each connection to its end (the server closed it); how many sent a page first."""
    paged = 0
    for connection in connections:
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
        paged += received.startswith(b"HTTP/1.0 403")
        connection.close()
    return paged


@contextmanager
def idle_as_another_user(port: int, count: int) -> Iterator[None]:
    """``count`` connections opened by the nobody user, held open (sending nothing) until the
    block ends."""
    ready_r, ready_w = os.pipe()
    done_r, done_w = os.pipe()

    def hold() -> int:
        try:
            held = _open_idle(port, count)
            for connection in held:  # each answered or closed: the server has seen them all
                while connection.recv(65536):
                    pass
        finally:
            os.write(ready_w, b"r")
        os.read(done_r, 1)
        for connection in held:
            connection.close()
        return len(held)

    outcome: list[object] = []
    child = threading.Thread(target=lambda: outcome.append(_caught(lambda: as_nobody(hold))))
    child.start()
    try:
        assert os.read(ready_r, 1) == b"r"
        yield
    finally:
        os.write(done_w, b"d")
        child.join(30)
        for fd in (ready_r, ready_w, done_r, done_w):
            os.close(fd)
    assert outcome == [count], outcome


def _caught(work: Callable[[], object]) -> object:
    try:
        return work()
    except BaseException as exc:  # reported by the assertion in the parent
        return exc


def _browser_callback(server: LoopbackCallbackServer, redirect: str) -> int:
    """The status the starting browser's callback gets (its state, its cookie)."""
    cookie = {f"gong_authlib_cli_{server.port}": NONCE}
    return requests.get(f"{redirect}?state={STATE}&code=c1", cookies=cookie, timeout=5).status_code


def _timed_out(port: int, open_url: Callable[[str], None]) -> str:
    """The message of an ``authorize_customer`` on ``port`` that stops waiting at once, after
    ``open_url`` (given the start URL) ran."""
    redirect = f"http://127.0.0.1:{port}/callback"
    with FakeGong(redirect_uris=[redirect]) as gong:
        gong.add_customer("acme")
        with pytest.raises(OAuthError) as raised:
            authorize_customer(
                gong.oauth_client(),
                MemoryTokenStore(),
                "acme",
                scopes=("api:users:read",),
                redirect_uri=redirect,
                open_url=open_url,
                timeout=0,
            )
    return str(raised.value)


def test_another_users_idle_connections_do_not_stop_the_browsers_callback() -> None:
    protect_third_party_loggers()
    _needs_proc()
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    server = LoopbackCallbackServer(
        redirect, lambda params: (True, "connected"), state=STATE, authorize_url=GONG, nonce=NONCE
    )
    server.start()
    threads_before = threading.active_count()
    try:
        with idle_as_another_user(server.port, IDLE):
            # Each was turned away as it was accepted: no thread waits on any of them.
            assert threading.active_count() < threads_before + 10
            assert server.other_users == IDLE
            start = requests.get(server.start_url, allow_redirects=False, timeout=5)
            assert start.status_code == 302
            assert _browser_callback(server, redirect) == 200
    finally:
        outcome = server.wait(5)
    assert outcome == (True, "connected")


def test_the_timeout_message_names_the_other_users_connections() -> None:
    protect_third_party_loggers()
    _needs_proc()
    port = free_port()

    def another_user_connects(start_url: str) -> None:
        def connect_and_wait() -> int:
            return _until_closed(_open_idle(port, 40))

        assert as_nobody(connect_and_wait) >= 1  # told why (the rest may be closed unread)

    message = _timed_out(port, another_user_connects)
    assert "40 connections from another local user's programs turned away" in message


def test_connections_served_at_once_are_capped_and_time_out_when_idle() -> None:
    protect_third_party_loggers()
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    server = LoopbackCallbackServer(
        redirect,
        lambda params: (True, "connected"),
        state=STATE,
        authorize_url=GONG,
        nonce=NONCE,
        max_connections=8,
        idle_timeout=1.0,
    )
    server.start()
    try:
        idle = _open_idle(server.port, 20)  # this user's own: served, but no more than 8
        assert _until_closed(idle) == 0  # over the cap: closed; the others: idle, timed out
        assert server.over_capacity == 12
        assert _browser_callback(server, redirect) == 200
    finally:
        outcome = server.wait(5)
    assert outcome == (True, "connected")


def test_the_timeout_message_names_connections_closed_over_the_cap() -> None:
    """Where the owner of a connection is unknown (or it is this user's), idle connections
    can fill the slots: the message then says so."""
    protect_third_party_loggers()
    port = free_port()
    held: list[socket.socket] = []

    def fill_the_slots(start_url: str) -> None:
        held.extend(_open_idle(port, MAX_CONNECTIONS + 3))
        _until_closed(held[MAX_CONNECTIONS:])  # the three over the cap: closed unread

    try:
        message = _timed_out(port, fill_the_slots)
    finally:
        for connection in held[:MAX_CONNECTIONS]:
            connection.close()
    assert "3 connections were closed unread because too many were open at once" in message
