"""OpenTelemetry: what operators see, through the SDK's in-memory reader and span exporter
installed as the global providers (as an app installs its own), against FakeGong over HTTP.

The global providers can be set once per process: one module-wide pair, with delta
temporality, so that each test reads only what it caused.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider, ObservableGauge
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gong_authlib import (
    CustomerToken,
    RateLimit,
    RateLimiter,
    RateLimitExceeded,
    ReauthorizationRequired,
    TokenEndpointError,
    gong_async_client,
    gong_httpx_client,
    gong_session,
)
from gong_authlib import telemetry as gong_telemetry
from gong_authlib.stores import MemoryTokenStore, SQLiteTokenStore
from gong_authlib.testing import FakeClock, FakeGong
from tests.authflow import authorize_into
from tests.helpers import REPO_ROOT

DELTA: dict[type, AggregationTemporality] = {
    Counter: AggregationTemporality.DELTA,
    Histogram: AggregationTemporality.DELTA,
    ObservableGauge: AggregationTemporality.CUMULATIVE,
}


@dataclass
class Otel:
    reader: InMemoryMetricReader
    spans: InMemorySpanExporter

    def clear(self) -> None:
        self.reader.get_metrics_data()  # a delta read: what came before is gone
        self.spans.clear()

    def points(self) -> dict[str, list[tuple[dict[str, Any], float]]]:
        """Each instrument's points since the last read: (attributes, sum or value), and for
        histograms (attributes, count)."""
        found: dict[str, list[tuple[dict[str, Any], float]]] = {}
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    for point in metric.data.data_points:
                        # a histogram's count of points, a counter's sum, a gauge's value
                        value = float(getattr(point, "count", getattr(point, "value", 0)))
                        attributes = dict(point.attributes or {})
                        found.setdefault(metric.name, []).append((attributes, value))
        return found

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())


_INSTALLED: list[Otel] = []


@pytest.fixture
def otel(fake_gong: FakeGong) -> Iterator[Otel]:
    """The SDK's providers, cleared; after the test, no span it left holds a secret that
    FakeGong issued (names, attributes, statuses, events)."""
    if not _INSTALLED:
        reader = InMemoryMetricReader(preferred_temporality=DELTA)
        exporter = InMemorySpanExporter()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
        metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
        trace.set_tracer_provider(tracer_provider)
        _INSTALLED.append(Otel(reader, exporter))
    installed = _INSTALLED[0]
    installed.clear()
    yield installed
    gong_telemetry.configure(customer_attribute=False)
    recorded = _everything_recorded({}, installed.finished())
    secrets = fake_gong.issued_secrets()
    assert [text for text in recorded for secret in secrets if secret in text] == []


def _everything_recorded(
    points: dict[str, list[tuple[dict[str, Any], float]]], spans: list[ReadableSpan]
) -> list[str]:
    """Every metric and span name, attribute key and value, status and event, as text."""
    texts: list[str] = []
    for name, series in points.items():
        texts.append(name)
        texts += [f"{key}={value}" for attributes, _ in series for key, value in attributes.items()]
    for span in spans:
        texts.append(span.name)
        texts += [f"{key}={value!s}" for key, value in (span.attributes or {}).items()]
        texts.append(str(span.status.description))
        texts += [f"{event.name} {event.attributes}" for event in span.events]
    return texts


def test_sixteen_threads_over_one_expired_token_record_one_refresh(
    otel: Otel, fake_gong: FakeGong, tmp_path: Path
) -> None:
    store = SQLiteTokenStore(tmp_path / "tokens.db")
    authorize_into(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(), store, "acme", rate_limit=None)
    assert session.get("/v2/users").status_code == 200
    fake_gong.clock.advance(86_400)
    otel.clear()
    barrier = threading.Barrier(16)
    statuses: list[int] = []

    def worker() -> None:
        barrier.wait()
        statuses.append(session.get("/v2/users").status_code)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 16
    assert fake_gong.stats.refreshes("acme") == 1
    secrets = fake_gong.issued_secrets()
    spans = otel.finished()
    points = otel.points()

    refreshes = points[gong_telemetry.REFRESHES]
    assert [value for attributes, value in refreshes if attributes == {"outcome": "ok"}] == [1]
    assert sum(value for _, value in refreshes) == 1  # threads of one process wait, not skip
    assert points[gong_telemetry.REFRESH_DURATION] == [({"outcome": "ok"}, 1)]
    [refresh] = [span for span in spans if span.name == gong_telemetry.REFRESH_SPAN]
    [request] = [span for span in spans if span.name == gong_telemetry.TOKEN_REQUEST_SPAN]
    assert request.parent is not None
    assert request.parent.span_id == refresh.context.span_id
    assert request.attributes is not None
    assert request.attributes["gong_authlib.grant_type"] == "refresh_token"
    assert request.attributes["http.response.status_code"] == 200
    assert refresh.attributes == {"gong_authlib.outcome": "ok"}  # no customer unless asked
    recorded = _everything_recorded(points, spans)
    assert len(secrets) >= 5
    assert len(recorded) >= 10
    assert [text for text in recorded for secret in secrets if secret in text] == []


def test_the_refresh_span_is_a_child_of_the_callers_span(otel: Otel, fake_gong: FakeGong) -> None:
    store = MemoryTokenStore()
    authorize_into(fake_gong, store)
    session = gong_session(fake_gong.oauth_client(), store, "acme", rate_limit=None)
    session.get("/v2/users")
    fake_gong.clock.advance(86_400)
    otel.clear()
    with trace.get_tracer("the app").start_as_current_span("handle webhook") as caller:
        session.get("/v2/users")
    spans = {span.name: span for span in otel.finished()}
    refresh = spans[gong_telemetry.REFRESH_SPAN]
    assert refresh.parent is not None
    assert refresh.parent.span_id == caller.get_span_context().span_id
    assert refresh.context.trace_id == caller.get_span_context().trace_id


def test_an_async_refresh_is_a_child_of_the_awaiting_tasks_span(
    otel: Otel, fake_gong: FakeGong
) -> None:
    store = MemoryTokenStore()
    authorize_into(fake_gong, store)
    fake_gong.clock.advance(86_400)
    otel.clear()

    async def job() -> int:
        async with gong_async_client(fake_gong.oauth_client(), store, "acme", rate_limit=None) as c:
            with trace.get_tracer("the app").start_as_current_span("async job") as caller:
                status = (await c.get("/v2/users")).status_code
                assert caller.get_span_context().is_valid
        return status

    assert asyncio.run(job()) == 200  # the refresh ran in a worker thread, in the task's context
    spans = {span.name: span for span in otel.finished()}
    refresh = spans[gong_telemetry.REFRESH_SPAN]
    assert refresh.parent is not None
    assert refresh.parent.span_id == spans["async job"].context.span_id


def test_a_fresh_token_records_nothing(otel: Otel, fake_gong: FakeGong) -> None:
    store = MemoryTokenStore()
    authorize_into(fake_gong, store)
    # Unpaced: back-to-back paced calls really wait for their slots, and record it.
    session = gong_session(fake_gong.oauth_client(), store, "acme", rate_limit=None)
    session.get("/v2/users")
    otel.clear()
    for _ in range(3):
        assert session.get("/v2/users").status_code == 200
    assert otel.points() == {}
    assert otel.finished() == []


def test_invalid_grant_and_errors_have_their_outcomes(otel: Otel, fake_gong: FakeGong) -> None:
    store = MemoryTokenStore()
    original = authorize_into(fake_gong, store)
    customer_token = CustomerToken(fake_gong.oauth_client(), store, "acme")
    otel.clear()
    fake_gong.inject("token", "status", status=503)
    fake_gong.inject("token", "status", status=503)
    fake_gong.inject("token", "status", status=503)
    fake_gong.inject("token", "status", status=503)
    with pytest.raises(TokenEndpointError):
        customer_token.refresh(if_current=original)
    fake_gong.revoke("acme")
    with pytest.raises(ReauthorizationRequired):
        customer_token.refresh(if_current=original)
    points = otel.points()
    outcomes = sorted(attributes["outcome"] for attributes, _ in points[gong_telemetry.REFRESHES])
    assert outcomes == ["error", "invalid_grant"]
    refresh_spans = [s for s in otel.finished() if s.name == gong_telemetry.REFRESH_SPAN]
    assert sorted(str(s.status.status_code) for s in refresh_spans) == ["StatusCode.ERROR"] * 2
    assert {(s.attributes or {}).get("error.type") for s in refresh_spans} == {
        "TokenEndpointError",
        "ReauthorizationRequired",
    }


def test_a_refresh_another_process_made_is_skipped(otel: Otel, fake_gong: FakeGong) -> None:
    store = MemoryTokenStore()
    original = authorize_into(fake_gong, store)
    client = fake_gong.oauth_client()
    first, second = CustomerToken(client, store, "acme"), CustomerToken(client, store, "acme")
    first.refresh(if_current=original)
    otel.clear()

    # The second worker saw the old token as current, then finds the new one under the lock.
    seen = [True]

    def stale_once(stored: object) -> bool:
        return seen.pop() if seen else False

    second._refresh_under_lock(stale_once)
    assert otel.points()[gong_telemetry.REFRESHES] == [({"outcome": "skipped"}, 1)]


def test_a_transport_error_span_names_the_type_only(otel: Otel, fake_gong: FakeGong) -> None:
    store = MemoryTokenStore()
    original = authorize_into(fake_gong, store)
    client = fake_gong.oauth_client(token_url="http://127.0.0.1:9/oauth2/generate-customer-token")
    otel.clear()
    with pytest.raises(TokenEndpointError):
        client.refresh(original, customer="acme")
    [request] = [s for s in otel.finished() if s.name == gong_telemetry.TOKEN_REQUEST_SPAN]
    assert request.status.description == "ConnectionError"
    assert original.refresh_token not in json.dumps(dict(request.attributes or {}))
    assert request.events == ()


def test_a_429_adds_to_api_throttled(otel: Otel, fake_gong: FakeGong) -> None:
    store = MemoryTokenStore()
    authorize_into(fake_gong, store)
    clock = FakeClock(1_800_000_000.0)
    limiter = RateLimiter(store, RateLimit(), clock=clock, sleep=clock.advance)
    session = gong_session(fake_gong.oauth_client(), store, "acme", rate_limiter=limiter)
    session.get("/v2/users")
    clock.advance(1)  # the next call finds a free slot
    otel.clear()
    fake_gong.inject("api", "status", status=429, retry_after=2)
    assert session.get("/v2/users").status_code == 200  # the retry waited out the pause
    points = otel.points()
    assert points[gong_telemetry.THROTTLED] == [({}, 1)]
    [(_, waits)] = points[gong_telemetry.RATE_LIMIT_WAIT]
    assert waits == 1  # the retry waited for the pause; the first attempt had a free slot
    # Gong's daily 429 asks for hours: not retried, everyone paused, counted once all the same.
    fake_gong.inject("api", "status", status=429, retry_after=7200)
    with pytest.raises(RateLimitExceeded):
        session.get("/v2/users")
    assert otel.points()[gong_telemetry.THROTTLED] == [({}, 1)]


def test_a_429_to_an_httpx_client_adds_to_api_throttled(otel: Otel, fake_gong: FakeGong) -> None:
    store = MemoryTokenStore()
    authorize_into(fake_gong, store)
    clock = FakeClock(1_800_000_000.0)
    limiter = RateLimiter(store, RateLimit(), clock=clock, sleep=clock.advance)
    with gong_httpx_client(fake_gong.oauth_client(), store, "acme", rate_limiter=limiter) as c:
        otel.clear()
        fake_gong.inject("api", "status", status=429, retry_after=2)
        assert c.get("/v2/users").status_code == 200
    assert otel.points()[gong_telemetry.THROTTLED] == [({}, 1)]


def test_the_customer_is_an_attribute_only_when_asked(otel: Otel, fake_gong: FakeGong) -> None:
    store = MemoryTokenStore()
    original = authorize_into(fake_gong, store)
    customer_token = CustomerToken(fake_gong.oauth_client(), store, "acme")
    gong_telemetry.configure(customer_attribute=True)
    otel.clear()
    customer_token.refresh(if_current=original)
    points = otel.points()
    assert points[gong_telemetry.REFRESHES] == [
        ({"outcome": "ok", "gong_authlib.customer": "acme"}, 1)
    ]
    spans = otel.finished()
    assert [(span.attributes or {}).get("gong_authlib.customer") for span in spans] == ["acme"] * 2


def test_the_attention_gauge_counts_customers_by_state(otel: Otel, fake_gong: FakeGong) -> None:
    store = MemoryTokenStore()
    for customer in ("acme", "globex", "initech"):
        fake_gong.add_customer(customer)
        authorize_into(fake_gong, store, customer)
    store.set_status("globex", "reauthorization required", reason="invalid_grant")
    gong_telemetry.configure(store=store)
    gauge = otel.points()[gong_telemetry.ATTENTION]
    assert gauge == [({"state": "reauthorization required"}, 1)]
    authorize_into(fake_gong, store, "globex")  # authorized again: the state reads 0
    assert otel.points()[gong_telemetry.ATTENTION] == [({"state": "reauthorization required"}, 0)]


NO_OTEL = """
import json, sys
sys.modules["opentelemetry"] = None  # as if gong-authlib[otel] were not installed
from gong_authlib import CustomerToken, SQLiteTokenStore, GongOAuthClient
store = SQLiteTokenStore(sys.argv[1])
client = GongOAuthClient("{client_id}", "{secret}", token_url="{token_url}",
                         trusted_api_origins=["{origin}"])
