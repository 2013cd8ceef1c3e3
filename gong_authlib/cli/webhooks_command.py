"""``gong-authlib webhooks add-key|list-keys|remove-key|verify``: customers' webhook public
keys in the token store, and a captured delivery checked as the web helpers check it."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from gong_authlib.cli.common import config_from, emit_json, store_from
from gong_authlib.cli.outcome import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, CommandError
from gong_authlib.config.model import IntegrationConfig
from gong_authlib.errors import WebhookRejected
from gong_authlib.safe_text import escape_controls
from gong_authlib.stores import TokenStore
from gong_authlib.stores.webhook_keys import MAX_KEY_TEXT, KeyProblem, WebhookKey
from gong_authlib.webhooks.verify import MAX_BODY, verify_gong_webhook


def _store(args: argparse.Namespace) -> TokenStore:
    """``--store`` alone is enough; the integration file is read when it is there (for its
    store URL and encryption keys) or when no ``--store`` is given."""
    config: IntegrationConfig | None = None
    if not args.store or Path(args.config).exists():
        config = config_from(args, oauth=False)  # keys live in the store: Gong is not called
    return store_from(args, config)


def _read(name: str, what: str, limit: int) -> bytes:
    """A file's bytes (``-``: stdin), at most ``limit`` of them; usage error if unreadable."""
    try:
        if name == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            with open(name, "rb") as source:
                data = source.read(limit + 1)
    except OSError as exc:
        message = f"cannot read the {what} {name}: {exc.strerror or exc}"
        raise CommandError(message, EXIT_USAGE) from None
    if len(data) > limit:
        raise CommandError(f"the {what} is over {limit} bytes", EXIT_USAGE)
    return data


def _key_text(name: str) -> bytes:
    data = _read(name, "key file" if name != "-" else "key on stdin", MAX_KEY_TEXT)
    if not data.strip():
        raise CommandError(
            "no key given: paste the key Gong shows (Show public key) on stdin, or pass --key-file",
            EXIT_USAGE,
        )
    return data


def _bits(key: WebhookKey) -> int:
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    return int(getattr(load_der_public_key(key.der), "key_size", 0))


def _when(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")


def add_key(args: argparse.Namespace) -> int:
    text = _key_text(args.key_file)
    with _store(args) as store:
        before = {key.fingerprint for key in store.webhook_keys(args.customer)}
        try:
            key = store.add_webhook_key(args.customer, text)
        except KeyProblem as problem:
            raise CommandError(f"error: {problem}", EXIT_FINDINGS) from None
    if key.fingerprint in before:
        print(f"customer {args.customer!r} already has key {key.fingerprint}: nothing changed")
    else:
        print(f"added key {key.fingerprint} (RSA {_bits(key)}) for customer {args.customer!r}")
    return EXIT_OK


def list_keys(args: argparse.Namespace) -> int:
    with _store(args) as store:
        customers = [args.customer] if args.customer else store.webhook_key_customers()
        keys = [(customer, key) for customer in customers for key in store.webhook_keys(customer)]
    rows = [
        {
            "customer": customer,
            "fingerprint": key.fingerprint,
            "added_at": _when(key.added_at),
            "bits": _bits(key),
            "public_key": key.public_key,
        }
        for customer, key in keys
    ]
    if args.format == "json":
        emit_json({"keys": rows})
        return EXIT_OK
    if not rows:
        print(
            f"customer {args.customer!r} has no webhook keys"
            if args.customer
            else "no customer has webhook keys"
        )
    for customer, key in keys:
        print(
            f"{escape_controls(customer)}  {key.fingerprint}  RSA {_bits(key)}  "
            f"added {_when(key.added_at)}"
        )
    return EXIT_OK


def remove_key(args: argparse.Namespace) -> int:
    with _store(args) as store:
        try:
            removed = store.remove_webhook_key(args.customer, args.fingerprint)
        except KeyProblem as problem:
            raise CommandError(f"error: --fingerprint: {problem}", EXIT_USAGE) from None
    if not removed:
        raise CommandError(
            f"customer {args.customer!r} has no key {args.fingerprint.strip()} "
            "(see `gong-authlib webhooks list-keys`)",
            EXIT_FINDINGS,
        )
    print(f"removed key {args.fingerprint.strip()} of customer {args.customer!r}")
    return EXIT_OK


def verify(args: argparse.Namespace) -> int:
    body = _read(args.body_file, "body file", MAX_BODY)
    keys: list[WebhookKey] | bytes
    if args.customer is not None:
        with _store(args) as store:
            keys = store.webhook_keys(args.customer)
        if not keys:
            raise CommandError(
                f"customer {args.customer!r} has no webhook keys: add one with "
                "`gong-authlib webhooks add-key`",
                EXIT_FINDINGS,
            )
    else:
        keys = _read(args.public_key_file, "public key file", MAX_KEY_TEXT)
    try:
        webhook = verify_gong_webhook(
            headers={"Authorization": args.authorization},
            body=body,
            url=args.url,
            public_key=keys,
            now=args.at,
        )
    except WebhookRejected as rejected:
        print(f"rejected ({rejected.reason}): {rejected.detail}")
        return EXIT_FINDINGS
    test = " (a test delivery)" if webhook.is_test else ""
    print(f"valid: call {webhook.call_id}{test}, verified by key {webhook.key_fingerprint}")
    return EXIT_OK
