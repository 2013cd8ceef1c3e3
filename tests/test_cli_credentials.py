"""`gong-authlib credentials check` as a real process against FakeGong: it proves Gong accepts
the configured client ID and secret without spending any customer's grant."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gong_authlib import GongAuth, SQLiteTokenStore
from gong_authlib.token import fingerprint
from tests.cliflow import CliWorld, authorized_world
from tests.helpers import run_cli


@pytest.fixture
def world(tmp_path: Path) -> Iterator[CliWorld]:
    with authorized_world(tmp_path, "acme") as world:
        yield world


def _no_grant_spent(world: CliWorld) -> None:
    stats = world.gong.stats
    assert stats.refreshes() == 0
    assert stats.invalid_grant["acme"] == 0
    # The customer's refresh token is untouched: it still refreshes.
    with SQLiteTokenStore(world.folder / "tokens.db") as store:
        GongAuth(world.gong.oauth_client(), store, "acme").refresh()
    assert stats.refreshes("acme") == 1


def test_the_right_secret_is_accepted(world: CliWorld) -> None:
    secret = world.env["GONG_CLIENT_SECRET"]
    text = world.run(*world.args("credentials", "check"))
    assert text.returncode == 0, text.stderr
    assert f"sha256:{fingerprint(secret)}" in text.stdout
    assert "accepts" in text.stdout
    result = world.run(*world.args("credentials", "check", "--format", "json"))
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["accepted"] is True
    assert payload["client_id"] == world.gong.client_id
    assert payload["secret_sha256"] == fingerprint(secret)
    assert secret not in text.stdout + text.stderr + result.stdout + result.stderr
    assert sum(world.gong.stats.invalid_client.values()) == 0
    _no_grant_spent(world)


def test_a_revoked_secret_is_rejected_by_its_fingerprint(world: CliWorld) -> None:
    old = world.env["GONG_CLIENT_SECRET"]
    new = world.gong.rotate_secret(grace_hours=0)
    text = world.run(*world.args("credentials", "check"))
    assert text.returncode == 1
    assert f"sha256:{fingerprint(old)}" in text.stdout
    assert "invalid_client" in text.stdout
    payload = json.loads(world.run(*world.args("credentials", "check", "--format", "json")).stdout)
    assert payload["accepted"] is False
    assert payload["secret_sha256"] == fingerprint(old)
    assert old not in text.stdout + text.stderr
    assert world.gong.stats.invalid_client[fingerprint(old)] == 2
    # Deployed: the new secret passes; inside a grace period, both do.
    world.env["GONG_CLIENT_SECRET"] = new
    assert world.run(*world.args("credentials", "check")).returncode == 0
    newer = world.gong.rotate_secret(grace_hours=24)
    assert world.run(*world.args("credentials", "check")).returncode == 0
    world.env["GONG_CLIENT_SECRET"] = newer
    assert world.run(*world.args("credentials", "check")).returncode == 0
    _no_grant_spent(world)


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    missing = run_cli("credentials", "check", "--config", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr
    bad = run_cli("credentials", "check", "--format", "yaml")
    assert bad.returncode == 2
    assert run_cli("credentials").returncode == 2
    helped = run_cli("credentials", "check", "--help")
    assert helped.returncode == 0
    assert "examples:\n  gong-authlib credentials check" in helped.stdout


def test_the_store_settings_need_not_be_set(world: CliWorld) -> None:
    # The check calls only Gong's token endpoint: a machine without the store's key or URL
    # (an operator's laptop, a deploy job) can still run it.
    text = world.config.read_text().replace(
        "  url: sqlite:///tokens.db\n",
        "  url: ${env:UNSET_STORE_URL}\n  encryption_key: ${env:UNSET_STORE_KEY}\n",
    )
    assert text != world.config.read_text()
    world.config.write_text(text)
    result = world.run(*world.args("credentials", "check"))
    assert result.returncode == 0, result.stderr
    assert "accepts" in result.stdout