token = CustomerToken(client, store, "acme")
before = token.fresh().token.access_token
after = token.refresh(if_current=token.fresh().token).access_token
loaded = [m for m, v in sys.modules.items() if m.startswith("opentelemetry") and v]
print(json.dumps({{"refreshed": before != after, "otel": sorted(loaded)}}))
"""


def test_without_opentelemetry_refreshes_work_and_import_nothing(
    fake_gong: FakeGong, tmp_path: Path
) -> None:
    store = SQLiteTokenStore(tmp_path / "tokens.db")
    authorize_into(fake_gong, store)
    store.close()
    probe = NO_OTEL.format(
        client_id=fake_gong.client_id,
        secret=fake_gong.client_secret,
        token_url=fake_gong.token_url,
        origin=fake_gong.trusted_origins[0],
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path / "tokens.db")],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=True,
    )
    assert json.loads(result.stdout) == {"refreshed": True, "otel": []}


def test_durations_are_bucketed_in_seconds(otel: Otel, fake_gong: FakeGong) -> None:
    store = MemoryTokenStore()
    original = authorize_into(fake_gong, store)
    otel.clear()
    CustomerToken(fake_gong.oauth_client(), store, "acme").refresh(if_current=original)
    data = otel.reader.get_metrics_data()
    assert data is not None
    [duration] = [
        metric
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == gong_telemetry.REFRESH_DURATION
    ]
    [point] = duration.data.data_points
    bounds = list(getattr(point, "explicit_bounds", []))
    assert bounds[0] <= 0.01
    assert bounds[-1] >= 60
    assert duration.unit == "s"


BROKEN_OTEL = """
import json, logging, sys
logging.basicConfig()  # the app's logging: the warning goes to stderr
import gong_authlib.telemetry.otel as otel

def broken(self, settings):  # an opentelemetry-api too old for the instruments' options
    raise TypeError("create_histogram() got an unexpected keyword argument")

otel.OtelBackend.__init__ = broken
from gong_authlib import telemetry
backend = telemetry.backend()
with telemetry.refreshing("acme"):
    pass
telemetry.throttled("acme")
print(json.dumps(type(backend).__name__))
"""


def test_an_opentelemetry_that_cannot_serve_turns_telemetry_off_not_refreshes() -> None:
    result = subprocess.run(
        [sys.executable, "-c", BROKEN_OTEL],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == "_NoOp"
    assert "telemetry is off" in result.stderr
