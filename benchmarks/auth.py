"""GongAuth's cost per request against the alternatives, side by side in one run.

1. ``auth(prepared_request)`` with a fresh token: GongAuth (memory and SQLite stores) against a
   static-header AuthBase, authlib's OAuth2Auth, requests-oauthlib's OAuth2 and google-auth's
   ``before_request``. Each call works on a fresh copy of one prepared request; the cost of
   the copy alone is measured too and taken off. Rounds are interleaved and the best round is
   reported (timeit's advice: slower rounds measure the machine's other work, not the code).
2. Throughput through a real HTTP round trip to FakeGong at 1, 8 and 32 threads, GongAuth
   sessions against static-header sessions.
3. A refresh storm: 32 threads, the token expired, one refresh: latency of the storm's calls
   against a calm round's.

Usage: ``.venv/bin/python benchmarks/auth.py [--calls 20000] [--rounds 7]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from requests.auth import AuthBase

from gong_authlib import GongAuth, GongOAuthClient, gong_session
from gong_authlib.stores import MemoryTokenStore, SQLiteTokenStore, TokenStore
from gong_authlib.testing import FakeGong
from gong_authlib.token import Token

ORIGIN = "https://us-49467.api.gong.io"
ACCESS = "bench-access-token-" + "x" * 600  # Gong's access tokens are long JWTs


class StaticBearer(AuthBase):
    """The floor: a header that never changes, no expiry, no checks."""

    def __init__(self, token: str) -> None:
        self.header = f"Bearer {token}"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self.header
        return request


class GoogleAuthAdapter(AuthBase):
    """google-auth's credentials applied the way its AuthorizedSession applies them."""

    def __init__(self, credentials: Any) -> None:
        self.credentials = credentials

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        self.credentials.before_request(None, request.method, request.url, request.headers)
        return request


def _token() -> Token:
    now = time.time()
    return Token(
        access_token=ACCESS,
        refresh_token="bench-refresh",
        expires_at=now + 86_400,
        issued_at=now,
        api_base_url=ORIGIN,
        scope=frozenset({"api:users:read"}),
    )


def _gong_auth(store: TokenStore) -> GongAuth:
    store.put("acme", _token())
    auth = GongAuth(GongOAuthClient("bench-id", "bench-secret"), store, "acme")
    auth.token  # noqa: B018 - load the in-memory copy, as the first request would
    return auth


def _anchors() -> dict[str, AuthBase]:
    from authlib.integrations.requests_client import OAuth2Auth
    from google.oauth2.credentials import Credentials
    from requests_oauthlib import OAuth2

    expires_at = int(time.time()) + 86_400
    token = {"access_token": ACCESS, "token_type": "Bearer", "expires_at": expires_at}
    google_expiry = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=1)
    return {
        "authlib OAuth2Auth": OAuth2Auth(token),
        "requests-oauthlib OAuth2": OAuth2(client_id="bench-id", token=token),
        "google-auth Credentials.before_request": GoogleAuthAdapter(
            Credentials(token=ACCESS, expiry=google_expiry)  # type: ignore[no-untyped-call]
        ),
    }


