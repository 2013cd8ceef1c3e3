"""Keeping secrets out of log records written by the libraries we call.

Gong's token endpoint takes the authorization code and refresh token in the query string (its
documented shape), and urllib3 logs request URLs at DEBUG level. This filter rewrites those
query values before any handler sees the record.
"""

from __future__ import annotations

import functools
import logging
import re


@functools.cache
def _secret_patterns() -> tuple[re.Pattern[str], ...]:
    """What ``redact`` hides (its ``value`` group, keeping ``name``). Compiled at first use:
    every cold start would pay for it at import (issue 24)."""
    return (
        re.compile(
            r"(?P<name>\b(?:code|refresh_token|access_token|client_secret)=)(?P<value>[^&\s\"']+)",
            re.IGNORECASE,
        ),
        # A password in a URL's user info (``scheme://user:PASSWORD@host``) or in a libpq DSN.
        re.compile(r"(?P<name>://[^:/@\s]*:)(?P<value>[^@\s/]+)(?=@)"),
        # ``sslpassword`` is the client key's passphrase: a password too.
        re.compile(
            r"(?P<name>\b(?:ssl)?password\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'|[^\s&\"']+)",
            re.IGNORECASE,
        ),
        # Token answers as JSON: vcrpy logs each recorded response body at DEBUG while recording.
        re.compile(
            r'(?P<name>"(?:access_token|refresh_token|client_secret)"\s*:\s*")(?P<value>[^"]+)'
        ),
        re.compile(r"(?P<name>\b(?:Bearer|Basic) )(?P<value>[A-Za-z0-9._~+/=-]{8,})"),
    )


REDACTED = "<redacted>"

# Loggers that may print a token-endpoint URL (urllib3's pool logs each request line, its
# retry logic logs the URL it retries) or a store URL with its password.
THIRD_PARTY_LOGGERS = (
    "urllib3.connectionpool",
    "urllib3.util.retry",
    "requests",
    "vcr.request",
    "vcr.cassette",
    "vcr.stubs",
    # Store drivers: the pool logs a failed connection with the conninfo it was given.
    "psycopg",
    "psycopg.pool",
    "redis",
    "redis.connection",
    "redis.client",
)


def redact(text: str) -> str:
    """``text`` with query-string secrets and Authorization values replaced."""
    for pattern in _secret_patterns():
        text = pattern.sub(lambda m: m.group("name") + REDACTED, text)
    return text


class SecretRedactingFilter(logging.Filter):
    """Rewrites a record's message so no query-string secret reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_installed = False


def protect_third_party_loggers() -> None:
    """Attach the filter to the loggers of urllib3 and requests, once per process."""
    global _installed  # noqa: PLW0603 - a process-wide, idempotent switch
    if _installed:
        return
    for name in THIRD_PARTY_LOGGERS:
        logging.getLogger(name).addFilter(SecretRedactingFilter())
    _installed = True
