"""The argument parser: every command, its options and an example in its --help.

Each subcommand names its handler as ``module:function``; the module is imported only when
the command runs, so ``validate`` never pays for the HTTP side.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from gong_authlib.cli.argtypes import customer_name, positive_seconds

EXIT_USAGE = 2

RAW = argparse.RawDescriptionHelpFormatter


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


class _ShowVersion(argparse.Action):
    """Like argparse's "version" action, but reads the package versions only when asked."""

    def __init__(self, option_strings: list[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, argparse.SUPPRESS, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> NoReturn:
        from gong_authlib.cli.version import version_report

        sys.stdout.write(version_report())
        parser.exit()


def _output_options(parser: argparse.ArgumentParser, *, after_command: bool) -> None:
    """-v/--verbose and -q/--quiet, accepted before the command and after it.

    After the command they count into their own ``verbose_after`` (argparse copies a
    subcommand's namespace over the parent's, which would reset a count given before it).
    """
    group = parser.add_argument_group("output options")
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        dest="verbose_after" if after_command else "verbose",
        default=argparse.SUPPRESS if after_command else 0,
        help="show the library's logs on stderr (redacted): -v INFO, -vv DEBUG",
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS if after_command else False,
        help="show only errors on stderr, for scripts",
    )


def _on_every_command(parser: argparse.ArgumentParser) -> None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in {id(p): p for p in action.choices.values()}.values():
                _output_options(command, after_command=True)
                _on_every_command(command)


def _examples(*lines: str, codes: str = "0 success, 1 failure, 2 usage error") -> str:
    body = "\n".join(f"  {line}" for line in lines)
    return f"examples:\n{body}\n\nexit codes: {codes}"


def _config_options(
    parser: argparse.ArgumentParser, *, store: bool = True, origins: bool = True
) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        default="gong-integration.yaml",
        help="the integration file (default: %(default)s)",
    )
    if store:
        parser.add_argument(
            "--store", metavar="URL", help="token store URL; default: the file's token_store.url"
        )
    parser.add_argument("--env", metavar="NAME", help="use the file's environments.NAME overrides")
    if not origins:  # commands that never call Gong's API
        return
    parser.add_argument(
        "--trust-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="accept this API origin outside *.gong.io (a local FakeGong); repeatable",
    )


def _add_validate(commands: argparse._SubParsersAction[Parser]) -> None:
    validate = commands.add_parser(
        "validate",
        help="check integration files against the schema and Gong's rules",
        description="Check integration files: YAML structure, the JSON Schema and Gong's "
        "rules, with file:line:col for every finding.",
        epilog=_examples(
            "gong-authlib validate gong-integration.yaml",
            "gong-authlib validate --format github configs/*.gong.yaml",
            "gong-authlib validate --extra-scope api:new-thing:read gong-integration.yaml",
            "gong-authlib validate --strict gong-integration.yaml",
            codes="0 valid (warnings allowed), 1 findings, 2 usage or internal error",
        ),
        formatter_class=RAW,
    )
    validate.add_argument("files", nargs="+", metavar="FILE", help="integration files")
    validate.add_argument(
        "--format", choices=("text", "json", "github"), default="text", help="output format"
    )
    validate.add_argument("--no-color", action="store_true", help="never colour the output")
    validate.add_argument(
        "--env",
        metavar="NAME",
        help="check only environment NAME's merged result (default: the file and every one)",
    )
    validate.add_argument(
        "--extra-scope",
        action="append",
        default=[],
        metavar="SCOPE",
        help="accept a scope Gong added after this release (repeatable)",
    )
    validate.add_argument(
        "--strict-scopes",
        action="store_true",
        help="make every unknown scope an error, not a warning (as validation.strict_scopes)",
    )
    validate.add_argument(
        "--strict",
        action="store_true",
        help="make every warning an error (a CI gate: missing trusted IPs, URLs outside the "
        "domains, …); implies --strict-scopes",
    )
    validate.set_defaults(handler="gong_authlib.cli.validate_command:run")


