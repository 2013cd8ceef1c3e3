"""After a plaintext store is encrypted, its plaintext refresh tokens are spent.

Backups, replicas and archives of the store taken before the migration keep every refresh
token in plaintext, and no store can reach them. Gong's refresh tokens are single-use, so
refreshing every customer once (``tokens refresh --all``) makes those copies worthless.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gong_authlib import ReauthorizationRequired
from gong_authlib.stores import SQLiteTokenStore
from tests.cliflow import CliWorld, authorized_world
from tests.stores import KEY


@pytest.fixture
def world(tmp_path: Path) -> Iterator[CliWorld]:
    """Three customers authorized into a plaintext store; the integration file names a key."""
    with authorized_world(tmp_path, "acme", "globex", "initech") as world:
        text = world.config.read_text()
        world.config.write_text(
            text.replace(
                "  url: sqlite:///tokens.db\n",
                "  url: sqlite:///tokens.db\n  encryption_key: ${env:GONG_AUTHLIB_KEY}\n",
            )
        )
        world.env["GONG_AUTHLIB_KEY"] = KEY.decode()
        yield world


def test_refresh_all_spends_the_plaintext_copies_a_migration_leaves_in_backups(
    world: CliWorld,
) -> None:
    path = world.folder / "tokens.db"
    with SQLiteTokenStore(path) as plain:
        before = {c: plain.get(c) for c in ("acme", "globex", "initech")}
    world.gong.revoke("initech")  # its admin uninstalled the app meanwhile
    with SQLiteTokenStore(path, encryption_keys=[KEY], migrate_plaintext=True) as migrating:
        assert migrating.rotate_encryption() == 3
    result = world.run(*world.args("tokens", "refresh", "--all", "--format", "json"))
    assert result.returncode == 1, result.stderr  # one customer could not be refreshed
    payload = json.loads(result.stdout)
    assert [row["customer"] for row in payload["refreshed"]] == ["acme", "globex"]
    assert list(payload["failed"]) == ["initech"]
    assert "authorize --customer initech" in payload["failed"]["initech"]
    client = world.gong.oauth_client()
    for customer in ("acme", "globex"):
        plaintext_copy = before[customer]
        assert plaintext_copy is not None
        with pytest.raises(ReauthorizationRequired):  # the copy a backup holds is spent
            client.refresh(plaintext_copy, customer=customer)
    with SQLiteTokenStore(path, encryption_keys=[KEY]) as encrypted:
        assert encrypted.get("acme") != before["acme"]
    text = world.run(*world.args("tokens", "refresh", "--all"))
    assert text.returncode == 1
    assert text.stdout.count("Refreshed customer") == 2
    assert "initech" in text.stderr


def test_refresh_needs_a_customer_or_all(world: CliWorld) -> None:
    neither = world.run(*world.args("tokens", "refresh"))
    assert neither.returncode == 2
    assert "--customer" in neither.stderr
    both = world.run(*world.args("tokens", "refresh", "--all", "--customer", "acme"))
    assert both.returncode == 2
