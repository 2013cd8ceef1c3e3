"""Test-session settings: hypothesis profiles (HYPOTHESIS_PROFILE=slow for the long run) and
the throwaway Redis and PostgreSQL servers."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

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
