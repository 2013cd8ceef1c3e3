"""``gong-authlib fakegong``: FakeGong as its own server on fixed, printed ports."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from gong_authlib.cli.outcome import EXIT_OK, EXIT_USAGE, CommandError
from gong_authlib.safe_text import escape_controls
from gong_authlib.stores.contracts import check_customer

DEFAULT_PORT = 9100
# Where `fakegong ctl` finds the server it controls (printed at start).
URL_VARIABLE = "FAKEGONG_CONTROL_URL"
TOKEN_VARIABLE = "FAKEGONG_CONTROL_TOKEN"  # noqa: S105 - a variable's name, not a token
# Where --access-key's secret is read unless --access-key-secret-env names another variable.
DEFAULT_ACCESS_KEY_SECRET_ENV = "FAKEGONG_ACCESS_KEY_SECRET"  # noqa: S105 - a variable name


@dataclass
class Settings:
    port: int = DEFAULT_PORT
    client_id: str | None = None
    client_secret: str | None = None
    # Where the secret came from, when it was not generated: such a secret is never printed
    # (the variable may be the one the app reads, holding a real Gong secret).
    client_secret_env: str | None = None
    redirect_uris: list[str] = field(default_factory=list)
    scopes: list[str] | None = None
    customers: dict[str, int] = field(default_factory=dict)
    auto_approve: bool = False
    default_validity: int | None = None
    # Gong's per-company limits (3 a second, 10,000 a day), off unless given; list page size.
    rate_limit: int | None = None
    daily_limit: int | None = None
    page_size: int | None = None
    # Token parameters only in the query string, as Gong documents them (see Emulator.token).
    strict_query: bool = False
    # Company API keys as (customer, key id), all with the secret read from secret_env.
    access_keys: list[tuple[str, str]] = field(default_factory=list)
    access_key_secret: str | None = field(default=None, repr=False)
    access_key_secret_env: str = DEFAULT_ACCESS_KEY_SECRET_ENV


def _fail(where: str, message: str) -> CommandError:
    return CommandError(f"{where}: {message}", EXIT_USAGE)


def _port(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise _fail(where, f"a port is a whole number from 0 to 65535, not {value!r}")
    return value


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(where, "expected a list of non-empty strings")
    return list(value)


def _customers(value: Any, where: str) -> dict[str, int]:
    if isinstance(value, list):
        return {_name(name, where): 0 for name in _strings(value, where)}
    if isinstance(value, dict):
        return {
            _name(str(name), where): _port(port, f"{where}.{name}") for name, port in value.items()
        }
    raise _fail(where, "expected a list of names or a mapping of name: port")


def _name(name: str, where: str) -> str:
    """A company name is a customer name of the app: the store's rules apply."""
    try:
        return check_customer(name)
    except ValueError as exc:
        raise _fail(where, str(exc)) from None


def _redirect_uris(value: Any, where: str) -> list[str]:
    uris = _strings(value, where)
    for uri in uris:
        _redirect_uri(uri, where)
    return uris


def _redirect_uri(uri: str, where: str) -> str:
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _fail(where, f"{uri!r} is not an http(s) URL with a host")
    return uri


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise _fail(where, "expected a non-empty string")
    return value


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(where, "expected true or false")
    return value


