"""vcrpy settings that keep Gong secrets out of cassettes, and keep replay working.

Gong's token endpoint takes codes and refresh tokens in the query string and returns tokens in
JSON bodies; API calls carry bearer tokens. :class:`SecretScrubber` replaces each distinct
secret with a stable placeholder (``SCRUBBED-REFRESH-TOKEN-1`` …) in request URLs, bodies,
headers and response bodies. The placeholders are numbered in order of first sight, so a
replayed client that sends back the placeholder it was given, or a fresh value in the same
position, matches the recorded request.

Use::

    import vcr
    from gong_authlib.testing import vcr_config

    my_vcr = vcr.VCR(**vcr_config())
    with my_vcr.use_cassette("tests/cassettes/flow.yaml"):
        ...
"""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

PLACEHOLDER_PREFIX = "SCRUBBED-"

# query or form parameter -> kind of secret it carries
SECRET_PARAMETERS = {
    "code": "CODE",
    "refresh_token": "REFRESH-TOKEN",
    "access_token": "ACCESS-TOKEN",
    "client_secret": "CLIENT-SECRET",
    "state": "STATE",
}
SECRET_BODY_FIELDS = {
    "access_token": "ACCESS-TOKEN",
    "refresh_token": "REFRESH-TOKEN",
    "client_secret": "CLIENT-SECRET",
}
DROPPED_HEADERS = ("cookie", "set-cookie")


class SecretScrubber:
    """Replaces secrets with numbered placeholders; one instance per recording session."""

    def __init__(self) -> None:
        self._placeholders: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def placeholder(self, value: str, kind: str) -> str:
        if value.startswith(PLACEHOLDER_PREFIX):
            return value
        with self._lock:
            if value not in self._placeholders:
                self._counts[kind] = self._counts.get(kind, 0) + 1
                self._placeholders[value] = f"{PLACEHOLDER_PREFIX}{kind}-{self._counts[kind]}"
            return self._placeholders[value]

    def _query(self, query: str) -> str:
        pairs = parse_qsl(query, keep_blank_values=True)
        return urlencode(
            [
                (k, self.placeholder(v, SECRET_PARAMETERS[k]) if k in SECRET_PARAMETERS else v)
                for k, v in pairs
            ]
        )

    def _url(self, url: str) -> str:
        parts = urlsplit(url)
        if not parts.query:
            return url
        return urlunsplit(parts._replace(query=self._query(parts.query)))

    def _authorization(self, value: str) -> str:
        scheme, _, credentials = value.partition(" ")
        if scheme.lower() == "basic":
            return "Basic SCRUBBED-CLIENT-CREDENTIALS"
        if scheme.lower() == "bearer":
            return "Bearer " + self.placeholder(credentials, "ACCESS-TOKEN")
        return "SCRUBBED-AUTHORIZATION"

    def _json_body(self, raw: bytes) -> bytes | None:
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(data, dict):
            return None
        for name, kind in SECRET_BODY_FIELDS.items():
            if isinstance(data.get(name), str):
                data[name] = self.placeholder(data[name], kind)
        return json.dumps(data).encode()

    def request(self, request: Any) -> Any:
        """vcrpy ``before_record_request`` hook."""
        request.uri = self._url(request.uri)
        for name in list(request.headers):
            lowered = name.lower()
            if lowered == "authorization":
                request.headers[name] = self._authorization(request.headers[name])
            elif lowered in DROPPED_HEADERS:
                del request.headers[name]
        body = request.body
        if body:
            raw = body if isinstance(body, bytes) else str(body).encode()
            scrubbed = self._json_body(raw)
            if scrubbed is None and b"=" in raw:
                scrubbed = self._query(raw.decode("utf-8", "replace")).encode()
            if scrubbed is not None:
                request.body = scrubbed
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        """vcrpy ``before_record_response`` hook."""
        headers = response.get("headers", {})
        for name in list(headers):
            lowered = name.lower()
            if lowered in DROPPED_HEADERS:
                del headers[name]
            elif lowered == "location":
                headers[name] = [self._url(value) for value in headers[name]]
        body = response.get("body", {})
        raw = body.get("string")
        if raw:
            scrubbed = self._json_body(raw if isinstance(raw, bytes) else raw.encode())
            if scrubbed is not None:
                body["string"] = scrubbed
                for name in headers:
                    if name.lower() == "content-length":  # keep replay's framing honest
                        headers[name] = [str(len(scrubbed))]
        return response


def vcr_config(scrubber: SecretScrubber | None = None) -> dict[str, Any]:
    """Keyword arguments for ``vcr.VCR(...)`` (or pytest-recording's ``vcr_config`` fixture).

    Matching ignores scheme, host and port, so a cassette recorded against a FakeGong on one
    port replays against another.
    """
    scrubber = scrubber or SecretScrubber()
    return {
        "before_record_request": scrubber.request,
        "before_record_response": scrubber.response,
        "match_on": ["method", "path", "query"],
        "decode_compressed_response": True,
        "record_mode": "once",
    }