def _add_plan(commands: argparse._SubParsersAction[Parser]) -> None:
    plan = commands.add_parser(
        "plan",
        help="what changed in the integration, and what to do in Gong",
        description="Compare the integration file with its version at a git revision (HEAD "
        "by default) or with another file, and list, Terraform-style, what to edit in Gong's "
        "Admin center and what each change means for installed customers.",
        epilog=_examples(
            "gong-authlib plan gong-integration.yaml",
            "gong-authlib plan --against origin/main --format markdown gong-integration.yaml",
            "gong-authlib plan --against old.gong.yaml --detailed-exitcode new.gong.yaml",
            codes="0 success, 1 error, 2 usage error; with --detailed-exitcode: 0 no "
            "changes, 2 changes present, 1 any error (usage errors included)",
        ),
        formatter_class=RAW,
    )
    plan.add_argument("file", metavar="FILE", help="the integration file")
    plan.add_argument(
        "--against", metavar="REF|OLD_FILE", default="HEAD", help="git revision or file"
    )
    plan.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    plan.add_argument("--env", metavar="NAME", help="compare environment NAME's merged result")
    plan.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 2 when there are changes, 0 when there are none, 1 on any error",
    )
    plan.add_argument("--no-color", action="store_true", help="never colour the output")
    plan.set_defaults(handler="gong_authlib.cli.plan_command:run")


def _add_schema(commands: argparse._SubParsersAction[Parser]) -> None:
    schema = commands.add_parser(
        "schema",
        help="print the integration file's JSON Schema",
        description="Print the JSON Schema of the integration file, or where it is installed.",
        epilog=_examples(
            "gong-authlib schema > gong-integration.schema.json", "gong-authlib schema --path"
        ),
        formatter_class=RAW,
    )
    schema.add_argument("--path", action="store_true", help="print the schema file's path")
    schema.set_defaults(handler="gong_authlib.cli.schema_command:run")


def _add_authorize(commands: argparse._SubParsersAction[Parser]) -> None:
    authorize = commands.add_parser(
        "authorize",
        help="connect a customer: consent in Gong, then store its token",
        description="Build the authorize URL from the integration file. On a loopback "
        "redirect URI, open (or print) a one-time local start URL that sends the browser to "
        "Gong with a cookie the callback must bring back; otherwise open (or print) Gong's URL "
        "and read the pasted callback URL. Check the state, exchange the code and store the "
        "customer's token.",
        epilog=_examples(
            "gong-authlib authorize --customer globex",
            "gong-authlib authorize --config prod.gong.yaml --customer globex --no-browser",
        ),
        formatter_class=RAW,
    )
    authorize.add_argument(
        "--customer", required=True, type=customer_name, help="name to store the token under"
    )
    _config_options(authorize)
    authorize.add_argument(
        "--redirect-uri",
        metavar="URI",
        help="one of the file's redirect_uris (default: its first loopback one, else its first)",
    )
    authorize.add_argument(
        "--no-browser",
        action="store_true",
        help="print the URL to open instead of opening a browser",
    )
    authorize.add_argument(
        "--timeout",
        type=positive_seconds,
        default=600.0,
        metavar="SECONDS",
        help="how long to wait for the callback (default: Gong's 10-minute code lifetime)",
    )
    authorize.set_defaults(handler="gong_authlib.cli.authorize_command:run")