def _validity(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 60:
        raise _fail(where, "expected a whole number of seconds, at least 60")
    return value


def _positive(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(where, f"expected a whole number, at least 1, not {value!r}")
    return value


# setting -> how its value is checked and converted
_CONVERTERS: dict[str, Any] = {
    "port": _port,
    "client_id": _text,
    "client_secret": _text,
    "redirect_uris": _redirect_uris,
    "scopes": _strings,
    "customers": _customers,
    "auto_approve": _flag,
    "default_validity": _validity,
    "rate_limit": _positive,
    "daily_limit": _positive,
    "page_size": _positive,
    "strict_query": _flag,
}


def _from_file(path: str, settings: Settings) -> None:
    # The integration file's reader: safe loading, duplicate keys and aliases refused, every
    # problem with its line and column (YAML is a superset of JSON: one reader for both).
    from gong_authlib.config.yamlsource import read_source

    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise _fail(path, f"cannot read it ({exc.strerror or exc})") from None
    document = read_source(raw, path)
    if document.diagnostics:
        first = document.diagnostics[0]
        where = f"{path}:{first.line}:{first.column}" if first.line else path
        raise _fail(where, first.message) from None
    data = document.data
    if data is None:
        return
    if not isinstance(data, dict):
        raise _fail(path, "expected a mapping of settings at the top")
    for key, value in data.items():
        convert = _CONVERTERS.get(str(key))
        if convert is None:
            known = ", ".join(sorted(_CONVERTERS))
            raise _fail(path, f"unknown setting {key!r}; known: {known}")
        setattr(settings, str(key), convert(value, f"{path}: {key}"))


def settings_from(args: argparse.Namespace) -> Settings:
    settings = Settings()
    if args.file:
        _from_file(args.file, settings)
    if args.port is not None:
        settings.port = _port(args.port, "--port")
    if args.client_id:
        settings.client_id = args.client_id
    if args.client_secret_env:
        secret = os.environ.get(args.client_secret_env)
        if not secret:
            raise _fail("--client-secret-env", f"{args.client_secret_env} is not set")
        settings.client_secret = secret
        settings.client_secret_env = args.client_secret_env
    if args.redirect_uri:
        settings.redirect_uris = [_redirect_uri(uri, "--redirect-uri") for uri in args.redirect_uri]
    if args.customer:
        settings.customers = {}
        for item in args.customer:
            name, _, port = item.partition("=")
            if not name or (port and not port.isdigit()):
                raise _fail("--customer", f"expected NAME or NAME=PORT, not {item!r}")
            _name(name, "--customer")
            settings.customers[name] = _port(int(port) if port else 0, f"--customer {name}")
    if args.auto_approve:
        settings.auto_approve = True
    if args.strict_query:
        settings.strict_query = True
    _limits_from(args, settings)
    if not settings.customers:
        settings.customers = {"acme": 0}
    _access_keys_from(args, settings)
    return settings


def _access_keys_from(args: argparse.Namespace, settings: Settings) -> None:
    """``--access-key CUSTOMER=KEY``: the secret comes from the environment, never a flag (a
    command line is visible to every local user) and is never printed."""
    items = getattr(args, "access_key", None) or []
    if not items:
        return
    variable = getattr(args, "access_key_secret_env", None) or DEFAULT_ACCESS_KEY_SECRET_ENV
    secret = os.environ.get(variable)
    if not secret:
        raise _fail("--access-key", f"set the key's secret in the environment variable {variable}")
    for item in items:
        customer, _, key = item.partition("=")
        if not customer or not key or ":" in key or any(ch.isspace() for ch in key):
            raise _fail("--access-key", f"expected CUSTOMER=KEY, not {item!r}")
        _name(customer, "--access-key")
        settings.customers.setdefault(customer, 0)
        settings.access_keys.append((customer, key))
    settings.access_key_secret = secret
    settings.access_key_secret_env = variable


def _limits_from(args: argparse.Namespace, settings: Settings) -> None:
    for name in ("rate_limit", "daily_limit", "page_size"):
        value = getattr(args, name, None)
        if value is not None:
            setattr(settings, name, _positive(value, "--" + name.replace("_", "-")))


def run(args: argparse.Namespace) -> int:
    from gong_authlib.testing import FakeGong, LiveClock
    from gong_authlib.testing.server import DEFAULT_CLIENT_ID, DEFAULT_REDIRECT_URI

    settings = settings_from(args)
    options: dict[str, Any] = {}
    if settings.scopes is not None:
        options["scopes"] = settings.scopes
    if settings.default_validity is not None:
        options["default_validity"] = settings.default_validity
    for name in ("rate_limit", "daily_limit", "page_size"):
        if getattr(settings, name) is not None:
            options[name] = getattr(settings, name)
    control_token = secrets.token_urlsafe(32)
    gong = FakeGong(
        control_token=control_token,
        client_id=settings.client_id or DEFAULT_CLIENT_ID,
        client_secret=settings.client_secret,
        redirect_uris=settings.redirect_uris or [DEFAULT_REDIRECT_URI],
        auto_approve=settings.auto_approve,
        strict_query=settings.strict_query,
        clock=LiveClock(),  # real apps expect codes and tokens to age with real time
        port=settings.port,
        api_ports=settings.customers,
        **options,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    try:
        gong.start()
        for name in settings.customers:
            gong.add_customer(name)
        for name, key in settings.access_keys:
            gong.add_access_key(name, key, settings.access_key_secret or "")
    except OSError as exc:
        gong.stop()
        raise CommandError(
            f"cannot listen on 127.0.0.1 ({exc.strerror or exc}); is a port taken? "
            "choose others with --port and --customer NAME=PORT"
        ) from None
    try:
        if args.control_token_file:
            _write_private(args.control_token_file, control_token)
        _announce(
            gong,
            args.format,
            secret_source=_secret_source(settings),
            access_keys=settings.access_keys,
            key_secret_env=settings.access_key_secret_env,
        )
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        gong.stop()
    return EXIT_OK


def _write_private(path: str, text: str) -> None:
    """Write ``text`` to a file only its owner can read (the control token opens the server)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)  # an existing file keeps its mode through O_CREAT
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text + "\n")
    except OSError as exc:
        raise CommandError(
            f"--control-token-file: cannot write {path} ({exc.strerror or exc})", EXIT_USAGE
        ) from None


def _secret_source(settings: Settings) -> str | None:
    """How to name a secret the user supplied (never by its value); None for a generated one."""
    if settings.client_secret_env:
        return f"${settings.client_secret_env}"
    if settings.client_secret:
        return "the settings file"
    return None


def _announce(
    gong: Any,
    output: str,
    *,
    secret_source: str | None = None,
    access_keys: list[tuple[str, str]] | None = None,
    key_secret_env: str = DEFAULT_ACCESS_KEY_SECRET_ENV,
) -> None:
    origins = dict(gong.emulator.customer_origins)
    keys = [{"customer": name, "access_key": key} for name, key in access_keys or []]
    secret: dict[str, str] = (
        {"client_secret": gong.client_secret}
        if secret_source is None
        else {"client_secret_from": secret_source}
    )
    control = {"control_url": gong.control_url, "control_token": gong.control_token}
    if output == "json":
        payload = {
            **control,
            "url": gong.url,
            "authorize_url": gong.authorize_url,
            "token_url": gong.token_url,
            "client_id": gong.client_id,
            **secret,
            "redirect_uris": list(gong.redirect_uris),
            "customers": origins,
            **(
                {"access_keys": keys, "access_key_secret_from": f"${key_secret_env}"}
                if keys
                else {}
            ),
        }
        sys.stdout.write(json.dumps(payload, sort_keys=True) + "\n")
    else:
        shown = (
            f"{gong.client_secret}  (generated: a fake, never a real Gong secret)"
            if secret_source is None
            else f"from {secret_source} (not printed)"
        )
        lines = [
            f"FakeGong is listening on {gong.url} (Ctrl-C stops it)",
            f"  authorize_url:  {gong.authorize_url}",
            f"  token_url:      {gong.token_url}",
            f"  client_id:      {gong.client_id}",
            f"  client_secret:  {shown}",
            f"  redirect_uris:  {' '.join(gong.redirect_uris)}",
            *(f"  customer {name}: {origin}" for name, origin in origins.items()),
            *(
                f"  access key {key['access_key']} of {key['customer']}: secret from "
                f"${key_secret_env} (not printed)"
                for key in keys
            ),
            "  trust the customer origins: oauth.trusted_api_origins or --trust-origin",
            "  control it from a shell (gong-authlib fakegong ctl actions):",
            f"    export {URL_VARIABLE}={control['control_url']}",
            f"    export {TOKEN_VARIABLE}={control['control_token']}",
        ]
        # Settings may come from a file in a repository: shown escaped, as everything printed.
        sys.stdout.write(escape_controls("\n".join(lines), keep_newlines=True) + "\n")
    sys.stdout.flush()
