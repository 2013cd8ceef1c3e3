"""The hot path with OpenTelemetry's SDK installed beside without, in one process.

``auth(prepared_request)`` with a fresh token (GongAuth, memory store) and a whole
``session.get`` to FakeGong over loopback, first with no providers, then with the SDK's
MeterProvider (an in-memory reader) and TracerProvider (a span processor) installed as the
global providers, as an app that exports telemetry has them. A process can install them once,
so *without* is measured first; the best round of each is compared. Usage:

    .venv/bin/python -m benchmarks.otel_hot_path [--calls 20000] [--rounds 7]
"""

from __future__ import annotations

import argparse
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
    _time_calls(call, calls)  # warm-up: caches, connections, the first allocations
    return min(_time_calls(call, calls) for _ in range(rounds)) / calls


def measure(calls: int, rounds: int, gong: FakeGong) -> dict[str, float]:
    template = requests.Request("GET", ORIGIN + "/v2/users").prepare()
    auth = _gong_auth(MemoryTokenStore())
    store = MemoryTokenStore()
    authorize_into(gong, store)
    session = gong_session(gong.oauth_client(), store, "acme", rate_limit=None)
    session.get("/v2/users")
    return {
        "auth(prepared_request)": _best(lambda: auth(template.copy()), calls, rounds),
        "session.get to FakeGong": _best(
            lambda: session.get("/v2/users"), max(50, calls // 100), rounds
        ),
    }


def install_sdk() -> None:
    metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    trace.set_tracer_provider(tracer_provider)


def section(calls: int = 20_000, rounds: int = 7) -> list[str]:
    with FakeGong() as gong:
        gong.add_customer("acme")
        without = measure(calls, rounds, gong)
        install_sdk()
        with_sdk = measure(calls, rounds, gong)
    out = [
        "## Hot path with the OpenTelemetry SDK installed (issue 24; one process, best of "
        f"{rounds} rounds)",
        "",
        "| call, fresh token | without, µs | SDK installed, µs | ratio | target |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, seconds in without.items():
        ratio = with_sdk[name] / seconds
        out.append(
            f"| {name} | {seconds * 1e6:.2f} | {with_sdk[name] * 1e6:.2f} | {ratio:.2f}x "
            "| <= 1.15x |"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print("\n".join(section(args.calls, args.rounds)))


if __name__ == "__main__":
    main()
