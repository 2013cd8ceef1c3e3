"""vcrpy settings that keep Gong secrets out of cassettes, and keep replay working.

Gong's token endpoint takes codes and refresh tokens in the query string and returns tokens in
JSON bodies; API calls carry bearer tokens, or a company API key as Basic ``key:secret``.
:class:`SecretScrubber` replaces each distinct secret with a stable placeholder
(``SCRUBBED-REFRESH-TOKEN-1`` …) in request URLs, bodies, headers, response bodies and
``Location`` headers, then replaces each secret seen anywhere it appears again. The
placeholders are numbered in order of first sight, so a replayed client that sends back the
placeholder it was given, or a fresh value in the same position, matches the recorded request.

Use::

    import vcr
    from gong_authlib.testing import vcr_config

    my_vcr = vcr.VCR(**vcr_config())
    with my_vcr.use_cassette("tests/cassettes/flow.yaml"):
        ...
"""

from __future__ import annotations

import base64
import json
import threading
from typing import Any
from urllib.parse import parse_qsl, quote, unquote_plus, urlencode, urlsplit, urlunsplit

from gong_authlib.redaction import protect_third_party_loggers

PLACEHOLDER_PREFIX = "SCRUBBED-"

# query, fragment or form parameter (any case) -> kind of secret it carries
SECRET_PARAMETERS = {
    "code": "CODE",
    "refresh_token": "REFRESH-TOKEN",
    "access_token": "ACCESS-TOKEN",
    "client_secret": "CLIENT-SECRET",
    "state": "STATE",
    "id_token": "ID-TOKEN",
}
# JSON field (any case, any depth) -> kind of secret it carries
SECRET_BODY_FIELDS = {
    "access_token": "ACCESS-TOKEN",
    "refresh_token": "REFRESH-TOKEN",
    "client_secret": "CLIENT-SECRET",
    "id_token": "ID-TOKEN",
}
DROPPED_HEADERS = ("cookie", "set-cookie")


# Secrets shorter than this are not searched for in the second pass: a short value could
# match ordinary text, and real tokens, codes and secrets are far longer.
MIN_ECHO_LENGTH = 8


