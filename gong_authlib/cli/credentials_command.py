"""``gong-authlib credentials check``: does Gong accept the configured client ID and secret?

Run after deploying a rotated secret, on every environment, before the old secret's grace
period ends. It spends no customer's grant (see
:meth:`~gong_authlib.GongOAuthClient.credentials_accepted`) and names the secret only by its
fingerprint. Exit 0: accepted; 1: rejected (or Gong could not be asked); 2: usage.
"""

from __future__ import annotations

import argparse
import sys

from gong_authlib.cli.common import client_from, config_from, emit_json
from gong_authlib.cli.outcome import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, CommandError
from gong_authlib.errors import ConfigError, OAuthError
from gong_authlib.safe_text import escape_controls

JSON_FORMAT_VERSION = "1"


def check(args: argparse.Namespace) -> int:
    try:
        config = config_from(args, token_store=False)  # only the token endpoint is called
        client = client_from(args, config)
    except ConfigError as problem:  # no file, no oauth section, an unset ${env:…}
        raise CommandError(f"error: {problem}", EXIT_USAGE) from None
    who = f"client ID {escape_controls(client.client_id)} with secret sha256:"
    who += client.secret_fingerprint
    error: str | None = None
    try:
        accepted: bool | None = client.credentials_accepted()
    except OAuthError as failure:
        accepted, error = None, str(failure)
    if args.format == "json":
        emit_json(
            {
                "format_version": JSON_FORMAT_VERSION,
                "client_id": client.client_id,
                "secret_sha256": client.secret_fingerprint,
                "token_url": client.token_url,
                "accepted": accepted,
                "error": error,
            }
        )
    elif accepted:
        sys.stdout.write(
            f"Gong accepts {who} at {client.token_url} (no customer's grant was used).\n"
        )
    elif accepted is False:
        sys.stdout.write(
            f"Gong rejected {who} (invalid_client). The secret was rotated at Gong and its "
            "grace period ended, or it is mistyped: deploy the current secret (Admin center > "
            "Settings > API > Integrations) and run this again.\n"
        )
    else:
        sys.stdout.write(f"Could not check {who}: {escape_controls(error or '')}\n")
    return EXIT_OK if accepted else EXIT_FINDINGS