def _add_tokens(commands: argparse._SubParsersAction[Parser]) -> None:
    from gong_authlib.cli.health import HEALTH

    tokens = commands.add_parser(
        "tokens",
        help="list, check, show, refresh, delete or re-encrypt stored customer tokens",
        description="Inspect and manage the stored tokens. Never prints a token.",
        epilog=_examples(
            "gong-authlib tokens list",
            "gong-authlib tokens list --status reauthorization-required",
            "gong-authlib tokens check || alert 'a Gong customer needs attention'",
            "gong-authlib tokens show --customer globex --format json",
            "gong-authlib tokens refresh --customer globex",
            "gong-authlib tokens delete --customer globex --yes",
            "GONG_AUTHLIB_KEYS='NEW,OLD' gong-authlib tokens rotate-key --yes",
        ),
        formatter_class=RAW,
    )
    actions = tokens.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    actions.required = True
    for name, text, example, codes in (
        (
            "list",
            "every customer's health: active, expired, reauthorization required, untrusted "
            "origin, unreadable or rolled back",
            "tokens list --status attention --format json",
            "0 success, 1 an entry the store holds is unreadable, 2 usage error",
        ),
        (
            "check",
            "exit 1 when any customer needs attention (for cron and monitoring)",
            "tokens check --format json",
            "0 every customer is active or just expired (refreshed on next use), 1 a customer "
            "needs attention (reauthorization required, untrusted origin, unreadable, rolled "
            "back), the store was found reset (STORE RESET) or Gong rejected the client secret, "
            "2 usage error",
        ),
        (
            "show",
            "one customer's token status in detail",
            "tokens show --customer globex",
            "0 success, 1 no such customer or unreadable, 2 usage error",
        ),
        (
            "refresh",
            "refresh a customer's token (or every one) now, under the refresh lock",
            "tokens refresh --customer globex",
            "0 refreshed, 1 the refresh failed (Gong refused it, the store is down), 2 usage error",
        ),
        (
            "delete",
            "forget a customer's token",
            "tokens delete --customer globex --yes",
            "0 deleted, 1 no such customer or not confirmed, 2 usage error (--yes missing off a "
            "terminal)",
        ),
        (
            "rotate-key",
            "re-encrypt every stored token with the newest encryption key",
            "tokens rotate-key --yes",
            "0 re-encrypted, 1 refused (a token the keys cannot read) or failed, 2 usage error",
        ),
    ):
        action = actions.add_parser(
            name,
            help=text,
            description=text,
            epilog=_examples(f"gong-authlib {example}", codes=codes),
            formatter_class=RAW,
        )
        if name == "refresh":
            which = action.add_mutually_exclusive_group(required=True)
            which.add_argument("--customer", type=customer_name)
            which.add_argument(
                "--all",
                action="store_true",
                help="every stored customer, one after another (after encrypting a plaintext "
                "store: spends the plaintext refresh tokens that backups still hold)",
            )
        elif name not in ("list", "check", "rotate-key"):
            action.add_argument("--customer", required=True, type=customer_name)
        _config_options(action)
        action.add_argument("--format", choices=("text", "json"), default="text")
        if name == "list":
            action.add_argument(
                "--status",
                action="append",
                choices=(*HEALTH, "attention"),
                metavar="STATUS",
                help="show only customers in STATUS (repeatable): active, expired, "
                "reauthorization-required, untrusted-origin, unreadable, rolled-back, or "
                "attention (the last four)",
            )
        if name in ("delete", "rotate-key"):
            action.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        if name == "check":
            action.add_argument(
                "--clear-reset",
                action="store_true",
                help="forget the store-reset record once you have dealt with it (a worker "
                "found the store emptied or replaced and put back the tokens it held)",
            )
        action.set_defaults(handler=f"gong_authlib.cli.tokens_command:{name}_command")
    rotate = actions.choices["rotate-key"]
    rotate.description = (
        "Re-encrypt every stored token with the newest key of token_store.encryption_key.\n"
        "Shows what it will do first (how many tokens, which key by fingerprint) and refuses,\n"
        "changing nothing, unless the configured keys decrypt every token.\n\n"
        "The safe order:\n"
        "  1. add the new key as the newest to every app that reads the store, and deploy\n"
        "     (GONG_AUTHLIB_KEYS='NEW,OLD');\n"
        "  2. gong-authlib tokens rotate-key;\n"
        "  3. drop the old key (GONG_AUTHLIB_KEYS='NEW') and deploy."
    )
    rotate.set_defaults(handler="gong_authlib.cli.rotate_key_command:run")


