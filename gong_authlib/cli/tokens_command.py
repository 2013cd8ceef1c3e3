"""``gong-authlib tokens list|show|check|refresh|delete``: stored tokens, never printed;
each customer's health (:mod:`gong_authlib.cli.health`) from its token and the store's status.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from gong_authlib.cli.common import (
    client_from,
    config_from,
    describe_seconds,
    emit_json,
    store_from,
)
from gong_authlib.cli.health import HEALTH, NEEDS_ATTENTION, ROLLED_BACK, health
from gong_authlib.cli.outcome import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, CommandError
from gong_authlib.clock import system_clock
from gong_authlib.config.model import IntegrationConfig
from gong_authlib.errors import ConfigError, GongAuthError, ReauthorizationRequired
from gong_authlib.oauth.client import GongOAuthClient
from gong_authlib.safe_text import escape_controls
from gong_authlib.stores import CustomerStatus, TokenStore
from gong_authlib.stores.status import ACTIVE_STATUS
from gong_authlib.token import Token, fingerprint
from gong_authlib.tokens import secret_pause
from gong_authlib.transport.requests.auth import GongAuth

JSON_FORMAT_VERSION = "2"  # 2: health names ("active", not "valid"), status_since/_reason


def _optional_config(args: argparse.Namespace) -> IntegrationConfig | None:
    """Listing needs only a store: a missing integration file is fine with --store, and the
    OAuth client's variables need not be set (nothing here calls Gong). When they are set,
    the client is there for ``tokens check`` to report a secret Gong refused."""
    try:
        try:
            return config_from(args)
        except ConfigError as exc:
            if not _only_oauth_unset(exc):
                raise
            return config_from(args, oauth=False)
    except ConfigError:
        if args.store:
            return None
        raise


def _only_oauth_unset(exc: ConfigError) -> bool:
    errors = [d for d in exc.diagnostics if d.is_error]
    return bool(errors) and all(
        d.code == "env-unset" and d.path.startswith("oauth") for d in errors
    )


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")


def _status(
    customer: str,
    token: Token | None,
    status: CustomerStatus | None,
    error: str | None,
    now: float,
    *,
    newest_issue: float | None = None,
) -> dict[str, Any]:
    if token is None or status is None:
        return {"customer": customer, "status": "unreadable", "attention": True, "error": error}
    state = health(token, status, now, newest_issue=newest_issue)
    remaining = token.expires_at - now
    return {
        "customer": customer,
        "status": state,
        "attention": state in NEEDS_ATTENTION,
        "status_since": None if status.since is None else _iso(status.since),
        "status_reason": status.reason,
        "expires_at": token.expires.isoformat(),
        "expires_in_seconds": round(remaining),
        "api_base_url": token.api_base_url,
        "scopes": sorted(token.scope),
        "access_token_sha256": fingerprint(token.access_token),
        "refresh_token_sha256": fingerprint(token.refresh_token),
        "issued_at": _iso(token.issued_at),
        # The newest issue time the store ever held for the customer: later than issued_at
        # (status rolled-back) when an older row was written back.
        "newest_issued_at": None if newest_issue is None else _iso(newest_issue),
        "extra_fields": sorted(token.extra),
    }


def _row(store: TokenStore, customer: str, now: float) -> dict[str, Any]:
    try:
        token, status = store.get_with_status(customer)
        newest = store.newest_issue(customer)
    # One damaged entry must not hide the others; nor one whose name this library would
    # refuse (ValueError), written by another tool or by hand into a shared store.
    except (GongAuthError, ValueError) as exc:
        return _status(customer, None, None, str(exc), now)
    return _status(customer, token, status, None, now, newest_issue=newest)


def _rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    config = _optional_config(args)
    with store_from(args, config) as store:
        return _rows_in(store)


def _rows_in(store: TokenStore) -> list[dict[str, Any]]:
    now = system_clock()
    return [_row(store, c, now) for c in store.customers()]


def _credentials(
    args: argparse.Namespace, config: IntegrationConfig | None, store: TokenStore
) -> dict[str, Any] | None:
    """Whether workers sharing ``store`` hold the configured secret back because Gong refused
    it (``invalid_client``): the app's problem, which no customer's row shows. None when the
    file names no usable OAuth client."""
    if config is None or config.oauth is None:
        return None
    try:
        client = client_from(args, config)
    except (GongAuthError, ValueError, CommandError):
        return None
    left = secret_pause.paused_for(store, client)
    return {
        "client_id": client.client_id,
        "secret_sha256": client.secret_fingerprint,
        "rejected": left > 0,
        "paused_for_seconds": round(left),
    }


def _credentials_line(credentials: dict[str, Any]) -> str:
    return (
        f"Gong rejected client ID {_shown(credentials['client_id'])} with secret "
        f"sha256:{credentials['secret_sha256']} (invalid_client): workers are not calling the "
        f"token endpoint with it for {describe_seconds(credentials['paused_for_seconds'])} more, "
        "and tokens stop being refreshed. The secret was rotated at Gong (grace period over) or "
        "is mistyped: deploy the current one, then run `gong-authlib credentials check`.\n"
    )


def _shown(value: object) -> str:
    """A value from the store as one terminal-safe line: names, URLs, scopes and Gong's reasons
    came from other tools and from token answers, so control and bidi characters come out
    escaped."""
    text = " ".join(value) if isinstance(value, list) else str(value)
    return escape_controls(text)


def _text_row(row: dict[str, Any]) -> str:
    name = f"{_shown(row['customer']):<20}"
    if row["status"] == "unreadable":
        return f"{name} UNREADABLE  {_shown(row['error'])}"
    if row["status"] == ROLLED_BACK:
        return (
            f"{name} ROLLED-BACK  issued {row['issued_at']}, but a token issued at "
            f"{row['newest_issued_at']} was stored before: an older row was written back (a "
            f"restore, or someone who can write the store)  {_shown(row['api_base_url'])}"
        )
    expires = describe_seconds(row["expires_in_seconds"])
    if row["attention"]:
        since = f" since {row['status_since']}" if row["status_since"] else ""
        reason = f": {_shown(row['status_reason'])}" if row["status_reason"] else ""
        return f"{name} {row['status'].upper()}{since}{reason}  {_shown(row['api_base_url'])}"
    return (
        f"{name} {row['status']:<8} expires in {expires:<8} "
        f"{_shown(row['api_base_url'])}  {_shown(row['scopes'])}"
    )


def list_command(args: argparse.Namespace) -> int:
    rows = _rows(args)
    wanted = set(args.status or HEALTH)
    if "attention" in wanted:
        wanted |= NEEDS_ATTENTION
    shown = [row for row in rows if row["status"] in wanted]
    if args.format == "json":
        emit_json({"format_version": JSON_FORMAT_VERSION, "customers": shown})
    elif not rows:
        sys.stdout.write("No customers authorized yet: run `gong-authlib authorize`.\n")
    else:
        sys.stdout.write("".join(_text_row(row) + "\n" for row in shown))
    return EXIT_FINDINGS if any(r["status"] == "unreadable" for r in rows) else EXIT_OK


def _store_reset(args: argparse.Namespace, store: TokenStore) -> dict[str, Any] | None:
    """The store's reset record (stores/identity.py): a worker found the store emptied or
    replaced and put back the pairs it held. Others may have been lost with it.
    ``--clear-reset`` forgets it (an operator has dealt with it)."""
    reset = store.reset_record()
    if reset is None:
        return None
    if getattr(args, "clear_reset", False):
        store.clear_reset()
        sys.stderr.write(f"Store-reset record of {_iso(reset.when)} cleared.\n")
        return None
    return {"when": _iso(reset.when), "detail": reset.detail}


def check_command(args: argparse.Namespace) -> int:
    """For cron and monitoring: exit 1 when any customer needs attention, when Gong refused
    the configured client secret, or when the store was found emptied or replaced."""
    config = _optional_config(args)
    with store_from(args, config) as store:
        rows = _rows_in(store)
        credentials = _credentials(args, config, store)
        reset = _store_reset(args, store)
    attention = [row for row in rows if row["attention"]]
    rejected = credentials is not None and credentials["rejected"]
    failing = bool(attention) or rejected or reset is not None
    if args.format == "json":
        emit_json(
            {
                "format_version": JSON_FORMAT_VERSION,
                "customers": len(rows),
                "healthy": not failing,
                "attention": attention,
                "client_credentials": credentials,
                "store_reset": reset,
            }
        )
        return EXIT_FINDINGS if failing else EXIT_OK
    if rejected:
        assert credentials is not None
        sys.stdout.write(_credentials_line(credentials))
    if reset is not None:
        sys.stdout.write(
            f"STORE RESET at {reset['when']}: {_shown(reset['detail'])}. Customers no worker "
            "held in memory were lost with it: compare `gong-authlib tokens list` with your "
            "customers, authorize the missing ones again, and give the store persistence; then "
            "`gong-authlib tokens check --clear-reset`.\n"
        )
    if attention:
        sys.stdout.write("".join(_text_row(row) + "\n" for row in attention))
        sys.stdout.write(
            f"{len(attention)} of {len(rows)} customer(s) need attention: re-authorize with "
            "`gong-authlib authorize --customer NAME`, or fix the key or origin named above.\n"
        )
    elif not rejected and reset is None:
        sys.stdout.write(f"{len(rows)} customer(s), none needs attention.\n")
    return EXIT_FINDINGS if failing else EXIT_OK


def show_command(args: argparse.Namespace) -> int:
    config = _optional_config(args)
    with store_from(args, config) as store:
        token, status = store.get_with_status(args.customer)
        newest = store.newest_issue(args.customer)
    if token is None:
        raise CommandError(f"no token stored for customer {args.customer!r}")
    row = _status(args.customer, token, status, None, system_clock(), newest_issue=newest)
    if args.format == "json":
        emit_json({"format_version": JSON_FORMAT_VERSION, **row})
    else:
        width = max(len(key) for key in row)
        for key, value in row.items():
            if value is not None and key != "attention":
                sys.stdout.write(f"{key:<{width}}  {_shown(value)}\n")
    return EXIT_OK


def _refresh_one(auth: GongAuth, customer: str) -> dict[str, Any]:
    try:
        token = auth.refresh()
    except ReauthorizationRequired as exc:
        raise CommandError(f"{exc}; run `gong-authlib authorize --customer {customer}`") from None
    return _status(customer, token, ACTIVE_STATUS, None, system_clock())


def _refreshed_line(row: dict[str, Any]) -> str:
    return (
        f"Refreshed customer {row['customer']}: access sha256:{row['access_token_sha256']}, "
        f"expires {row['expires_at']}.\n"
    )


def refresh_command(args: argparse.Namespace) -> int:
    config = config_from(args)
    client = client_from(args, config)
    with store_from(args, config) as store:
        if args.all:
            return _refresh_all(args, client, store)
        if store.get(args.customer) is None:
            raise CommandError(f"no token stored for customer {args.customer!r}")
        row = _refresh_one(GongAuth(client, store, args.customer), args.customer)
    if args.format == "json":
        emit_json({"format_version": JSON_FORMAT_VERSION, **row})
    else:
        sys.stdout.write(_refreshed_line(row))
    return EXIT_OK


def _refresh_all(args: argparse.Namespace, client: GongOAuthClient, store: TokenStore) -> int:
    """Every customer in turn; one that fails is reported and the others still refreshed."""
    refreshed: list[dict[str, Any]] = []
    failed: dict[str, str] = {}
    for customer in store.customers():
        try:
            row = _refresh_one(GongAuth(client, store, customer), customer)
        except (CommandError, GongAuthError, ValueError) as exc:
            # Escaped: the text can carry Gong's own error description.
            failed[customer] = escape_controls(str(exc))
            continue
        refreshed.append(row)
        if args.format == "text":
            sys.stdout.write(_refreshed_line(row))
    if args.format == "json":
        emit_json({"format_version": JSON_FORMAT_VERSION, "refreshed": refreshed, "failed": failed})
    else:
        for customer, why in failed.items():
            sys.stderr.write(f"error: customer {escape_controls(customer)}: {why}\n")
    return EXIT_FINDINGS if failed else EXIT_OK


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
        emit_json(
            {"format_version": JSON_FORMAT_VERSION, "customer": args.customer, "deleted": True}
        )
    else:
        sys.stdout.write(f"Deleted the token of customer {args.customer}.\n")
    return EXIT_OK
