"""The OpenTelemetry backend of :mod:`gong_authlib.telemetry`, imported on the first event.

Instruments are made once, from the global providers: before the app installs an SDK they are
OpenTelemetry's proxies, which start recording once it does (the API's own design), so the
order in which the app and the library start does not matter.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from opentelemetry import metrics, trace
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.trace import Span, SpanKind, StatusCode

from gong_authlib.errors import ReauthorizationRequired
from gong_authlib.logs import get_logger
from gong_authlib.telemetry import (
    ATTENTION,
    RATE_LIMIT_WAIT,
    REFRESH_DURATION,
    REFRESH_SPAN,
    REFRESHES,
    THROTTLED,
    TOKEN_REQUEST_SPAN,
    Settings,
    StatusSource,
    TokenRequest,
)

log = get_logger("telemetry")

CUSTOMER = "gong_authlib.customer"
# Histogram buckets in seconds: the SDK's default ones (0 to 10,000) suit milliseconds. A
# refresh takes tens to hundreds of ms; a wait for the budget, a third of a second per call
# queued ahead, up to max_wait (60 s).
SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0]
Attributes = dict[str, str | int]


class _Attempt:
    """The refresh running in this context, so a skip found inside it changes its outcome."""

    __slots__ = ("customer", "outcome")

    def __init__(self, customer: str) -> None:
        self.customer = customer
        self.outcome = "ok"


_ATTEMPT: contextvars.ContextVar[_Attempt | None] = contextvars.ContextVar(
    "gong_authlib_refresh", default=None
)


class _Answered:
    def __init__(self, span: Span) -> None:
        self.span = span

    def answered(self, status: int) -> None:
        self.span.set_attribute("http.response.status_code", status)
        if status >= 400:  # OpenTelemetry's HTTP client convention: 4xx and 5xx are errors
            self.span.set_status(StatusCode.ERROR, str(status))
            self.span.set_attribute("error.type", str(status))


def _failed(span: Span, error: BaseException) -> None:
    # The type only: a transport error's text holds the URL, and Gong's token URL holds the
    # refresh token in its query string.
    span.set_status(StatusCode.ERROR, type(error).__name__)
    span.set_attribute("error.type", type(error).__qualname__)


def _version() -> str:
    try:
        from gong_authlib._version import __version__
    except ImportError:  # a source tree that was never built
        return ""
    return __version__


class OtelBackend:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        version = _version()
        self.meter = metrics.get_meter("gong_authlib", version)
        self.tracer = trace.get_tracer("gong_authlib", version)
        self.refreshes = self.meter.create_counter(
            REFRESHES, unit="{refresh}", description="Token refreshes, by outcome"
        )
        self.duration = self._seconds(REFRESH_DURATION, "Time one refresh took: call and write")
        self.throttled_calls = self.meter.create_counter(
            THROTTLED, unit="{response}", description="429 answers from Gong's API"
        )
        self.wait = self._seconds(RATE_LIMIT_WAIT, "Time a call waited for Gong's rate budget")
        self._store: StatusSource | None = None
        self._states_seen: set[str] = set()
        self._gauge_made = False

    def _seconds(self, name: str, description: str) -> metrics.Histogram:
        return self.meter.create_histogram(
            name, unit="s", description=description, explicit_bucket_boundaries_advisory=SECONDS
        )

    def _attributes(self, customer: str | None, **more: str) -> Attributes:
        attributes: Attributes = dict(more)
        if customer is not None and self.settings.customer_attribute:
            attributes[CUSTOMER] = customer
        return attributes

    @contextmanager
    def refreshing(self, customer: str) -> Iterator[None]:
        attempt = _Attempt(customer)
        reset = _ATTEMPT.set(attempt)
        started = time.perf_counter()
        with self.tracer.start_as_current_span(
            REFRESH_SPAN,
            attributes=self._attributes(customer),
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                yield
            except BaseException as error:
                invalid = isinstance(error, ReauthorizationRequired)
                attempt.outcome = "invalid_grant" if invalid else "error"
                _failed(span, error)
                raise
            finally:
                _ATTEMPT.reset(reset)
                span.set_attribute("gong_authlib.outcome", attempt.outcome)
                attributes = self._attributes(customer, outcome=attempt.outcome)
                self.duration.record(time.perf_counter() - started, attributes)
                self.refreshes.add(1, attributes)

    def refresh_skipped(self, customer: str) -> None:
        attempt = _ATTEMPT.get()
        if attempt is not None and attempt.customer == customer:
            attempt.outcome = "skipped"
            return
        self.refreshes.add(1, self._attributes(customer, outcome="skipped"))

    @contextmanager
    def token_request(
        self, grant_type: str, url: str, customer: str | None
    ) -> Iterator[TokenRequest]:
        attributes = self._attributes(customer, **{"gong_authlib.grant_type": grant_type})
        attributes["http.request.method"] = "POST"
        try:
            parts = urlsplit(url)
            attributes["server.address"] = parts.hostname or ""
            attributes["server.port"] = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            pass
        with self.tracer.start_as_current_span(
            TOKEN_REQUEST_SPAN,
            kind=SpanKind.CLIENT,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                yield _Answered(span)
            except BaseException as error:
                _failed(span, error)
                raise

    def throttled(self, customer: str) -> None:
        self.throttled_calls.add(1, self._attributes(customer))

    def waited(self, customer: str, seconds: float) -> None:
        self.wait.record(seconds, self._attributes(customer))

    def watch(self, store: StatusSource | None) -> None:
        self._store = store
        if not self._gauge_made:
            self._gauge_made = True
            self.meter.create_observable_gauge(
                ATTENTION,
                callbacks=[self._attention],
                unit="{customer}",
                description="Customers whose status is not active, by state",
            )

    def _attention(self, options: CallbackOptions) -> Iterable[Observation]:
        store = self._store
        if store is None:
            return []
        try:
            statuses = store.statuses()
        except Exception as error:  # a store outage must not break the app's exporter
            log.warning("telemetry: could not read the customers' statuses: %s", error)
            return []
        counts: dict[str, int] = {}
        for status in statuses.values():
            if not status.active:
                counts[status.state] = counts.get(status.state, 0) + 1
        # A state whose customers were all fixed reads 0 rather than vanishing, so an alert on
        # it resolves.
        self._states_seen.update(counts)
        return [
            Observation(counts.get(state, 0), {"state": state})
            for state in sorted(self._states_seen)
        ]
