"""GongAccessKeyAuth's cost per request against a static Basic header, side by side.

``auth(prepared_request)`` on a fresh copy of one prepared request (the copy's own cost is
measured and taken off), for: a static ``Authorization: Basic …`` header (the floor),
GongAccessKeyAuth (the origin check, the header, the 401 hook), and requests' own
``HTTPBasicAuth`` (which encodes the pair on every call). The httpx twins are driven as httpx
drives an auth flow. Rounds are interleaved, in a new order each round; the best round is
reported (``--median``: the median one, as ``benchmarks/run`` does).

Usage: ``.venv/bin/python -m benchmarks.access_key [--calls 5000] [--rounds 40] [--median]``
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Callable, Generator
from typing import TypeVar

import httpx
import requests
from requests.auth import AuthBase, HTTPBasicAuth

from gong_authlib import AccessKey, GongAccessKeyAuth, GongHttpxAccessKeyAuth

ORIGIN = "https://us-49467.api.gong.io"
URL = ORIGIN + "/v2/users?fromDateTime=2026-01-01"
KEY = AccessKey("BENCHKEY7XQ2ZLMN4J5K", "bench-secret-" + "s" * 40, ORIGIN)
TARGET = 1.2
T = TypeVar("T")


class StaticBasic(AuthBase):
    """The floor: a Basic header computed once, no origin check, no 401 hook."""

    def __init__(self, key: AccessKey) -> None:
        self.header = key.header()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self.header
        return request


class StaticBasicFlow(httpx.Auth):
    def __init__(self, key: AccessKey) -> None:
        self.header = key.header()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self.header
        yield request


def _rotated(candidates: dict[str, T], round_: int) -> list[tuple[str, T]]:
    """The candidates in another order each round: none always runs first (or warm)."""
    items = list(candidates.items())
    shift = round_ % len(items)
    return items[shift:] + items[:shift]


def _time(call: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls


def requests_costs(
    calls: int, rounds: int, aggregate: Callable[[list[float]], float] = min
) -> dict[str, float]:
    template = requests.Request("GET", URL).prepare()
    secret = KEY.secret.reveal()
    candidates: dict[str, AuthBase] = {
        "static Basic header (floor)": StaticBasic(KEY),
        "GongAccessKeyAuth": GongAccessKeyAuth(KEY),
        "requests HTTPBasicAuth": HTTPBasicAuth(KEY.access_key, secret),
    }
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    copies = []

    def fresh() -> requests.PreparedRequest:
        # A copy shares its hooks with the original; a request of its own has its own.
        request = template.copy()
        request.hooks = {"response": []}
        return request

    for round_ in range(rounds):
        copies.append(_time(fresh, calls))
        for name, auth in _rotated(candidates, round_):

            def one(auth: AuthBase = auth) -> object:
                return auth(fresh())

            samples[name].append(_time(one, calls))
    copy = aggregate(copies)
    return {name: aggregate(times) - copy for name, times in samples.items()}


def _drive(auth: httpx.Auth, request: httpx.Request, response: httpx.Response) -> None:
    flow = auth.sync_auth_flow(request)
    next(flow)
    with contextlib.suppress(StopIteration):
        flow.send(response)


def httpx_costs(
    calls: int, rounds: int, aggregate: Callable[[list[float]], float] = min
) -> dict[str, float]:
    request = httpx.Request("GET", URL)
    response = httpx.Response(200, request=request)
    candidates: dict[str, httpx.Auth] = {
        "static Basic header (floor)": StaticBasicFlow(KEY),
        "GongHttpxAccessKeyAuth": GongHttpxAccessKeyAuth(KEY),
        "httpx BasicAuth": httpx.BasicAuth(KEY.access_key, KEY.secret.reveal()),
    }
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for round_ in range(rounds):
        for name, flow in _rotated(candidates, round_):

            def drive(flow: httpx.Auth = flow) -> None:
                _drive(flow, request, response)

            samples[name].append(_time(drive, calls))
    return {name: aggregate(times) for name, times in samples.items()}


def _table(costs: dict[str, float], floor_name: str) -> list[str]:
    floor = costs[floor_name]
    rows = ["| auth | ns per call | vs static Basic |", "|---|---:|---:|"]
    rows += [
        f"| {name} | {cost * 1e9:,.0f} | {cost / floor:.2f}x |" for name, cost in costs.items()
    ]
    return rows


def section(
    calls: int, rounds: int, aggregate: Callable[[list[float]], float], label: str
) -> list[str]:
    plain = requests_costs(calls, rounds, aggregate)
    flows = httpx_costs(calls, rounds, aggregate)
    ours = plain["GongAccessKeyAuth"] / plain["static Basic header (floor)"]
    ours_httpx = flows["GongHttpxAccessKeyAuth"] / flows["static Basic header (floor)"]
    verdict = "met" if ours <= TARGET else "missed"
    verdict_httpx = "met" if ours_httpx <= TARGET else "missed"
    return [
        f"## Company API keys: `GongAccessKeyAuth` per request ({calls:,} calls, {label} of "
        f"{rounds} rounds)",
        "",
        "requests, `auth(prepared_request)` (the request copy's own cost taken off):",
        "",
        *_table(plain, "static Basic header (floor)"),
        "",
        "httpx, the auth flow driven as httpx drives it:",
        "",
        *_table(flows, "static Basic header (floor)"),
        "",
        f"Target: at most {TARGET}x a static Basic header: requests {verdict} ({ours:.2f}x), "
        f"httpx {verdict_httpx} ({ours_httpx:.2f}x). What the key's auth adds is the origin "
        "check (one prefix test) and, until Gong first refuses the key, the 401 hook that "
        "logs the one warning.",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--median", action="store_true", help="median round, not the best")
    args = parser.parse_args()
    aggregate, label = (statistics.median, "median") if args.median else (min, "best")
    print("\n".join(section(args.calls, args.rounds, aggregate, label)))


if __name__ == "__main__":
    main()