def _time_calls(call: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return time.perf_counter() - start


def per_call_costs(
    calls: int,
    rounds: int,
    folder: Path,
    aggregate: Callable[[list[float]], float] = min,
) -> dict[str, float]:
    template = requests.Request("GET", ORIGIN + "/v2/users?fromDateTime=2026-01-01").prepare()
    candidates: dict[str, AuthBase] = {
        "static header (floor)": StaticBearer(ACCESS),
        "GongAuth, memory store": _gong_auth(MemoryTokenStore()),
        "GongAuth, SQLite store": _gong_auth(SQLiteTokenStore(folder / "bench.db")),
        **_anchors(),
    }
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    copies: list[float] = []
    for _ in range(rounds):
        copies.append(_time_calls(template.copy, calls) / calls)
        for name, auth in candidates.items():

            def one(auth: AuthBase = auth) -> object:
                return auth(template.copy())

            samples[name].append(_time_calls(one, calls) / calls)
    copy_cost = aggregate(copies)
    return {name: aggregate(times) - copy_cost for name, times in samples.items()}


def _authorized(gong: FakeGong, store: TokenStore) -> GongOAuthClient:
    client = gong.oauth_client()
    url, _ = client.authorization_url(["api:users:read"], gong.redirect_uri)
    _, code = client.parse_callback(gong.approve(url), redirect_uri=gong.redirect_uri)
    store.put("acme", client.exchange_code(code, gong.redirect_uri))
    return client  # type: ignore[no-any-return]


def _run_threads(threads: int, work: Callable[[int], None]) -> float:
    barrier = threading.Barrier(threads + 1)

    def run(index: int) -> None:
        barrier.wait()
        work(index)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    start = time.perf_counter()
    barrier.wait()
    for worker in workers:
        worker.join()
    return time.perf_counter() - start


def throughput(
    total: int, thread_counts: tuple[int, ...] = (1, 8, 32)
) -> list[tuple[int, float, float]]:
    rows = []
    with FakeGong() as gong:
        gong.add_customer("acme")
        store = MemoryTokenStore()
        client = _authorized(gong, store)
        token = store.get("acme")
        assert token is not None
        for threads in thread_counts:
            per_thread = total // threads
            gong_sessions = [
                gong_session(client, store, "acme", rate_limit=None) for _ in range(threads)
            ]
            static_sessions = []
            for _ in range(threads):
                session = requests.Session()
                session.auth = StaticBearer(token.access_token)
                static_sessions.append(session)

            def gong_work(
                i: int, sessions: list[Any] = gong_sessions, count: int = per_thread
            ) -> None:
                for _ in range(count):
                    sessions[i].get("/v2/users")

            def static_work(
                i: int, sessions: list[Any] = static_sessions, count: int = per_thread
            ) -> None:
                for _ in range(count):
                    sessions[i].get(token.api_base_url + "/v2/users")

            gong_rate = per_thread * threads / _run_threads(threads, gong_work)
            static_rate = per_thread * threads / _run_threads(threads, static_work)
            rows.append((threads, gong_rate, static_rate))
    return rows


def storm(threads: int = 32, cycles: int = 5) -> tuple[list[float], list[float], int]:
    with FakeGong() as gong, tempfile.TemporaryDirectory() as folder:
        gong.add_customer("acme")
        store = SQLiteTokenStore(Path(folder) / "storm.db")
        client = _authorized(gong, store)
        sessions = [gong_session(client, store, "acme", rate_limit=None) for _ in range(threads)]
        calm: list[float] = []
        stormy: list[float] = []

        def timed(i: int, into: list[float]) -> None:
            start = time.perf_counter()
            sessions[i].get("/v2/users")
            into.append(time.perf_counter() - start)

        for _ in range(cycles):
            _run_threads(threads, lambda i: timed(i, calm))
            gong.clock.advance(86_400)
            _run_threads(threads, lambda i: timed(i, stormy))
        return calm, stormy, gong.stats.refreshes("acme")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=1_600)
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {platform.machine()}, {time.strftime('%Y-%m-%d')}")
    rounds = f"{args.calls} calls, best of {args.rounds} rounds"
    print(f"\n### auth(prepared_request), fresh token ({rounds})\n")
    with tempfile.TemporaryDirectory() as folder:
        costs = per_call_costs(args.calls, args.rounds, Path(folder))
    floor = costs["static header (floor)"]
    print("| auth | ns per call | vs static header |")
    print("|---|---:|---:|")
    for name, cost in costs.items():
        print(f"| {name} | {cost * 1e9:,.0f} | {cost / floor:.2f}x |")
    print(f"\n### Throughput against FakeGong ({args.requests} requests per row)\n")
    print("| threads | GongAuth req/s | static header req/s | ratio |")
    print("|---:|---:|---:|---:|")
    for threads, gong_rate, static_rate in throughput(args.requests):
        print(
            f"| {threads} | {gong_rate:,.0f} | {static_rate:,.0f} | {gong_rate / static_rate:.2f} |"
        )
    calm, stormy, refreshes = storm()
    print("\n### Refresh storm: 32 threads, SQLite store, 5 expiries\n")
    print("| round | p50 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|")
    for name, values in (("calm", calm), ("token expired", stormy)):
        print(
            f"| {name} | {_pct(values, 0.5) * 1e3:.1f} | {_pct(values, 0.99) * 1e3:.1f} "
            f"| {max(values) * 1e3:.1f} |"
        )
    print(f"\ntoken calls during the 5 expiries: {refreshes} (one per expiry is the target)")


if __name__ == "__main__":
    main()
