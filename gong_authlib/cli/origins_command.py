"""``gong-authlib origins apply``: a customer's tenant origin, sent to Gong's settings API."""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from gong_authlib.cli.common import client_from, config_from, gong_errors, store_from
from gong_authlib.cli.outcome import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, CommandError
from gong_authlib.transport.requests.session import gong_session

_HOST_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def request_body(origin: str, integration_types: tuple[str, ...]) -> dict[str, Any]:
    return {
        "integrationTypeSettings": [
            {"integrationType": kind, "allowedOrigin": origin} for kind in integration_types
        ]
    }


def apply(args: argparse.Namespace) -> int:
    config = config_from(args)
    iframe = config.integration.iframe
    settings = iframe.customer_origins if iframe else None
    if settings is None:
        raise CommandError(
            "the integration file has no integration.iframe.customer_origins", EXIT_USAGE
        )
    if args.customer not in settings.overrides and not _HOST_LABEL.match(args.customer):
        raise CommandError(
            f"customer {args.customer!r} is not a valid sub-domain label; add it under "
            "customer_origins.overrides",
            EXIT_USAGE,
        )
    body = request_body(settings.origin_for(args.customer), settings.integration_types)
    if not args.yes:
        sys.stdout.write(
            f"Would send to customer {args.customer}'s Gong: POST /v2/integration-settings\n"
            f"{json.dumps(body, indent=2)}\nRun again with --yes to send it.\n"
        )
        return EXIT_OK
    with store_from(args, config) as store:
        session = gong_session(client_from(args, config), store, args.customer)
        response = session.post("/v2/integration-settings", json=body)
    if response.status_code != 200:
        detail = gong_errors(response.text)
        raise CommandError(
            f"Gong answered HTTP {response.status_code} to the integration settings: {detail}",
            EXIT_FINDINGS,
        )
    sys.stdout.write(
        f"Sent {len(body['integrationTypeSettings'])} origin setting(s) for customer "
        f"{args.customer}; {_identity(response.text)}.\n"
    )
    return EXIT_OK


def _identity(text: str) -> str:
    """What Gong's answer identifies: its integrationId, which Gong's OpenAPI promises but
    production Gong has been seen to leave out, else the requestId to quote to Gong's support."""
    try:
        payload = json.loads(text)  # integrationId exceeds 2**53: json keeps it an exact int
    except ValueError:
        payload = None
    payload = payload if isinstance(payload, dict) else {}
    integration_id = payload.get("integrationId")
    if isinstance(integration_id, int) and not isinstance(integration_id, bool):
        return f"integrationId {integration_id}"
    request_id = payload.get("requestId")
    where = f" (requestId {request_id})" if isinstance(request_id, str) else ""
    return f"Gong did not return an integrationId{where}"
