"""Test-session settings: hypothesis profiles (HYPOTHESIS_PROFILE=slow for the long run), the
throwaway Redis and PostgreSQL servers, which tests run serially, and a Ctrl-C that works.

Under pytest-xdist (``.ci/run`` runs ``-n 2 -m "not serial"``, then ``-m serial``) every
session fixture is per worker: each worker starts its own servers on free ports; every test
keeps its files under its own ``tmp_path``."""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.reliability import Reliability
from tests.servers import PostgresServer, RedisServer, _postgres_bin, new_folder
from tests.services import require_programs

settings.register_profile("default", max_examples=150, deadline=None)
settings.register_profile(
    "slow",
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# What FakeGong's secrets look like (its refresh tokens, codes and client secrets, and the
# JWT access tokens it issues), plus any secret-carrying query parameter left unredacted.
SECRET_LOOKING = [
    re.compile(r"gongfake-(rt|code)-[A-Za-z0-9_-]{8,}"),
    re.compile(r"fakegong-secret-[A-Za-z0-9_-]{8,}"),
    re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    re.compile(
        r"\b(code|refresh_token|access_token|client_secret)=(?!<redacted>|SCRUBBED-)[^&\s\"']{8,}"
    ),
    re.compile(r"\bBearer (?!<redacted>|SCRUBBED-)[A-Za-z0-9._-]{16,}"),
    # Basic credentials: an app's client ID and secret, or a company API key and its secret.
    re.compile(r"\bBasic (?!<redacted>|SCRUBBED-)[A-Za-z0-9+/=]{16,}"),
    # A password in a store URL's user info or in a libpq DSN.
    re.compile(r"://[^:/@\s]*:(?!<redacted>)[^@\s/]+@"),
    re.compile(r"\bpassword\s*=\s*(?!<redacted>)[^\s&\"']+"),
    re.compile(r"hunter2"),
]


class _LogSpy(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name}: {record.getMessage()}")


@pytest.fixture(autouse=True)
def no_secret_in_any_log() -> Iterator[None]:
    """Every test runs with every logger at DEBUG; any secret-looking line fails the test."""
    spy = _LogSpy()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(spy)
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(spy)
        root.setLevel(previous)
    leaks = [line for line in spy.lines if any(p.search(line) for p in SECRET_LOOKING)]
    assert leaks == [], f"secrets in log records: {leaks[:3]}"


_RELIABILITY = Reliability()


@pytest.fixture
def reliability() -> Reliability:
    """Where reliability tests record their figures for docs/reliability.md."""
    return _RELIABILITY


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    target = os.environ.get("GONG_AUTHLIB_RELIABILITY_DOC")
    # An xdist worker holds only its share of the rows: the page is written by a serial run.
    in_worker = hasattr(session.config, "workerinput")
    if target and _RELIABILITY.rows and exitstatus == 0 and not in_worker:
        command = os.environ.get("GONG_AUTHLIB_RELIABILITY_COMMAND", "pytest -m reliability")
        _RELIABILITY.write(Path(target), command)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    binary = require_programs("redis-server")["redis-server"]
    folder = new_folder()
    server = RedisServer(binary, folder)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir = _postgres_bin()
    if bindir is None:
        require_programs("initdb")  # skips, or fails under GONG_AUTHLIB_REQUIRE_SERVICES=1
    assert bindir is not None
    folder = new_folder()
    server = PostgresServer(bindir, folder)
    server.init()
    server.start()
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


# Tests that measure concurrency or real time: process storms, lease timing, pacing against
# FakeGong's real-time limit, the event loop's ticker, store outages, kill -9 trials. .ci/run
# gives them a pytest call of their own, without -n, so that no other test competes with them
# for the two cores. A node id prefix names a whole file or every parametrization of a test;
# a test may also carry @pytest.mark.serial itself.
SERIAL = (
    "tests/test_storms.py",
    "tests/test_fleet.py",
    "tests/test_httpx_pacing.py",
    "tests/test_store_outages.py",
    "tests/test_token_faults.py",
    "tests/test_kill_trial.py",
    "tests/test_refresh_intents.py",
    "tests/test_httpx_auth.py::test_async_process_storm_refreshes_once_per_expiry",
    "tests/test_httpx_auth.py::test_the_loop_keeps_ticking_during_a_one_second_refresh",
    "tests/test_access_key.py::test_three_threads_over_one_sqlite_store_stay_within",
    "tests/test_access_key.py::test_sessions_without_a_store_share_this_processs_budget",
)


# Marked as each test is collected, before -m reads the marks.
def pytest_itemcollected(item: pytest.Item) -> None:
    if item.nodeid.startswith(SERIAL):
        item.add_marker(pytest.mark.serial)


def pytest_configure(config: pytest.Config) -> None:
    # A shell without job control starts a background command (`pytest &`, `nohup pytest &`,
    # CI scripts) with SIGINT ignored, and every process pytest starts inherits that; a Python
    # started with SIGINT ignored installs no KeyboardInterrupt handler, so the tests that
    # press Ctrl-C on a CLI process (test_ctrl_c_exits_130) would wait out its timeout.
    # Children get the default back when pytest (and its xdist workers) catch SIGINT again.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
