"""What a fleet's operators see: OpenTelemetry metrics and traces (``gong-authlib[otel]``).

The library reports through OpenTelemetry's *API* (meter and tracer ``gong_authlib``); the
app installs the SDK and chooses the exporters (Prometheus, OTLP...). Until it does, the API
records nothing, and without ``opentelemetry-api`` installed this module's no-op stands in:
nothing is imported and each event costs one function call.

========================================  ==========  =========================================
instrument                                kind        attributes
========================================  ==========  =========================================
``gong_authlib.token.refreshes``          counter     ``outcome``: ``ok``, ``invalid_grant``,
                                                      ``error``, ``skipped`` (another worker
                                                      had refreshed it)
``gong_authlib.token.refresh.duration``   histogram   ``outcome``; seconds, token call and
                                                      store write
``gong_authlib.api.throttled``            counter     429s Gong answered (paced: the default)
``gong_authlib.rate_limit.wait``          histogram   seconds a call waited for its slot of
                                                      the company's budget (calls that found
                                                      a free slot record nothing)
``gong_authlib.customers.attention``      gauge       ``state``: customers whose status is not
                                                      active (only with ``configure(store=)``)
========================================  ==========  =========================================

Spans: ``gong_authlib.token.refresh`` around each refresh, and ``gong_authlib.token.request``
(kind CLIENT) around each call to Gong's token endpoint, as children of the caller's current
span, so a trace shows which request waited for a refresh and for how long.

Every attribute is a fixed word, a status code or the token endpoint's host; none ever holds a
token, a code or a secret, and exceptions are recorded by type only (a transport error's text
holds the token endpoint's URL, which holds the refresh token). The customer's name is an
attribute (``gong_authlib.customer``) only after ``configure(customer_attribute=True)``: it
multiplies every metric's series by the number of customers, and it names the app's clients.

The hot path (a fresh token) calls nothing here: only refreshes, token calls, 429s and waits do.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from gong_authlib.logs import get_logger

__all__ = [
    "ATTENTION",
    "RATE_LIMIT_WAIT",
    "REFRESHES",
    "REFRESH_DURATION",
    "REFRESH_SPAN",
    "THROTTLED",
    "TOKEN_REQUEST_SPAN",
    "configure",
    "refresh_skipped",
    "refreshing",
    "throttled",
    "token_request",
    "waited",
]

log = get_logger("telemetry")

REFRESHES = "gong_authlib.token.refreshes"
REFRESH_DURATION = "gong_authlib.token.refresh.duration"
THROTTLED = "gong_authlib.api.throttled"
RATE_LIMIT_WAIT = "gong_authlib.rate_limit.wait"
ATTENTION = "gong_authlib.customers.attention"
REFRESH_SPAN = "gong_authlib.token.refresh"
TOKEN_REQUEST_SPAN = "gong_authlib.token.request"  # noqa: S105 (a span name)


class HasState(Protocol):
    @property
    def state(self) -> str: ...
    @property
    def active(self) -> bool: ...


class StatusSource(Protocol):
    """What the attention gauge reads: any token store (``TokenStore.statuses``)."""

    def statuses(self) -> Mapping[str, HasState]: ...


class TokenRequest(Protocol):
    """The token call in flight: told Gong's HTTP status when it answers."""

    def answered(self, status: int) -> None: ...


class Backend(Protocol):
    def refreshing(self, customer: str) -> AbstractContextManager[None]: ...
    def refresh_skipped(self, customer: str) -> None: ...
    def token_request(
        self, grant_type: str, url: str, customer: str | None
    ) -> AbstractContextManager[TokenRequest]: ...
    def throttled(self, customer: str) -> None: ...
    def waited(self, customer: str, seconds: float) -> None: ...
    def watch(self, store: StatusSource | None) -> None: ...


class Settings:
    """What the app chose (:func:`configure`); read by the backend at each event."""

    customer_attribute: bool = False


SETTINGS = Settings()


class _Unanswered:
    def answered(self, status: int) -> None:
        pass


class _NoOp:
    """Without opentelemetry-api: every event does nothing."""

    @contextmanager
    def refreshing(self, customer: str) -> Iterator[None]:
        yield

    def refresh_skipped(self, customer: str) -> None:
        pass

    @contextmanager
    def token_request(
        self, grant_type: str, url: str, customer: str | None
    ) -> Iterator[TokenRequest]:
        yield _Unanswered()

    def throttled(self, customer: str) -> None:
        pass

    def waited(self, customer: str, seconds: float) -> None:
        pass

    def watch(self, store: StatusSource | None) -> None:
        pass


class _Loaded:
    backend: Backend | None = None
    lock = threading.Lock()


def backend() -> Backend:
    """The OpenTelemetry backend, loaded on the first event (opentelemetry is imported then,
    not when gong_authlib is), or the no-op when opentelemetry-api is not installed or cannot
    serve (an API too old for the instruments, say): telemetry never fails a refresh."""
    if _Loaded.backend is None:
        with _Loaded.lock:
            if _Loaded.backend is None:
                _Loaded.backend = _load()
    return _Loaded.backend


def _load() -> Backend:
    try:
        from gong_authlib.telemetry.otel import OtelBackend

        return OtelBackend(SETTINGS)
    except ImportError:
        return _NoOp()
    except Exception as error:  # whatever it is, the tokens come first
        log.warning(
            "telemetry is off: OpenTelemetry could not be set up (%s: %s); "
            "gong-authlib[otel] needs opentelemetry-api 1.25 or later",
            type(error).__name__,
            error,
        )
        return _NoOp()


def configure(*, customer_attribute: bool | None = None, store: StatusSource | None = None) -> None:
    """Choose what telemetry carries.

    ``customer_attribute=True`` adds the customer's name (``gong_authlib.customer``) to every
    metric point and span: one series per customer. ``store``: report the customers whose
    status is not active in that store (``gong_authlib.customers.attention``, by ``state``),
    read when the SDK collects.
    """
    if customer_attribute is not None:
        SETTINGS.customer_attribute = customer_attribute
    if store is not None:
        backend().watch(store)


def refreshing(customer: str) -> AbstractContextManager[None]:
    """Around one refresh: its span, its duration and its outcome (``ok`` unless it raises:
    ``invalid_grant`` for ReauthorizationRequired, else ``error``)."""
    return backend().refreshing(customer)


def refresh_skipped(customer: str) -> None:
    """A refresh was wanted and another worker had done it: counted as ``skipped`` (inside
    :func:`refreshing`, that attempt's outcome becomes ``skipped``)."""
    backend().refresh_skipped(customer)


def token_request(
    grant_type: str, url: str, customer: str | None = None
) -> AbstractContextManager[TokenRequest]:
    """Around one call to the token endpoint at ``url`` (only its host is recorded)."""
    return backend().token_request(grant_type, url, customer)


def throttled(customer: str) -> None:
    """Gong answered 429 for ``customer``."""
    backend().throttled(customer)


def waited(customer: str, seconds: float) -> None:
    """A call for ``customer`` waited ``seconds`` for its slot of the company's budget."""
    backend().waited(customer, seconds)
