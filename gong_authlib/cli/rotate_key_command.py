"""``gong-authlib tokens rotate-key``: every stored token re-encrypted with the newest key.

A dry look first: every token must decrypt with the configured keys, or nothing is written (a
token only an unconfigured key can read would stay unreadable forever once its key is
dropped). Then, confirmed, the store's own ``rotate_encryption()`` rewrites each token under
the customer's refresh lock, so a rotation never races a refresh.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field

from gong_authlib.cli.common import config_from, emit_json, store_from
from gong_authlib.cli.outcome import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, CommandError
from gong_authlib.config.model import IntegrationConfig
from gong_authlib.errors import ConfigError, GongAuthError
from gong_authlib.stores import TokenStore
from gong_authlib.token import fingerprint

JSON_FORMAT_VERSION = "1"


@dataclass
class RotationPlan:
    store: str
    key_fingerprint: str  # of the newest key, the one every token will be encrypted with
    keys: int
    customers: list[str]
    unreadable: dict[str, str] = field(default_factory=dict)  # customer -> why

    def as_json(self, rotated: int | None) -> dict[str, object]:
        return {
            "format_version": JSON_FORMAT_VERSION,
            "store": self.store,
            "new_key_sha256": self.key_fingerprint,
            "configured_keys": self.keys,
            "tokens": len(self.customers),
            "unreadable": self.unreadable,
            "rotated": rotated,
        }

    def text(self) -> str:
        older = self.keys - 1
        lines = [
            f"Token store {self.store}: {len(self.customers)} stored token(s).",
            f"Each will be re-encrypted with the newest configured key, sha256:"
            f"{self.key_fingerprint} ({older} older key(s) kept for reading).",
        ]
        if self.unreadable:
            lines.append(f"{len(self.unreadable)} token(s) cannot be decrypted with these keys:")
            lines += [f"  {name}: {why}" for name, why in self.unreadable.items()]
        return "\n".join(lines) + "\n"


def _keys(args: argparse.Namespace) -> tuple[IntegrationConfig | None, list[str]]:
    try:
        config = config_from(args, oauth=False)  # re-encrypting calls no Gong
    except ConfigError:
        if args.store:
            config = None
        else:
            raise
    settings = config.token_store if config else None
    keys = [key.reveal() for key in settings.encryption_keys] if settings else []
    if not keys:
        raise CommandError(
            "no encryption key configured: set token_store.encryption_key in the integration "
            "file (newest first), e.g. ${env:GONG_AUTHLIB_KEYS} holding 'NEW,OLD'",
            EXIT_USAGE,
        )
    return config, keys


def _look(store: TokenStore, keys: list[str]) -> RotationPlan:
    plan = RotationPlan(store.location, fingerprint(keys[0]), len(keys), store.customers())
    for customer in plan.customers:
        try:
            store.get(customer)
        except GongAuthError as exc:  # a wrong key, or a damaged entry: either way, stop
            plan.unreadable[customer] = str(exc)
    return plan


def _confirmed(args: argparse.Namespace, plan: RotationPlan) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise CommandError("refusing to rewrite the store without confirmation: pass --yes", 2)
    answer = input(
        f"Re-encrypt {len(plan.customers)} token(s) with key sha256:{plan.key_fingerprint}? [y/N] "
    )
    return answer.strip().lower() in ("y", "yes")


def run(args: argparse.Namespace) -> int:
    config, keys = _keys(args)
    with store_from(args, config) as store:
        plan = _look(store, keys)
        if args.format == "text":
            sys.stdout.write(plan.text())
        if plan.unreadable:
            if args.format == "json":
                emit_json(plan.as_json(rotated=None))
            raise CommandError(
                f"refusing to rotate: {len(plan.unreadable)} token(s) cannot be decrypted with "
                "the configured keys; nothing was changed. Configure the key they were written "
                "with as an older key (after the newest) and run again."
            )
        if not plan.customers or not _confirmed(args, plan):
            if args.format == "json":
                emit_json(plan.as_json(rotated=0))
            else:
                sys.stdout.write("Nothing changed.\n")
            return EXIT_OK if not plan.customers else EXIT_FINDINGS
        rotated = store.rotate_encryption()
    if args.format == "json":
        emit_json(plan.as_json(rotated=rotated))
    else:
        sys.stdout.write(
            f"Re-encrypted {rotated} token(s) with key sha256:{plan.key_fingerprint}. Older keys "
            "can now be dropped from every app that reads this store.\n"
        )
    return EXIT_OK
