"""The kill -9 window, measured: from the token request leaving to the store write returning.

A worker killed inside this window has had its refresh token spent by Gong and has not stored
the new pair: that customer must authorize again. Nothing else a kill can hit loses a pair
(the refresh intent and the background writer cover a store that fails instead). Each store
runs ``--refreshes`` faultless refreshes through ``gong_session`` against FakeGong over real
HTTP; the request leaving is timed at the token session's ``send`` and the write returning at
the store's ``settle`` (one round trip). For comparison, the write of issue 26's predecessor
(a lease renewal, then a put: two round trips) is timed on the same store.

Usage: ``.venv/bin/python -m benchmarks.loss_window [--refreshes 300]``
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gong_authlib import gong_session
from gong_authlib.stores import PostgresTokenStore, RedisTokenStore, SQLiteTokenStore, TokenStore
from gong_authlib.testing import FakeGong
from gong_authlib.token import Token, fingerprint
from tests.authflow import authorize_into
from tests.servers import PostgresServer, RedisServer, _postgres_bin, new_folder


@contextmanager
def _stores() -> Iterator[list[tuple[str, TokenStore]]]:
    folder = Path(tempfile.mkdtemp(prefix="gong-authlib-window-"))
    redis_server = RedisServer(shutil.which("redis-server") or "redis-server", new_folder())
    redis_server.start()
    postgres = PostgresServer(_postgres_bin() or "", new_folder())
    postgres.init()
    postgres.start()
    stores: list[tuple[str, TokenStore]] = [
        ("sqlite", SQLiteTokenStore(folder / "tokens.db")),
        ("redis", RedisTokenStore(redis_server.url)),
        ("postgresql", PostgresTokenStore(postgres.dsn())),
    ]
    try:
        yield stores
    finally:
        for _, store in stores:
            store.close()
        redis_server.stop()
        postgres.stop()
        for path in (folder, redis_server.folder, postgres.folder):
            shutil.rmtree(path, ignore_errors=True)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000


def _timed(record: Callable[[], None], call: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = call(*args, **kwargs)
        record()
        return result

    return wrapper


def measure(store: TokenStore, refreshes: int) -> dict[str, tuple[float, float]]:
    """p50/p99 in ms of the window, and of the write alone (settle, then renew + put)."""
    with FakeGong() as gong:
        gong.add_customer("acme")
        authorize_into(gong, store)
        client = gong.oauth_client()
        left: list[float] = []
        windows: list[float] = []
        send = client.session.send

        def leaving(*args: Any, **kwargs: Any) -> Any:
            left.append(time.perf_counter())
            return send(*args, **kwargs)

        client.session.send = leaving
        settle = store.settle
        store.settle = _timed(  # type: ignore[method-assign]
            lambda: windows.append(time.perf_counter() - left[-1]), settle
        )
        session = gong_session(client, store, "acme", rate_limit=None)
        try:
            for _ in range(refreshes):
                gong.clock.advance(86_400)
                assert session.get("/v2/users").status_code == 200
        finally:
            del store.settle
        token = store.get("acme")
        assert token is not None
        settles, renew_puts = _write_times(store, token, refreshes)
        return {
            "window": _percentiles(windows),
            "settle": _percentiles(settles),
            "renew+put": _percentiles(renew_puts),
        }


def _write_times(store: TokenStore, token: Token, count: int) -> tuple[list[float], ...]:
    """The write after Gong answered, both ways, interleaved so load falls on both alike."""
    settles: list[float] = []
    renew_puts: list[float] = []
    spent = fingerprint(token.refresh_token)
    with store.lock("acme") as lease:
        for _ in range(count):
            store.open_intent("acme", _intent(lease.owner, token))
            started = time.perf_counter()
            store.settle("acme", token, spent=spent)
            settles.append(time.perf_counter() - started)
            started = time.perf_counter()
            lease.renew()
            store.put("acme", token)
            renew_puts.append(time.perf_counter() - started)
    return settles, renew_puts


def _intent(owner: str, token: Token) -> Any:
    from gong_authlib.stores.intents import RefreshIntent

    return RefreshIntent(owner, fingerprint(token.refresh_token), time.time() + 60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refreshes", type=int, default=300)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print(f"{args.refreshes} faultless refreshes per store; milliseconds, p50 / p99")
    print(
        "| store | window: request leaving to write returning | write: settle (1 round trip) "
        "| write before: renew + put (2) |"
    )
    print("|---|---|---|---|")
    with _stores() as stores:
        for name, store in stores:
            found = measure(store, args.refreshes)
            cells = [f"{p50:.2f} / {p99:.2f}" for p50, p99 in found.values()]
            print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
