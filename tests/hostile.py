"""Hostile integration files, generated (some are large, so none is committed).

Shared by tests/test_validate_hostile.py (the bounds) and the reliability suite (the counts
in docs/reliability.md).
"""

from __future__ import annotations

import itertools
import os
import string
from collections.abc import Callable
from pathlib import Path

from tests.helpers import GOOD_CONFIG, integration_file

CONTACTS = "  contacts:\n    - integrations@acme.example\n"
SCOPE = "    - api:users:read\n"


def _with(old: str, new: str, text: str = GOOD_CONFIG) -> str:
    assert old in text
    return text.replace(old, new, 1)


def bad_contacts(folder: Path, count: int = 20_000) -> Path:
    contacts = ", ".join(f"x{i}" for i in range(count))
    return integration_file(folder, _with(CONTACTS, f"  contacts: [{contacts}]\n"))


def long_line(folder: Path, count: int = 3000) -> Path:
    before = ", ".join(f"a{i}@acme.example" for i in range(count))
    after = ", ".join(f"b{i}@acme.example" for i in range(count))
    return integration_file(
        folder, _with(CONTACTS, f"  contacts: [{before}, not-an-email, {after}]\n")
    )


def long_scope(folder: Path, length: int = 100_000) -> Path:
    return integration_file(folder, _with(SCOPE, f"    - api:users:{'r' * length}\n"))


def many_environments(folder: Path, count: int = 20_000) -> Path:
    environments = "".join(
        f"  e{i}:\n    integration:\n      name: Env {i}\n" for i in range(count)
    )
    return integration_file(folder, GOOD_CONFIG + "environments:\n" + environments)


def near_miss_scopes_in_environments(
    folder: Path, count: int = 3000, environments: int = 50
) -> Path:
    """Scopes two letters off Gong's (each a "did you mean" search), checked per environment."""
    letters = string.ascii_lowercase + string.digits + "-"
    tails = {
        "".join(letters_at.get(k, c) for k, c in enumerate("basic"))
        for i, j in itertools.combinations(range(5), 2)
        for a in letters
        for b in letters
        if (letters_at := {i: a, j: b})
    } - {"basic"}
    scopes = "".join(f"    - api:calls:read:{tail}\n" for tail in sorted(tails)[:count])
    overrides = "".join(
        f"  e{i}:\n    oauth:\n      validity_duration: 86400\n" for i in range(environments)
    )
    text = _with(SCOPE, SCOPE + scopes) + "environments:\n" + overrides
    return integration_file(folder, text)


def many_trusted_ips(folder: Path, count: int = 20_000) -> Path:
    """Distinct public addresses, then one repeated at the end (a duplicate to position)."""
    addresses = [f"8.{i // 65536}.{i // 256 % 256}.{i % 256}" for i in range(count)]
    listed = ", ".join([*addresses, addresses[count // 2]])
    trusted = "    access_token: [203.0.113.7, 198.51.100.0/24]\n"
    return integration_file(folder, _with(trusted, f"    access_token: [{listed}]\n"))


def fifo_logo(folder: Path) -> Path:
    path = integration_file(folder)
    (folder / "assets" / "logo-small.png").unlink()
    os.mkfifo(folder / "assets" / "logo-small.png")
    return path


def huge_integer(folder: Path, digits: int = 5000) -> Path:
    return integration_file(folder, _with("version: 1", "version: " + "9" * digits))


def terminal_escapes(folder: Path) -> Path:
    name = '  name: "Acme \\e]0;pwned\\a\\e[2J\\u202e"\n'
    return integration_file(folder, _with("  name: Acme Call Notes\n", name))


# name -> (how it is made, described for docs/reliability.md)
HOSTILE_FILES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "bad contacts": (bad_contacts, "one line with 20,000 bad contacts"),
    "long line": (long_line, "one bad contact amid 6,000 good ones on one line"),
    "long scope": (long_scope, "a 100,000-character scope"),
    "environments": (many_environments, "20,000 environments"),
    "near-miss scopes": (
        near_miss_scopes_in_environments,
        "3,000 near-miss scopes in a file with 50 environments",
    ),
    "trusted IPs": (many_trusted_ips, "20,000 trusted IP addresses, the last a duplicate"),
    "fifo logo": (fifo_logo, "a logo path that is a named pipe"),
    "huge integer": (huge_integer, "a 5,000-digit integer"),
    "escapes": (terminal_escapes, "terminal escapes and a bidi override in the name"),
}
