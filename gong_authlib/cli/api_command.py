"""``gong-authlib api [METHOD] PATH``: one call to Gong's API, for operators, as ``gh api``.

The call goes through :func:`~gong_authlib.gong_session`, so it is what an app's call is:
a customer's stored OAuth token (refreshed as usual, under the customer's lock) or a company
API key from the environment, only to its origin, paced under the company's budget, 429s
retried. JSON on stdout (pretty on a terminal, compact otherwise); exit 0 on 2xx, 1 on an
HTTP error (Gong's ``errors`` on stderr), 2 on usage. Nothing printed, on stdout, stderr or
the ``-v`` logs, holds a token or a secret: the request's headers are never shown.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from gong_authlib.cli.api_fields import as_body, as_query, load_json_body, parse_fields
from gong_authlib.cli.common import client_from, config_from, gong_errors, store_from
from gong_authlib.cli.outcome import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, CommandError
from gong_authlib.origins import BaseUrlError
from gong_authlib.redaction import REDACTED
from gong_authlib.safe_text import escape_controls
from gong_authlib.stores import TokenStore
from gong_authlib.tokens.access_key import AccessKey
from gong_authlib.transport.requests.session import GongSession, gong_session

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# The keys of a page that are not its list: what --paginate does not merge.
_PAGE_FIELDS = frozenset({"requestId", "records"})
# Shorter values are not cut out of what is printed: no token or key secret is this short.
_SHORTEST_SECRET = 8


def _usage(message: str) -> CommandError:
    return CommandError(message, EXIT_USAGE)


def _endpoint(words: list[str]) -> tuple[str | None, str]:
    """``[METHOD] PATH`` as given: the method (None: decided by the body) and the path."""
    if len(words) > 2:
        raise _usage(f"expected [METHOD] PATH, got {len(words)} words")
    method = words[0].upper() if len(words) == 2 else None
    path = words[-1]
    if method is not None and method not in METHODS:
        raise _usage(f"unknown method {words[0]!r}; one of {', '.join(METHODS)}")
    if "://" in path or path.startswith("//"):
        raise _usage("give a path relative to the API base URL, such as /v2/users")
    if not path.startswith("/"):
        path = "/" + path
    return method, path


def _input(name: str) -> Any:
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as problem:
        reason = getattr(problem, "strerror", None) or "not UTF-8 text"
        raise _usage(f"--input {name}: cannot read it ({reason})") from None
    try:
        return load_json_body(text)
    except ValueError as problem:
        where = "stdin" if name == "-" else name
        raise _usage(f"--input {where}: not JSON: {problem}") from None


def _request_parts(
    args: argparse.Namespace,
) -> tuple[str, str, dict[str, Any] | None, Any]:
    """Method, path, query and JSON body, as ``gh api`` decides them: GET unless a body is
    given; fields are the body, or the query for GET and beside ``--input``."""
    method, path = _endpoint(args.endpoint)
    fields = parse_fields(args.field, args.raw_field)
    body: Any = None
    query: dict[str, Any] | None = None
    if args.input is not None:
        body = _input(args.input)
        query = as_query(fields) if fields else None
    elif fields and (method or "POST") != "GET":
        body = as_body(fields)
    elif fields:
        query = as_query(fields)
    method = method or ("GET" if body is None else "POST")
    if body is not None and method == "GET":
        raise _usage("a GET request has no body: give the method (such as POST) for --input")
    return method, path, query, body


def _secret_from_env(option: str, variable: str | None) -> str:
    if not variable:
        raise _usage(f"{option} is needed with --access-key-env")
    value = os.environ.get(variable)
    if not value:
        raise _usage(f"{option}: the environment variable {variable} is not set or empty")
    return value


class _Sent:
    """The credentials the command sent, to be cut out of whatever it prints.

    A server may quote the request's Authorization header back (a debugging proxy, a
    gateway's error page, a trusted origin of one's own): what the answer says is printed,
    but never the token or key secret it was sent, nor the encoded ``key:secret`` pair.
    """

    def __init__(self) -> None:
        self._values: set[str] = set()

    def secret(self, value: str) -> None:
        if len(value) >= _SHORTEST_SECRET:  # never a scheme's name or a stray word
            self._values.add(value)

    def header(self, value: str | bytes | None) -> None:
        """An Authorization value: its credentials, after the scheme, are the secret."""
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        if value:
            self.secret(value.partition(" ")[2].strip() or value)

    def response(self, response: requests.Response, **_: Any) -> None:
        for answer in (*response.history, response):
            self.header(answer.request.headers.get("Authorization"))

    def session(self, session: GongSession[Any]) -> None:
        """The credential the session holds now (a 401's resend is not seen by hooks)."""
        auth: Any = session.auth
        current = getattr(getattr(auth, "customer_token", None), "current", None)
        if current is not None:
            self.header(current.header)
        key = getattr(auth, "key", None)
        if isinstance(key, AccessKey):
            self.header(key.header())
            self.secret(key.secret.reveal())

    def __call__(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            # as sent, and as JSON writes it back (a quote or backslash escaped)
            for form in {value, json.dumps(value)[1:-1]}:
                text = text.replace(form, REDACTED)
        return text


@contextmanager
def _session(args: argparse.Namespace) -> Iterator[GongSession[Any]]:
    """The session for the credential asked for, and the store it paces through."""
    if args.customer and args.access_key_env:
        raise _usage("give --customer or --access-key-env, not both")
    if args.customer:
        config = config_from(args)
        with store_from(args, config) as tokens:
            yield gong_session(client_from(args, config), tokens, args.customer)
        return
    if not args.access_key_env:
        raise _usage(
            "say whose call it is: --customer NAME, or --access-key-env VAR "
            "--secret-env VAR --base-url URL"
        )
    key_id = _secret_from_env("--access-key-env", args.access_key_env)
    secret = _secret_from_env("--secret-env", args.secret_env)
    if not args.base_url:
        raise _usage(
            "--base-url is needed with --access-key-env (the API page of your Gong shows it)"
        )
    try:
        key = AccessKey(key_id, secret, args.base_url, trusted_origins=args.trust_origin)
    except (BaseUrlError, ValueError) as problem:
        raise _usage(str(problem)) from None
    # A store only paces (it holds no key): shared by every process using it.
    store: TokenStore | None = store_from(args, None) if args.store else None
    try:
        yield gong_session(key, store=store)
    finally:
        if store is not None:
            store.close()


def run(args: argparse.Namespace) -> int:
    method, path, query, body = _request_parts(args)
    heads: list[requests.Response] = []
    sent = _Sent()
    with _session(args) as session:
        session.hooks["response"].append(sent.response)
        if args.include:
            session.hooks["response"].append(lambda response, **_: heads.append(response))
        try:
            if args.paginate:
                answer, response = _all_pages(session, method, path, query, body)
            else:
                response = session.request(method, path, params=query, json=body)
                answer = _json(response)
            # A 404 "No … found" that ended --paginate is an empty result, not a failure.
            failure = None if response.ok or args.paginate else gong_errors(response.text)
        except requests.RequestException as problem:
            response = problem.response  # type: ignore[assignment]
            if response is None:  # no answer at all: the network, a timeout
                raise CommandError(
                    f"{method} {path}: {type(problem).__name__}: {problem}"
                ) from None
            answer = _json(response)
            # A page refused by paging (a repeated cursor) has a 2xx status: say why.
            failure = gong_errors(response.text) if not response.ok else str(problem)
        finally:
            sent.session(session)
    sent.response(response)
    for head in heads:
        _write_head(head, sent)
    _write_body(answer, response, sent)
    if failure is None:
        return EXIT_OK
    where = escape_controls(f"{method} {path}")
    sys.stderr.write(
        f"gong-authlib: HTTP {response.status_code} from {where}: "
        f"{escape_controls(sent(failure))}\n"
    )
    return EXIT_FINDINGS


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except (ValueError, RecursionError):  # not JSON, or nested past what Python can read
        return None


def _all_pages(
    session: GongSession[Any], method: str, path: str, query: dict[str, Any] | None, body: Any
) -> tuple[Any, requests.Response]:
    """Every page merged: each list extended with the next pages' records, ``records``
    counting them all. Gong's 404 "No … found" is an empty result (``totalRecords`` 0).
    Returns the merged document and the last answer (its status is the command's)."""
    if body is not None and not isinstance(body, dict):
        raise _usage("--paginate needs a JSON object body (the cursor goes in it)")
    last: list[requests.Response] = []
    session.hooks["response"].append(lambda response, **_: last.append(response))
    merged: dict[str, Any] = {}
    for page in session.paginate(path, method=method, params=query, json=body):
        for name, value in page.items():
            if isinstance(value, list) and isinstance(merged.get(name), list):
                merged[name].extend(value)
            elif name not in merged or name in _PAGE_FIELDS:
                merged[name] = value
    records = merged.get("records")
    lists = [value for name, value in merged.items() if isinstance(value, list)]
    merged["records"] = {
        **(records if isinstance(records, dict) else {"totalRecords": 0}),
        "currentPageSize": sum(len(value) for value in lists),
        "currentPageNumber": 0,
    }
    merged["records"].pop("cursor", None)
    return merged, last[-1]


def _write_head(response: requests.Response, sent: _Sent) -> None:
    """``-i``: the status line and Gong's answer headers (never the request's)."""
    lines = [f"HTTP/1.1 {response.status_code} {response.reason}"]
    lines += [f"{name}: {value}" for name, value in response.headers.items()]
    sys.stdout.write(escape_controls(sent("\n".join(lines)), keep_newlines=True) + "\n\n")


def _write_body(answer: Any, response: requests.Response, sent: _Sent) -> None:
    if answer is None:  # not JSON (a proxy's HTML page): shown as text, escaped
        text = escape_controls(sent(response.text), keep_newlines=True)
        if text:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    if sys.stdout.isatty():
        text = json.dumps(answer, indent=2, ensure_ascii=False)
    else:
        text = json.dumps(answer, separators=(",", ":"), ensure_ascii=False)
    sys.stdout.write(sent(text) + "\n")