def _add_origins(commands: argparse._SubParsersAction[Parser]) -> None:
    origins = commands.add_parser(
        "origins",
        help="push a customer's iFrame origins through Gong's integration-settings API",
        description="Tenant sub-domains cannot be static allowed origins; this sends the "
        "customer's origin (integration.iframe.customer_origins) to POST "
        "/v2/integration-settings. Shows what it would send unless --yes.",
        epilog=_examples(
            "gong-authlib origins apply --customer globex",
            "gong-authlib origins apply --customer globex --yes",
        ),
        formatter_class=RAW,
    )
    actions = origins.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    actions.required = True
    apply = actions.add_parser(
        "apply",
        help="send the customer's origins to Gong",
        description="Send the customer's origin to Gong (shown only, unless --yes).",
        epilog=_examples(
            "gong-authlib origins apply --customer globex",
            "gong-authlib origins apply --customer globex --yes",
        ),
        formatter_class=RAW,
    )
    apply.add_argument("--customer", required=True, type=customer_name)
    _config_options(apply)
    apply.add_argument("--yes", action="store_true", help="send (default: show only)")
    apply.set_defaults(handler="gong_authlib.cli.origins_command:apply")


def _add_credentials(commands: argparse._SubParsersAction[Parser]) -> None:
    examples = (
        "gong-authlib credentials check",
        "gong-authlib credentials check --env production --format json",
    )
    codes = "0 Gong accepts them, 1 rejected (or Gong could not be asked), 2 usage error"
    credentials = commands.add_parser(
        "credentials",
        help="check that Gong accepts the app's client ID and secret",
        description="Check the OAuth client credentials against Gong's token endpoint.",
        epilog=_examples(*examples, codes=codes),
        formatter_class=RAW,
    )
    actions = credentials.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    actions.required = True
    check = actions.add_parser(
        "check",
        help="ask Gong whether it accepts the configured client ID and secret",
        description="Ask Gong's token endpoint whether it accepts the configured client ID "
        "and secret, spending no customer's grant (a refresh with a token that cannot exist: "
        "invalid_grant means accepted, invalid_client rejected). The secret is named only by "
        "its SHA-256 fingerprint. Run it on every environment after rotating the secret, "
        "before the old one's grace period ends.",
        epilog=_examples(*examples, codes=codes),
        formatter_class=RAW,
    )
    _config_options(check, store=False)
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.set_defaults(handler="gong_authlib.cli.credentials_command:check")


def _add_demo(commands: argparse._SubParsersAction[Parser]) -> None:
    demo = commands.add_parser(
        "demo",
        help="the whole flow end to end against an embedded FakeGong",
        description="Start FakeGong and a temporary SQLite store, authorize two customers, "
        "call the API, show a refresh, a 401 recovery, 32 threads sharing one refresh and a "
        "customer whose admin uninstalled the app. No Gong account or network needed.",
        epilog=_examples("gong-authlib demo", codes="0 the demo ran, 1 a step failed"),
        formatter_class=RAW,
    )
    demo.add_argument("--no-color", action="store_true", help="never colour the output")
    # The demo provokes failures on purpose and narrates them; their warnings would be noise.
    demo.set_defaults(narrates_failures=True)
    demo.set_defaults(handler="gong_authlib.cli.demo_command:run")


