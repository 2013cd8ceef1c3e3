"""Keeping secrets out of log records written by the libraries we call.

Gong's token endpoint takes the authorization code and refresh token in the query string (its
documented shape), and urllib3 logs request URLs at DEBUG level. This filter rewrites those
query values before any handler sees the record.
"""

from __future__ import annotations

import logging
import re

_SECRET_PARAMS = re.compile(
    r"(?P<name>\b(?:code|refresh_token|access_token|client_secret)=)(?P<value>[^&\s\"']+)",
    re.IGNORECASE,
)
# A password in a URL's user info (``scheme://user:PASSWORD@host``) or in a libpq DSN.
_URL_PASSWORD = re.compile(r"(?P<name>://[^:/@\s]*:)(?P<value>[^@\s/]+)(?=@)")
# ``sslpassword`` is the client key's passphrase: a password too.
_DSN_PASSWORD = re.compile(
    r"(?P<name>\b(?:ssl)?password\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'|[^\s&\"']+)", re.IGNORECASE
)
# Token answers as JSON: vcrpy logs each recorded response body at DEBUG while recording.
_SECRET_FIELDS = re.compile(
    r'(?P<name>"(?:access_token|refresh_token|client_secret)"\s*:\s*")(?P<value>[^"]+)'
)
_BEARER = re.compile(r"(?P<name>\b(?:Bearer|Basic) )(?P<value>[A-Za-z0-9._~+/=-]{8,})")

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
    text = _SECRET_PARAMS.sub(lambda m: m.group("name") + REDACTED, text)
    text = _URL_PASSWORD.sub(lambda m: m.group("name") + REDACTED, text)
    text = _DSN_PASSWORD.sub(lambda m: m.group("name") + REDACTED, text)
    text = _SECRET_FIELDS.sub(lambda m: m.group("name") + REDACTED, text)
    return _BEARER.sub(lambda m: m.group("name") + REDACTED, text)


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
