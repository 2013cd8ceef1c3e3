"""``gong-authlib tokens list|show|refresh|delete``: stored tokens, never printed."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gong_authlib.auth import GongAuth
from gong_authlib.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, CommandError
from gong_authlib.cli.common import (
    client_from,
    config_from,
    describe_seconds,
    emit_json,
    store_from,
)
from gong_authlib.clock import system_clock
from gong_authlib.config.controls import escape_controls
from gong_authlib.config.model import IntegrationConfig
from gong_authlib.errors import ConfigError, GongAuthError, ReauthorizationRequired
from gong_authlib.stores import TokenStore
from gong_authlib.token import Token, fingerprint


def _optional_config(args: argparse.Namespace) -> IntegrationConfig | None:
    """Listing needs only a store: a missing integration file is fine with --store."""
    try:
        return config_from(args)
    except ConfigError:
        if args.store:
            return None
        raise


def _status(customer: str, token: Token | None, error: str | None, now: float) -> dict[str, Any]:
    if token is None:
        return {"customer": customer, "status": "unreadable", "error": error}
    remaining = token.expires_at - now
    return {
        "customer": customer,
        "status": "valid" if remaining > 0 else "expired (refreshed on next use)",
        "expires_at": token.expires.isoformat(),
        "expires_in_seconds": round(remaining),
        "api_base_url": token.api_base_url,
        "scopes": sorted(token.scope),
        "access_token_sha256": fingerprint(token.access_token),
        "refresh_token_sha256": fingerprint(token.refresh_token),
        "issued_at": token.expires.fromtimestamp(token.issued_at, token.expires.tzinfo).isoformat(),
        "extra_fields": sorted(token.extra),
    }


def _read(store: TokenStore, customer: str) -> tuple[Token | None, str | None]:
    try:
        return store.get(customer), None
    # One damaged entry must not hide the others; nor one whose name this library would
    # refuse (ValueError), written by another tool or by hand into a shared store.
    except (GongAuthError, ValueError) as exc:
        return None, str(exc)


def _shown(value: object) -> str:
    """A value from the store as one terminal-safe line: names, URLs and scopes came from
    other tools and from token answers, so control and bidi characters come out escaped."""
    text = " ".join(value) if isinstance(value, list) else str(value)
    return escape_controls(text)


def _text_row(row: dict[str, Any]) -> str:
    customer = _shown(row["customer"])
    if row["status"] == "unreadable":
        return f"{customer:<20} UNREADABLE  {_shown(row['error'])}"
    expires = describe_seconds(row["expires_in_seconds"])
    return (
        f"{customer:<20} {row['status'][:7]:<8} expires in {expires:<8} "
        f"{_shown(row['api_base_url'])}  {_shown(row['scopes'])}"
    )


def list_command(args: argparse.Namespace) -> int:
    config = _optional_config(args)
    with store_from(args, config) as store:
        rows = [_status(c, *_read(store, c), system_clock()) for c in store.customers()]
    if args.format == "json":
        emit_json({"format_version": "1", "customers": rows})
    elif not rows:
        sys.stdout.write("No customers authorized yet: run `gong-authlib authorize`.\n")
    else:
        sys.stdout.write("".join(_text_row(row) + "\n" for row in rows))
    return EXIT_FINDINGS if any(r["status"] == "unreadable" for r in rows) else EXIT_OK


def show_command(args: argparse.Namespace) -> int:
    config = _optional_config(args)
    with store_from(args, config) as store:
        token = store.get(args.customer)
    if token is None:
        raise CommandError(f"no token stored for customer {args.customer!r}")
    row = _status(args.customer, token, None, system_clock())
    if args.format == "json":
        emit_json({"format_version": "1", **row})
    else:
        width = max(len(key) for key in row)
        for key, value in row.items():
            sys.stdout.write(f"{key:<{width}}  {_shown(value)}\n")
    return EXIT_OK


def refresh_command(args: argparse.Namespace) -> int:
    config = config_from(args)
    with store_from(args, config) as store:
        if store.get(args.customer) is None:
            raise CommandError(f"no token stored for customer {args.customer!r}")
        auth = GongAuth(client_from(args, config), store, args.customer)
        try:
            token = auth.refresh()
        except ReauthorizationRequired as exc:
            raise CommandError(
                f"{exc}; run `gong-authlib authorize --customer {args.customer}`"
            ) from None
    row = _status(args.customer, token, None, system_clock())
    if args.format == "json":
        emit_json({"format_version": "1", **row})
    else:
        sys.stdout.write(
            f"Refreshed customer {args.customer}: access sha256:{row['access_token_sha256']}, "
            f"expires {row['expires_at']}.\n"
        )
    return EXIT_OK


def delete_command(args: argparse.Namespace) -> int:
    config = _optional_config(args)
    if not args.yes:
        if not sys.stdin.isatty():
            raise CommandError("refusing to delete without confirmation: pass --yes", EXIT_USAGE)
        answer = input(f"Delete the stored token of customer {args.customer!r}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            sys.stdout.write("Nothing deleted.\n")
            return EXIT_FINDINGS
    with store_from(args, config) as store:
        existed = store.delete(args.customer)
    if not existed:
        raise CommandError(f"no token stored for customer {args.customer!r}")
    if args.format == "json":
        emit_json({"format_version": "1", "customer": args.customer, "deleted": True})
    else:
        sys.stdout.write(f"Deleted the token of customer {args.customer}.\n")
    return EXIT_OK
