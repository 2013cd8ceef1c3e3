"""``gong-authlib fakegong ctl ACTION``: one call to a running FakeGong's control API.

Arguments are sent as text; the server converts each to its parameter's type (one conversion
for shells and HTTP callers alike, :mod:`gong_authlib.testing.control`). The answer's
``result`` is printed as JSON on stdout (nothing for an action that returns none).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from gong_authlib.cli.fakegong_command import TOKEN_VARIABLE, URL_VARIABLE
from gong_authlib.cli.outcome import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, CommandError
from gong_authlib.safe_text import escape_controls

TIMEOUT = 30.0


def _arguments(args: argparse.Namespace) -> dict[str, str]:
    given: dict[str, str] = {}
    for item in args.arg:
        name, equals, value = item.partition("=")
        if not name or not equals:
            raise CommandError(f"--arg: expected NAME=VALUE, not {item!r}", EXIT_USAGE)
        given[name] = value
    for item in args.arg_env:
        name, equals, variable = item.partition("=")
        if not name or not variable:
            raise CommandError(f"--arg-env: expected NAME=VARIABLE, not {item!r}", EXIT_USAGE)
        value = os.environ.get(variable)
        if value is None:
            raise CommandError(f"--arg-env {name}: {variable} is not set", EXIT_USAGE)
        given[name] = value
    return given


def _control_url(args: argparse.Namespace) -> str:
    url = args.url or os.environ.get(URL_VARIABLE, "")
    if not url:
        raise CommandError(
            f"no control URL: pass --url or set {URL_VARIABLE} (printed when the server starts)",
            EXIT_USAGE,
        )
    return url.rstrip("/")


def _control_token(args: argparse.Namespace) -> str:
    if args.token_file:
        try:
            token = Path(args.token_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise CommandError(
                f"--token-file: cannot read {args.token_file} ({why or exc})", EXIT_USAGE
            ) from None
    else:
        token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise CommandError(
            f"no control token: pass --token-file or set {TOKEN_VARIABLE} "
            "(printed when the server starts)",
            EXIT_USAGE,
        )
    return token


def run(args: argparse.Namespace) -> int:
    import requests

    given = _arguments(args)
    url, token = _control_url(args), _control_token(args)
    try:
        response = requests.post(
            f"{url}/{args.action}",
            json=given,
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT,
            allow_redirects=False,  # the control token goes to the URL given, nowhere else
        )
    except requests.RequestException as exc:
        raise CommandError(
            f"cannot reach FakeGong's control API at {url} ({type(exc).__name__})"
        ) from None
    answer = _json(response)
    if response.status_code != 200:
        message = answer.get("error") if isinstance(answer, dict) else None
        text = message or f"HTTP {response.status_code}"
        # A refused token or a broken server is a failure; the rest (an unknown action,
        # customer or argument, a value out of range) is a mistake in the command line.
        refused = response.status_code in (401, 403) or response.status_code >= 500
        code = EXIT_FINDINGS if refused else EXIT_USAGE
        raise CommandError(f"{args.action}: {escape_controls(str(text))}", code)
    result = answer.get("result") if isinstance(answer, dict) else None
    if result is not None:  # an action that only acts prints nothing: its exit code says it
        sys.stdout.write(json.dumps(result, indent=2, sort_keys=True) + "\n")
    return EXIT_OK


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
