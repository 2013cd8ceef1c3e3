"""GongHttpxAuth's cost per request against a static-header httpx.Auth and authlib's httpx
OAuth2Auth, sync and async, side by side in one run.

1. The auth flow itself, with a fresh token: each call drives the flow as httpx's client does
   (first request out, the answer sent back in, the flow ends), so network and connection
   pooling cannot drown the figures.
2. Whole requests through ``httpx.Client`` / ``httpx.AsyncClient`` over a ``MockTransport``
   that answers at once: what the auth adds to everything else httpx does per request.

Rounds are interleaved and the best round is reported (slower rounds measure the machine's
other work, not the code).

Usage: ``.venv/bin/python -m benchmarks.httpx_auth [--calls 20000] [--rounds 15]``
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import time
import warnings
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any

import httpx

from gong_authlib import GongHttpxAuth, GongOAuthClient
from gong_authlib.stores import MemoryTokenStore
from gong_authlib.token import Token
from gong_authlib.tokens.customer_token import Current

ORIGIN = "https://us-49467.api.gong.io"
ACCESS = "bench-access-token-" + "x" * 600  # Gong's access tokens are long JWTs
URL = ORIGIN + "/v2/users?fromDateTime=2026-01-01"


class StaticBearer(httpx.Auth):
    """The floor: a header that never changes, no expiry, no checks, no 401 handling."""

    def __init__(self, token: str) -> None:
        self.header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self.header
        yield request


class StaticBearerFlows(httpx.Auth):
    """The tightest floor: a static header with sync and async flows written out, as
    GongHttpxAuth's are (httpx's default flows wrap ``auth_flow`` in a second generator)."""

    def __init__(self, token: str) -> None:
        self.header = f"Bearer {token}"

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self.header
        yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        request.headers["Authorization"] = self.header
        yield request


def _gong_auth() -> GongHttpxAuth:
    now = time.time()
    store = MemoryTokenStore()
    store.put(
        "acme",
        Token(
            access_token=ACCESS,
            refresh_token="bench-refresh",
            expires_at=now + 86_400,
            issued_at=now,
            api_base_url=ORIGIN,
            scope=frozenset({"api:users:read"}),
        ),
    )
    auth = GongHttpxAuth(GongOAuthClient("bench-id", "bench-secret"), store, "acme")
    auth.token  # noqa: B018 - load the in-memory copy, as the first request would
    return auth


def candidates() -> dict[str, httpx.Auth]:
    with warnings.catch_warnings():  # authlib's notice about its httpx2 plans, not our business
        warnings.simplefilter("ignore")
        from authlib.integrations.httpx_client import OAuth2Auth

    token = {
        "access_token": ACCESS,
        "token_type": "Bearer",
        "expires_at": int(time.time()) + 86_400,
    }
    return {
        "static header (floor)": StaticBearer(ACCESS),
        "static header, flows written out": StaticBearerFlows(ACCESS),
        "GongHttpxAuth, memory store": _gong_auth(),
        "authlib httpx OAuth2Auth": OAuth2Auth(token),
    }


def _drive_sync(auth: httpx.Auth, request: httpx.Request, response: httpx.Response) -> None:
    flow = auth.sync_auth_flow(request)
    next(flow)
    try:
        flow.send(response)
    except StopIteration:
        return
    raise AssertionError("the flow asked for a second request")


async def _drive_async(auth: httpx.Auth, request: httpx.Request, response: httpx.Response) -> None:
    flow: AsyncGenerator[httpx.Request, httpx.Response] = auth.async_auth_flow(request)
    await flow.__anext__()
    try:
        await flow.asend(response)
    except StopAsyncIteration:
        return
    raise AssertionError("the flow asked for a second request")


def _timed_sync(call: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls


async def _timed_async(call: Callable[[], Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        await call()
    return (time.perf_counter() - start) / calls


Costs = dict[str, dict[str, float]]  # mode -> candidate -> seconds per call


def flow_costs(calls: int, rounds: int, aggregate: Callable[[list[float]], float] = min) -> Costs:
    """Seconds per auth flow, sync and async, for each candidate."""
    auths = candidates()
    request = httpx.Request("GET", URL)
    response = httpx.Response(200, request=request)
    samples: dict[str, dict[str, list[float]]] = {
        "sync": {name: [] for name in auths},
        "async": {name: [] for name in auths},
    }

    async def async_round() -> None:
        for name, auth in auths.items():

            def one(auth: httpx.Auth = auth) -> Any:
                return _drive_async(auth, request, response)

            samples["async"][name].append(await _timed_async(one, calls))

    for _ in range(rounds):
        for name, auth in auths.items():

            def once(auth: httpx.Auth = auth) -> None:
                _drive_sync(auth, request, response)

            samples["sync"][name].append(_timed_sync(once, calls))
        asyncio.run(async_round())
    return {
        mode: {name: aggregate(times) for name, times in by_name.items()}
        for mode, by_name in samples.items()
    }


def request_costs(
    calls: int, rounds: int, aggregate: Callable[[list[float]], float] = min
) -> Costs:
    """Seconds per whole request through httpx clients over an instant MockTransport."""
    auths = candidates()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"users": []})

    transport = httpx.MockTransport(answer)
    sync_clients = {name: httpx.Client(auth=a, transport=transport) for name, a in auths.items()}
    samples: dict[str, dict[str, list[float]]] = {
        "sync": {name: [] for name in auths},
        "async": {name: [] for name in auths},
    }

    async def async_round() -> None:
        for name, auth in auths.items():
            async with httpx.AsyncClient(auth=auth, transport=transport) as client:

                def one(client: httpx.AsyncClient = client) -> Any:
                    return client.get(URL)

                samples["async"][name].append(await _timed_async(one, calls))

    for _ in range(rounds):
        for name, client in sync_clients.items():

            def once(client: httpx.Client = client) -> object:
                return client.get(URL)

            samples["sync"][name].append(_timed_sync(once, calls))
        asyncio.run(async_round())
    for client in sync_clients.values():
        client.close()
    return {
        mode: {name: aggregate(times) for name, times in by_name.items()}
        for mode, by_name in samples.items()
    }


class InlineRefreshAuth(GongHttpxAuth):
    """The naive adapter, for contrast: the stale path runs on the event loop itself."""

    async def _stale_async(self) -> Current:
        return self.customer_token.fresh()


def loop_stall(tasks: int = 50, refresh_seconds: float = 1.0) -> dict[str, tuple[float, int]]:
    """Longest gap of a 20 ms ticker while ``tasks`` requests wait out a slow refresh, and
    the token calls made, for GongHttpxAuth and for the naive inline adapter."""
    from gong_authlib.testing import FakeGong
    from gong_authlib.transport.httpx.client import GongAsyncClient

    results = {}
    for name, kind in (
        ("GongHttpxAuth", GongHttpxAuth),
        ("refresh on the loop", InlineRefreshAuth),
    ):
        with FakeGong() as gong:
            gong.add_customer("acme")
            store = MemoryTokenStore()
            oauth = gong.oauth_client()
            url, _ = oauth.authorization_url(["api:users:read"], gong.redirect_uri)
            _, code = oauth.parse_callback(gong.approve(url), redirect_uri=gong.redirect_uri)
            store.put("acme", oauth.exchange_code(code, gong.redirect_uri))
            gong.inject("token", "delay", seconds=refresh_seconds)
            gaps: list[float] = []

            async def ticker(stop: asyncio.Event, gaps: list[float] = gaps) -> None:
                last = time.perf_counter()
                while not stop.is_set():
                    await asyncio.sleep(0.02)
                    now = time.perf_counter()
                    gaps.append(now - last)
                    last = now

            async def main(
                kind: type[GongHttpxAuth] = kind,
                gong: FakeGong = gong,
                store: MemoryTokenStore = store,
            ) -> None:
                # Built first: httpx loads its TLS context here, a pause of its own.
                client = GongAsyncClient(kind(gong.oauth_client(), store, "acme"))
                stop = asyncio.Event()
                ticking = asyncio.create_task(ticker(stop))
                await asyncio.sleep(0.05)
                async with client:
                    gong.clock.advance(86_400)
                    answers = await asyncio.gather(*(client.get("/v2/users") for _ in range(tasks)))
                assert {a.status_code for a in answers} == {200}
                stop.set()
                await ticking

            asyncio.run(main())
            results[name] = (max(gaps), gong.stats.refreshes("acme"))
    return results


def _table(costs: Costs, unit: str, scale: float) -> list[str]:
    lines = [
        f"| auth | sync {unit} | vs static | async {unit} | vs static |",
        "|---|---:|---:|---:|---:|",
    ]
    floor_sync = costs["sync"]["static header (floor)"]
    floor_async = costs["async"]["static header (floor)"]
    for name in costs["sync"]:
        sync, asynchronous = costs["sync"][name], costs["async"][name]
        lines.append(
            f"| {name} | {sync * scale:,.0f} | {sync / floor_sync:.2f}x "
            f"| {asynchronous * scale:,.0f} | {asynchronous / floor_async:.2f}x |"
        )
    return lines


def _verdict(costs: Costs) -> str:
    parts = []
    for mode in ("sync", "async"):
        by_name = costs[mode]
        ours = by_name["GongHttpxAuth, memory store"]
        ratio = ours / by_name["static header (floor)"]
        tightest = ours / by_name["static header, flows written out"]
        below = ours < by_name["authlib httpx OAuth2Auth"]
        met = ratio <= 1.5 and below
        parts.append(
            f"{mode}: {'met' if met else 'missed'} ({ratio:.2f}x the static header, "
            f"{tightest:.2f}x the tightest one, {'below' if below else 'not below'} authlib)"
        )
    return "; ".join(parts)


def _stall_lines() -> list[str]:
    lines = [
        "The event loop during a 1 s refresh: 50 tasks find the token stale while a 20 ms "
        "ticker runs on the same loop:",
        "",
        "| async stale path | longest tick gap ms | token calls |",
        "|---|---:|---:|",
    ]
    for name, (gap, refreshes) in loop_stall().items():
        lines.append(f"| {name} | {gap * 1e3:,.0f} | {refreshes} |")
    return [*lines, ""]


def section(
    calls: int, rounds: int, aggregate: Callable[[list[float]], float] = min, label: str = "best"
) -> list[str]:
    """The markdown section for docs/benchmarks.md."""
    flows = flow_costs(calls, rounds, aggregate)
    whole = request_costs(max(calls // 10, 1), rounds, aggregate)
    return [
        f"## httpx: `GongHttpxAuth` per request ({label} of {rounds} rounds)",
        "",
        f"The auth flow alone, driven as httpx drives it ({calls:,} flows per round):",
        "",
        *_table(flows, "ns", 1e9),
        "",
        f"Targets (at most 1.5x a static header, below authlib): {_verdict(flows)}.",
        "",
        f"Whole requests through `httpx.Client` / `httpx.AsyncClient` over a `MockTransport` "
        f"that answers at once ({max(calls // 10, 1):,} requests per round):",
        "",
        *_table(whole, "µs", 1e6),
        "",
        *_stall_lines(),
        "authlib's httpx `OAuth2Auth` rebuilds every request (it reads the body to sign it); "
        "GongHttpxAuth sets one header after one clock read, one comparison and an origin "
        "test, and looks at the answer's status.",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--median", action="store_true", help="median of rounds, not best")
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {platform.machine()}, {time.strftime('%Y-%m-%d')}")
    print(f"httpx {httpx.__version__}\n")
    aggregate = statistics.median if args.median else min
    label = "median" if args.median else "best"
    print("\n".join(section(args.calls, args.rounds, aggregate, label)))


if __name__ == "__main__":
    main()
