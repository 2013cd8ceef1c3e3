"""The hot path with OpenTelemetry's SDK installed beside without, in one process.

``auth(prepared_request)`` with a fresh token (GongAuth, memory store) and a whole
``session.get`` to FakeGong over loopback, first with no providers, then with the SDK's
MeterProvider (an in-memory reader) and TracerProvider (a span processor) installed as the
global providers, as an app that exports telemetry has them. A process can install them once,
so each process measures *without* first, then installs them and measures *with*; several
fresh processes repeat the pair, so that machine noise that hits one phase of one process does
not decide the figure. The best round of each is compared. Usage:

    .venv/bin/python -m benchmarks.otel_hot_path [--calls 20000] [--rounds 5] [--processes 5]
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
from collections.abc import Callable

import requests
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from benchmarks.auth import ORIGIN, _gong_auth, _time_calls
from gong_authlib import gong_session
from gong_authlib.stores import MemoryTokenStore
from gong_authlib.testing import FakeGong
from tests.authflow import authorize_into


def _best(call: Callable[[], object], calls: int, rounds: int) -> float:
    """Best seconds per call; the collector off while timing, as timeit does (its pauses
    depend on how many objects the process holds, which installing the SDK changes)."""
    _time_calls(call, calls)  # warm-up: caches, connections, the first allocations
    gc.collect()
    gc.disable()
    try:
        return min(_time_calls(call, calls) for _ in range(rounds)) / calls
    finally:
        gc.enable()


def calls_to_time(gong: FakeGong) -> dict[str, Callable[[], object]]:
    """The hot-path calls, built once so both phases time the very same objects."""
    template = requests.Request("GET", ORIGIN + "/v2/users").prepare()
    auth = _gong_auth(MemoryTokenStore())
    store = MemoryTokenStore()
    authorize_into(gong, store)
    session = gong_session(gong.oauth_client(), store, "acme", rate_limit=None)
    session.get("/v2/users")
    return {
        "auth(prepared_request)": lambda: auth(template.copy()),
        "session.get to FakeGong": lambda: session.get("/v2/users"),
    }


def measure(calls: int, rounds: int, timed: dict[str, Callable[[], object]]) -> dict[str, float]:
    return {
        name: _best(call, calls if name.startswith("auth") else max(50, calls // 100), rounds)
        for name, call in timed.items()
    }


def install_sdk() -> None:
    metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    trace.set_tracer_provider(tracer_provider)


def pair(calls: int, rounds: int) -> dict[str, dict[str, float]]:
    """Without, then with the SDK installed, in this process."""
    with FakeGong() as gong:
        gong.add_customer("acme")
        timed = calls_to_time(gong)
        without = measure(calls, rounds, timed)
        install_sdk()
        with_sdk = measure(calls, rounds, timed)
    return {"without": without, "with": with_sdk}


def section(calls: int = 20_000, rounds: int = 5, processes: int = 5) -> list[str]:
    pairs = []
    options = ["--calls", str(calls), "--rounds", str(rounds)]
    for _ in range(processes):
        child = subprocess.run(
            [sys.executable, "-m", "benchmarks.otel_hot_path", "--child", *options],
            capture_output=True,
            text=True,
            check=True,
        )
        pairs.append(json.loads(child.stdout.splitlines()[-1]))
    out = [
        "## Hot path with the OpenTelemetry SDK installed (issue 24)",
        "",
        f"Best of {rounds} rounds in each of {processes} fresh processes, each measuring without "
        "the SDK, then with its providers installed.",
        "",
        "| call, fresh token | without, µs | SDK installed, µs | ratio | target |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in pairs[0]["without"]:
        without = min(p["without"][name] for p in pairs)
        with_sdk = min(p["with"][name] for p in pairs)
        out.append(
            f"| {name} | {without * 1e6:.2f} | {with_sdk * 1e6:.2f} | {with_sdk / without:.2f}x "
            "| <= 1.15x |"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--processes", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(pair(args.calls, args.rounds)))
    else:
        print("\n".join(section(args.calls, args.rounds, args.processes)))


if __name__ == "__main__":
    main()