class SecretScrubber:
    """Replaces secrets with numbered placeholders; one instance per recording session.

    Two passes over everything recorded. First by structure: query strings, URL fragments,
    form bodies and JSON of any depth (lists too, and JSON carried in a string), by
    parameter or field name in any case; a Basic header's client secret is remembered.
    Then by value: every secret seen so far is replaced wherever it appears again (an
    ``error_description`` echoing a refresh token, an HTML page, another header).
    """

    def __init__(self) -> None:
        self._placeholders: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        protect_third_party_loggers()  # vcrpy logs each request URL at DEBUG

    def placeholder(self, value: str, kind: str) -> str:
        if value.startswith(PLACEHOLDER_PREFIX) or not value:
            return value
        with self._lock:
            if value not in self._placeholders:
                self._counts[kind] = self._counts.get(kind, 0) + 1
                self._placeholders[value] = f"{PLACEHOLDER_PREFIX}{kind}-{self._counts[kind]}"
            return self._placeholders[value]

    # -- first pass: by structure ----------------------------------------------------------

    def _query(self, query: str) -> str:
        pairs = parse_qsl(query, keep_blank_values=True)
        return urlencode([(k, self._named(k, v, SECRET_PARAMETERS)) for k, v in pairs])

    def _named(self, name: str, value: str, kinds: dict[str, str]) -> str:
        kind = kinds.get(name.lower())
        return self.placeholder(value, kind) if kind else value

    def _url(self, url: str) -> str:
        parts = urlsplit(url)
        if not parts.query and "=" not in parts.fragment:
            return url
        fragment = self._query(parts.fragment) if "=" in parts.fragment else parts.fragment
        query = self._query(parts.query) if parts.query else parts.query
        return urlunsplit(parts._replace(query=query, fragment=fragment))

    def _authorization(self, value: str, *, api_call: bool = False) -> str:
        scheme, _, credentials = value.partition(" ")
        if scheme.lower() == "basic" and api_call:  # a company API key (access_key:secret)
            self._learn_basic(credentials.strip(), "API-KEY")
            return "Basic SCRUBBED-API-KEY-CREDENTIALS"
        if scheme.lower() == "basic":
            self._learn_basic(credentials.strip(), "CLIENT")
            return "Basic SCRUBBED-CLIENT-CREDENTIALS"
        if scheme.lower() == "bearer":
            return "Bearer " + self.placeholder(credentials, "ACCESS-TOKEN")
        return "SCRUBBED-AUTHORIZATION"

    def _learn_basic(self, credentials: str, kind: str) -> None:
        """Remember the secret in ``id:secret`` (a client secret is form-encoded, RFC 6749
        2.3.1; an API key's is sent as it is), so an answer that quotes it back is scrubbed by
        the second pass. The encoded pair is a secret too: it decodes to the secret, and a
        gateway's error page may quote the whole header back."""
        self.placeholder(credentials, f"{kind}-CREDENTIALS")
        kind = f"{kind}-SECRET"
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return
        _, colon, secret = decoded.partition(":")
        if colon and secret:
            self.placeholder(unquote_plus(secret), kind)
            self.placeholder(secret, kind)

    def _walk(self, node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: (
                    self._named(key, value, SECRET_BODY_FIELDS)
                    if isinstance(key, str)
                    and isinstance(value, str)
                    and key.lower() in SECRET_BODY_FIELDS
                    else self._walk(value)
                )
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [self._walk(item) for item in node]
        if isinstance(node, str) and node[:1] in ("{", "["):
            # JSON carried as a string (a webhook payload, a gateway's wrapped answer); left
            # as written unless it held a secret.
            try:
                data = json.loads(node)
            except (ValueError, RecursionError):
                return node
            walked = self._walk(data)
            return node if walked == data else json.dumps(walked)
        return node

    def _json_body(self, raw: bytes) -> bytes | None:
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None
        if not isinstance(data, (dict, list)):
            return None
        return json.dumps(self._walk(data)).encode()

    def _form_body(self, raw: bytes) -> bytes | None:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if "=" not in text or any(ch.isspace() for ch in text.strip()):
            return None  # not application/x-www-form-urlencoded
        return self._query(text).encode()

    def _body(self, raw: bytes) -> bytes:
        structured = self._json_body(raw)
        if structured is None:
            structured = self._form_body(raw)
        return self._echoes(structured if structured is not None else raw)

    # -- second pass: by value -------------------------------------------------------------

    def _echoes(self, raw: bytes) -> bytes:
        with self._lock:
            known = [(v, p) for v, p in self._placeholders.items() if len(v) >= MIN_ECHO_LENGTH]
        for value, placeholder in known:
            # as sent, percent-encoded, and with JSON's optional "\/" for "/"
            for form in {value, quote(value, safe=""), value.replace("/", "\\/")}:
                raw = raw.replace(form.encode(), placeholder.encode())
        return raw

    def _text_echoes(self, text: str) -> str:
        return self._echoes(text.encode("utf-8", "surrogatepass")).decode("utf-8", "surrogatepass")

    # -- vcrpy hooks -----------------------------------------------------------------------

    def request(self, request: Any) -> Any:
        """vcrpy ``before_record_request`` hook."""
        # Basic on the token endpoint is the app's client; anywhere else, a company API key.
        api_call = not urlsplit(request.uri).path.startswith("/oauth2/")
        request.uri = self._url(request.uri)
        for name in list(request.headers):
            lowered = name.lower()
            if lowered == "authorization":
                request.headers[name] = self._authorization(
                    request.headers[name], api_call=api_call
                )
            elif lowered in DROPPED_HEADERS:
                del request.headers[name]
        body = request.body
        if body:
            raw = body if isinstance(body, bytes) else str(body).encode()
            request.body = self._body(raw)
        request.uri = self._text_echoes(request.uri)
        for name in list(request.headers):
            if isinstance(request.headers[name], str):
                request.headers[name] = self._text_echoes(request.headers[name])
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
            original = raw if isinstance(raw, bytes) else raw.encode()
            scrubbed = self._body(original)
            if scrubbed != original:
                body["string"] = scrubbed
                for name in headers:
                    if name.lower() == "content-length":  # keep replay's framing honest
                        headers[name] = [str(len(scrubbed))]
        for name in list(headers):
            headers[name] = [
                self._text_echoes(value) if isinstance(value, str) else value
                for value in headers[name]
            ]
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