def _add_fakegong(commands: argparse._SubParsersAction[Parser]) -> None:
    fakegong = commands.add_parser(
        "fakegong",
        help="run FakeGong (Gong's OAuth endpoints and per-customer APIs) as its own server",
        description="Serve FakeGong on 127.0.0.1 on fixed ports until interrupted, for apps "
        "with many processes, other languages and browser tests. Its consent page makes the "
        "tester pick the company (unless login_hint names one); its control API (printed at "
        "start; `gong-authlib fakegong ctl`) does what FakeGong's Python methods do. "
        "Settings come from flags and/or a small JSON or YAML file "
        "(keys: port, client_id, client_secret, redirect_uris, scopes, customers (a list of "
        "names or a mapping name: port), auto_approve, default_validity, rate_limit, "
        "daily_limit, page_size, strict_query); flags win. The "
        "first line printed (with --format json: one JSON object) says where everything is.",
        epilog=_examples(
            "gong-authlib fakegong --port 9100 --customer acme=9101 --customer globex=9102 \\",
            "    --redirect-uri http://127.0.0.1:8000/oauth/gong/callback",
            "gong-authlib fakegong --file fakegong.yaml --format json",
            codes="0 stopped by Ctrl-C or SIGTERM, 1 a port is taken, 2 usage error",
        ),
        formatter_class=RAW,
    )
    fakegong.add_argument("--file", metavar="FILE", help="settings in JSON or YAML")
    fakegong.add_argument("--port", type=int, metavar="PORT", help="OAuth port (default: 9100)")
    fakegong.add_argument(
        "--customer",
        action="append",
        default=[],
        metavar="NAME[=PORT]",
        help="a company with its own API origin (repeatable; default: acme)",
    )
    fakegong.add_argument("--client-id", metavar="ID", help="the app's client ID")
    fakegong.add_argument(
        "--client-secret-env",
        metavar="NAME",
        help="read the client secret from this environment variable (default: generate one)",
    )
    fakegong.add_argument(
        "--redirect-uri",
        action="append",
        default=[],
        metavar="URI",
        help="a registered redirect URI (repeatable)",
    )
    fakegong.add_argument(
        "--auto-approve",
        action="store_true",
        default=None,
        help="approve without a consent page, as the company in login_hint (else the first)",
    )
    fakegong.add_argument(
        "--strict-query",
        action="store_true",
        default=None,
        help="refuse token parameters in a form body (Gong documents the query string; "
        "production Gong and this server by default also read a form)",
    )
    fakegong.add_argument(
        "--rate-limit",
        type=int,
        metavar="N",
        help="answer 429 beyond N calls in any second per company, as Gong does (Gong: 3)",
    )
    fakegong.add_argument(
        "--daily-limit",
        type=int,
        metavar="N",
        help="answer 429 beyond N calls a UTC day per company (Gong: 10000)",
    )
    fakegong.add_argument(
        "--page-size", type=int, metavar="N", help="records per page of list endpoints (100)"
    )
    fakegong.add_argument(
        "--access-key",
        action="append",
        default=[],
        metavar="CUSTOMER=KEY",
        help="a company API key of CUSTOMER (repeatable); its secret is read from "
        "$FAKEGONG_ACCESS_KEY_SECRET or --access-key-secret-env",
    )
    fakegong.add_argument(
        "--access-key-secret-env",
        metavar="NAME",
        help="the environment variable holding the access keys' secret",
    )
    fakegong.add_argument(
        "--format", choices=("text", "json"), default="text", help="how to print the addresses"
    )
    fakegong.add_argument(
        "--control-token-file",
        metavar="FILE",
        help="also write the control API's token to FILE (mode 0600), for tests to read",
    )
    fakegong.set_defaults(handler="gong_authlib.cli.fakegong_command:run")
    _add_fakegong_ctl(
        fakegong.add_subparsers(
            dest="fakegong_command",
            title="controlling a running server",
            metavar="ctl",
            parser_class=Parser,
        )
    )


def _add_fakegong_ctl(commands: argparse._SubParsersAction[Parser]) -> None:
    ctl = commands.add_parser(
        "ctl",
        help="control a running `gong-authlib fakegong` (revoke, end tokens, inject faults...)",
        description="Send one action to a running FakeGong's control API (POST "
        "/_fakegong/ACTION on its OAuth origin, loopback only) and print its JSON answer. The "
        "server prints its control URL and token at start; pass them with --url and "
        "--token-file or the environment variables FAKEGONG_CONTROL_URL and "
        "FAKEGONG_CONTROL_TOKEN. `ctl actions` lists the actions and their arguments.",
        epilog=_examples(
            "gong-authlib fakegong ctl actions",
            "gong-authlib fakegong ctl revoke --arg customer=acme",
            "gong-authlib fakegong ctl inject --arg target=api --arg kind=status "
            "--arg status=503 --arg times=2",
            "gong-authlib fakegong ctl rotate-secret --arg grace_hours=0",
            codes="0 done, 1 refused by the server or unreachable, 2 usage error or unknown action",
        ),
        formatter_class=RAW,
    )
    ctl.add_argument("action", metavar="ACTION", help="what to do (see `ctl actions`)")
    ctl.add_argument(
        "--arg",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an argument of the action (repeatable); the server reads it as its type",
    )
    ctl.add_argument(
        "--arg-env",
        action="append",
        default=[],
        metavar="NAME=VARIABLE",
        help="an argument whose value is read from an environment variable (for secrets)",
    )
    ctl.add_argument(
        "--url", metavar="URL", help="the control URL (default: $FAKEGONG_CONTROL_URL)"
    )
    ctl.add_argument(
        "--token-file",
        metavar="FILE",
        help="read the control token from FILE (default: $FAKEGONG_CONTROL_TOKEN)",
    )
    ctl.set_defaults(handler="gong_authlib.cli.fakegong_ctl:run")


