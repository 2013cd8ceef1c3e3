"""What the commands that talk to Gong share: the config, the store, the OAuth client."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from gong_authlib.cli.outcome import CommandError
from gong_authlib.config.model import IntegrationConfig, load_config
from gong_authlib.errors import TokenStoreError
from gong_authlib.oauth.client import GongOAuthClient
from gong_authlib.stores import TokenStore, open_store
from gong_authlib.stores.urls import store_scheme


def config_from(
    args: argparse.Namespace, *, oauth: bool = True, token_store: bool = True
) -> IntegrationConfig:
    """The integration file; ``oauth=False`` for commands that never call Gong, which then
    need neither the client ID nor the secret in the environment; ``token_store=False`` for
    those that never open the store (its URL and keys need not be set)."""
    return load_config(
        args.config, env=getattr(args, "env", None), oauth=oauth, token_store=token_store
    )


def store_from(args: argparse.Namespace, config: IntegrationConfig | None) -> TokenStore:
    """``--store`` if given, else the file's ``token_store``; keys always from the file."""
    settings = config.token_store if config else None
    keys = [key.reveal() for key in settings.encryption_keys] if settings else []
    url = getattr(args, "store", None) or (settings.url.reveal() if settings else None)
    if not url:
        raise CommandError(
            "no token store: pass --store URL or set token_store.url in the integration file",
            2,
        )
    try:
        store_scheme(url)
    except TokenStoreError as exc:  # a malformed URL is a usage error, not a failed operation
        raise CommandError(f"error: {exc}", 2) from None
    return open_store(url, encryption_keys=keys)


def client_from(args: argparse.Namespace, config: IntegrationConfig) -> GongOAuthClient:
    try:
        return config.oauth_client(trusted_api_origins=tuple(args.trust_origin))
    except ValueError as problem:  # a --trust-origin that is not a plain origin
        raise CommandError(f"--trust-origin: {problem}", 2) from None


def gong_errors(text: str) -> str:
    """Gong's error text from an answer's body (``{"requestId", "errors": [...]}``): the
    errors joined, with the requestId to quote to Gong's support."""
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested past what Python reads
        return "(no JSON body)"
    errors = payload.get("errors") if isinstance(payload, dict) else None
    request_id = payload.get("requestId") if isinstance(payload, dict) else None
    joined = "; ".join(map(str, errors)) if isinstance(errors, list) else "(no errors listed)"
    return f"{joined} (requestId {request_id})" if request_id else joined


def emit_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, sort_keys=True) + "\n")


def describe_seconds(seconds: float) -> str:
    """``3h 12m`` style, for expiry columns."""
    sign = "-" if seconds < 0 else ""
    left = int(abs(seconds))
    days, left = divmod(left, 86_400)
    hours, left = divmod(left, 3_600)
    minutes, secs = divmod(left, 60)
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes}m"
    if minutes:
        return f"{sign}{minutes}m {secs}s"
    return f"{sign}{secs}s"
