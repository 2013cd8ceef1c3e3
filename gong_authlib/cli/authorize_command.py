"""``gong-authlib authorize``: connect one customer and store its token."""

from __future__ import annotations

import argparse
import sys
import webbrowser

from gong_authlib.cli.common import client_from, config_from, describe_seconds, store_from
from gong_authlib.cli.outcome import EXIT_OK, EXIT_USAGE, CommandError
from gong_authlib.config.model import IntegrationConfig
from gong_authlib.loopback.authorize import Authorization, authorize_customer
from gong_authlib.origins import is_localhost_name, is_loopback_redirect
from gong_authlib.safe_text import escape_controls


def _redirect_uri(args: argparse.Namespace, config: IntegrationConfig) -> str:
    chosen = _chosen_redirect_uri(args, config)
    if is_localhost_name(chosen):
        raise CommandError(
            f"the redirect URI {escape_controls(chosen)} names localhost, which a browser may "
            "resolve to ::1 first, where another local user could listen and finish this "
            "authorization with their own Gong company. Register the same URI with 127.0.0.1 "
            "in place of localhost, at Gong and in redirect_uris (RFC 8252, 8.3)",
            EXIT_USAGE,
        )
    return chosen


def _chosen_redirect_uri(args: argparse.Namespace, config: IntegrationConfig) -> str:
    registered = config.integration.redirect_uris
    if args.redirect_uri:
        if args.redirect_uri not in registered:
            raise CommandError(
                f"--redirect-uri {args.redirect_uri} is not one of the integration's "
                f"redirect_uris: {', '.join(registered) or '(none)'}",
                EXIT_USAGE,
            )
        return str(args.redirect_uri)
    if not registered:
        raise CommandError("the integration file lists no redirect_uris", EXIT_USAGE)
    # A loopback address first, a localhost one (refused, with the fix) only if none is listed.
    loopback = [uri for uri in registered if is_loopback_redirect(uri)]
    loopback.sort(key=is_localhost_name)
    return loopback[0] if loopback else registered[0]


def _show(url: str, *, browser: bool) -> None:
    sys.stderr.write(
        "Open this URL as a Gong tech admin of the customer's company and approve access:\n"
        f"\n  {url}\n\n"
    )
    sys.stderr.flush()
    if browser:
        webbrowser.open(url)


def _paste() -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line:
            raise CommandError("no callback URL on standard input")
        return line
    return input("Paste the full URL your browser was redirected to: ")


def _summary(result: Authorization, now: float) -> str:
    token = result.token
    lines = [
        f"Authorized customer {result.customer}.",
        f"  API base URL:   {token.api_base_url}",
        f"  granted scopes: {' '.join(sorted(token.scope)) or '(none)'}",
        f"  expires:        {token.expires.isoformat()} "
        f"(in {describe_seconds(token.expires_at - now)})",
    ]
    if result.missing_scopes:
        lines.append(f"  NOT granted:    {' '.join(result.missing_scopes)}")
    # Names, URLs and scopes from the token answer: escaped, as everything printed.
    return escape_controls("\n".join(lines), keep_newlines=True) + "\n"


def run(args: argparse.Namespace) -> int:
    config = config_from(args)
    redirect_uri = _redirect_uri(args, config)
    client = client_from(args, config)
    store = store_from(args, config)
    if is_loopback_redirect(redirect_uri):
        sys.stderr.write(f"Waiting for the callback on {escape_controls(redirect_uri)} ...\n")
    try:
        result = authorize_customer(
            client,
            store,
            args.customer,
            scopes=config.integration.scopes,
            redirect_uri=redirect_uri,
            open_url=lambda url: _show(url, browser=not args.no_browser),
            paste=_paste,
            timeout=args.timeout,
        )
    except OSError as exc:
        raise CommandError(
            f"cannot listen on {redirect_uri} ({exc.strerror or exc}); is another "
            "`gong-authlib authorize` running?"
        ) from None
    finally:
        store.close()
    if result.ignored_requests:
        plural = "request" if result.ignored_requests == 1 else "requests"
        sys.stderr.write(
            f"warning: ignored {result.ignored_requests} {plural} to the callback that did not "
            "carry this authorization's state and browser cookie (another local program or "
            "page sent them)\n"
        )
    if result.other_users:
        plural = "connection" if result.other_users == 1 else "connections"
        sys.stderr.write(
            f"warning: turned away {result.other_users} {plural} from another local user's "
            "programs (they can read the start URL on the browser's command line)\n"
        )
    if result.refused_starts:
        sys.stderr.write(
            f"warning: the start URL was opened {result.refused_starts + 1} times and only the "
            "first was let through. If your browser said 'Start link already used', another "
            "local program opened it first and may have connected its own Gong company: run "
            f"`gong-authlib tokens delete --customer {result.customer} --yes` and authorize "
            "again\n"
        )
    sys.stdout.write(_summary(result, client.clock()))
    return EXIT_OK