def _add_api(commands: argparse._SubParsersAction[Parser]) -> None:
    api = commands.add_parser(
        "api",
        help="call Gong's API as a customer (its stored token) or with a company API key",
        description="Make one call to Gong's API, as `gh api` does for GitHub's: the path is "
        "relative to the API base URL; GET unless a body is given (then POST); JSON on stdout, "
        "pretty on a terminal. The call is paced under the company's budget and retried on "
        "429 like an app's. Never prints a token or a secret.",
        epilog=_examples(
            "gong-authlib api --customer globex /v2/users",
            "gong-authlib api --customer globex /v2/calls -F fromDateTime=2026-01-01T00:00:00Z",
            "gong-authlib api --customer globex --paginate /v2/calls/extensive \\",
            "    -f 'filter[callIds][]=7282164451200983102'",
            "GONG_KEY=... GONG_SECRET=... gong-authlib api --access-key-env GONG_KEY \\",
            "    --secret-env GONG_SECRET --base-url https://us-12345.api.gong.io /v2/users",
            codes="0 a 2xx answer, 1 an HTTP error (Gong's errors on stderr), 2 usage error",
        ),
        formatter_class=RAW,
    )
    api.add_argument(
        "endpoint",
        nargs="+",
        metavar="[METHOD] PATH",
        help="such as /v2/users or POST /v2/calls/extensive",
    )
    who = api.add_argument_group("whose call (one of)")
    who.add_argument(
        "--customer", type=customer_name, help="a connected customer: its stored OAuth token"
    )
    who.add_argument(
        "--access-key-env", metavar="VAR", help="a company API key: the key's id is in $VAR"
    )
    who.add_argument("--secret-env", metavar="VAR", help="the API key's secret is in $VAR")
    who.add_argument(
        "--base-url", metavar="URL", help="the company's API base URL (Gong's API page shows it)"
    )
    _config_options(api)
    body = api.add_argument_group("request")
    body.add_argument(
        "-F",
        "--field",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a typed field: numbers, true/false/null, @FILE; KEY[sub] nests, KEY[] appends",
    )
    body.add_argument(
        "-f",
        "--raw-field",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a string field (Gong's ids are strings: pass them with -f)",
    )
    body.add_argument("--input", metavar="FILE", help="the JSON body from FILE (- for stdin)")
    body.add_argument(
        "--paginate",
        action="store_true",
        help="follow Gong's cursor; print one document with every page's records",
    )
    body.add_argument(
        "-i", "--include", action="store_true", help="print the status line and answer headers"
    )
    api.set_defaults(handler="gong_authlib.cli.api_command:run")


def _add_webhooks(commands: argparse._SubParsersAction[Parser]) -> None:
    webhooks = commands.add_parser(
        "webhooks",
        help="customers' webhook public keys, and checking a captured delivery",
        description="Keep each customer's webhook public keys (automation rule > Fire webhook > "
        "Signed JWT header > Show public key) in the token store, where the web helpers "
        "find them, and verify a delivery captured from Gong or FakeGong.",
        epilog=_examples(
            "gong-authlib webhooks add-key --customer acme --key-file acme.key",
            "pbpaste | gong-authlib webhooks add-key --customer acme",
            "gong-authlib webhooks list-keys --customer acme",
            "gong-authlib webhooks remove-key --customer acme --fingerprint sha256:01234567…",
            "gong-authlib webhooks verify --customer acme \\",
            "    --url https://app.example/gong/webhook/acme \\",
            '    --body-file body.json --authorization "$(cat authorization.txt)"',
            codes="0 success (verify: valid), 1 failure (verify: rejected, with the reason), "
            "2 usage error",
        ),
        formatter_class=RAW,
    )
    actions = webhooks.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    actions.required = True

    for name, text in (
        (
            "add-key",
            "keep a public key for a customer, pasted as Gong shows it (bare base64) or as PEM, "
            "from a file or stdin; adding a key twice changes nothing",
        ),
        (
            "list-keys",
            "a customer's public keys (every customer's without --customer), oldest first, "
            "each named by its fingerprint (sha256: and 16 hex digits of the key's SHA-256)",
        ),
        ("remove-key", "forget a customer's public key by its fingerprint (exit 1 if none)"),
    ):
        action = actions.add_parser(name, help=text, description=text, formatter_class=RAW)
        action.add_argument("--customer", required=name != "list-keys", type=customer_name)
        _config_options(action, origins=False)
        handler = name.replace("-", "_")
        action.set_defaults(handler=f"gong_authlib.cli.webhooks_command:{handler}")
    actions.choices["add-key"].add_argument(
        "--key-file", metavar="FILE", default="-", help="the key's file (default: - for stdin)"
    )
    actions.choices["list-keys"].add_argument("--format", choices=("text", "json"), default="text")
    actions.choices["remove-key"].add_argument(
        "--fingerprint", required=True, metavar="FINGERPRINT"
    )

    verify = actions.add_parser(
        "verify",
        help="check a captured delivery: valid, or rejected with the reason",
        description="Verify a delivery as the web helpers do: the Authorization value, the "
        "raw body and the public URL it was sent to, with the customer's stored keys or a key "
        "file. Prints the call it carries, or why it is rejected.",
        formatter_class=RAW,
    )
    keys = verify.add_mutually_exclusive_group(required=True)
    keys.add_argument("--customer", type=customer_name, help="use the customer's stored keys")
    keys.add_argument("--public-key-file", metavar="FILE", help="a key as Gong shows it, or PEM")
    verify.add_argument("--url", required=True, help="the public URL the delivery was sent to")
    verify.add_argument(
        "--body-file", required=True, metavar="FILE", help="the raw body (- for stdin)"
    )
    verify.add_argument(
        "--authorization", required=True, metavar="VALUE", help="the Authorization header value"
    )
    verify.add_argument(
        "--at",
        type=positive_seconds,
        metavar="SECONDS",
        help="judge exp as of this POSIX time (a delivery captured earlier); default: now",
    )
    _config_options(verify, origins=False)
    verify.set_defaults(handler="gong_authlib.cli.webhooks_command:verify")


_COMMANDS = {
    "validate": _add_validate,
    "plan": _add_plan,
    "schema": _add_schema,
    "authorize": _add_authorize,
    "tokens": _add_tokens,
    "origins": _add_origins,
    "credentials": _add_credentials,
    "demo": _add_demo,
    "fakegong": _add_fakegong,
    "api": _add_api,
    "webhooks": _add_webhooks,
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The full parser, or, when ``command`` is known, one with only that subcommand.

    Building every subcommand costs a few milliseconds that ``validate`` in a pre-commit hook
    would pay on every commit; the help and errors of the command that runs are the same.
    """
    parser = Parser(
        prog="gong-authlib",
        description="Gong OAuth apps as code: validate and plan the integration file, "
        "authorize customers and manage their tokens.",
        epilog="Run `gong-authlib COMMAND --help` for a command's options and examples.",
        formatter_class=RAW,
    )
    parser.add_argument(
        "--version",
        action=_ShowVersion,
        help="show the versions of gong-authlib, the packages it uses and Python, then exit",
    )
    _output_options(parser, after_command=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    commands.required = True
    adders = [_COMMANDS[command]] if command in _COMMANDS else list(_COMMANDS.values())
    for add in adders:
        add(commands)
    _on_every_command(parser)
    return parser
