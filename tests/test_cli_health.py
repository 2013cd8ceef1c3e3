"""Customer health through real processes: `tokens list` statuses, `--status`, `tokens check`."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from gong_authlib.stores import REAUTHORIZATION_REQUIRED, UNTRUSTED_ORIGIN, SQLiteTokenStore
from gong_authlib.testing import FakeGong
from tests.authflow import authorize_into
from tests.cliflow import CliWorld, free_port, make_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[CliWorld]:
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    with FakeGong(redirect_uris=[redirect_uri]) as gong:
        for customer in ("acme", "globex", "initech"):
            gong.add_customer(customer)
        world = make_world(gong, tmp_path, redirect_uri)
        with SQLiteTokenStore(tmp_path / "tokens.db") as store:
            for customer in ("acme", "globex", "initech"):
                authorize_into(gong, store, customer)
        yield world


def _store(world: CliWorld) -> SQLiteTokenStore:
    return SQLiteTokenStore(world.folder / "tokens.db")


def _list(world: CliWorld, *options: str) -> dict[str, dict[str, object]]:
    result = world.run(*world.args("tokens", "list", "--format", "json", *options))
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["format_version"] == "2"
    return {row["customer"]: row for row in payload["customers"]}


def test_a_revoked_customer_shows_since_when_and_why(world: CliWorld) -> None:
    world.gong.revoke("globex")  # the admin uninstalled the app
    refused = world.run(*world.args("tokens", "refresh", "--customer", "globex"))
    assert refused.returncode == 1
    rows = _list(world)
    assert {name: row["status"] for name, row in rows.items()} == {
        "acme": "active",
        "globex": "reauthorization-required",
        "initech": "active",
    }
    globex = rows["globex"]
    assert globex["attention"] is True
    assert str(globex["status_since"]).endswith("+00:00")
    assert globex["status_reason"]  # Gong's error_description, kept by the store
    text = world.run(*world.args("tokens", "list"))
    assert text.returncode == 0, text.stderr
    [line] = [line for line in text.stdout.splitlines() if line.startswith("globex")]
    assert "REAUTHORIZATION-REQUIRED since " in line
    assert str(globex["status_reason"]) in line
    show = world.run(*world.args("tokens", "show", "--customer", "globex"))
    assert re.search(r"^status +reauthorization-required$", show.stdout, re.MULTILINE)
    assert "status_reason" in show.stdout


def test_expired_is_not_attention(world: CliWorld) -> None:
    with _store(world) as store:  # the CLI reads the real clock: a token expired in 1970
        token = store.get("initech")
        assert token is not None
        store.put("initech", replace(token, expires_at=1.0))
    rows = _list(world)
    assert rows["initech"]["status"] == "expired"
    assert rows["initech"]["attention"] is False
    check = world.run(*world.args("tokens", "check"))
    assert check.returncode == 0, check.stdout + check.stderr
    assert "3 customer(s), none needs attention." in check.stdout


def test_status_filter(world: CliWorld) -> None:
    with _store(world) as store:
        store.set_status("acme", UNTRUSTED_ORIGIN, reason="https://evil.example is not Gong")
        store.set_status("globex", REAUTHORIZATION_REQUIRED, reason="Token has been revoked.")
    assert set(_list(world, "--status", "untrusted-origin")) == {"acme"}
    assert set(_list(world, "--status", "reauthorization-required")) == {"globex"}
    assert set(_list(world, "--status", "attention")) == {"acme", "globex"}
    assert set(_list(world, "--status", "active")) == {"initech"}
    assert set(_list(world, "--status", "active", "--status", "untrusted-origin")) == {
        "acme",
        "initech",
    }
    bad = world.run(*world.args("tokens", "list", "--status", "valid"))
    assert bad.returncode == 2
    assert "invalid choice: 'valid'" in bad.stderr


def test_check_exits_1_while_any_customer_needs_attention(world: CliWorld) -> None:
    healthy = world.run(*world.args("tokens", "check", "--format", "json"))
    assert healthy.returncode == 0, healthy.stderr
    report = json.loads(healthy.stdout)
    assert report == {
        "format_version": "2",
        "customers": 3,
        "healthy": True,
        "attention": [],
        "client_credentials": report["client_credentials"],
        "store_reset": None,
    }
    assert report["client_credentials"]["rejected"] is False
    assert report["client_credentials"]["client_id"] == "fakegong-client-id"
    with _store(world) as store:
        store.set_status("acme", UNTRUSTED_ORIGIN, reason="https://evil.example\x1b[2J is not Gong")
    sick = world.run(*world.args("tokens", "check"))
    assert "\x1b" not in sick.stdout  # the reason came from the network: escaped
    assert sick.returncode == 1
    assert sick.stdout.startswith("acme")
    assert "UNTRUSTED-ORIGIN since" in sick.stdout
    assert "1 of 3 customer(s) need attention" in sick.stdout
    as_json = json.loads(world.run(*world.args("tokens", "check", "--format", "json")).stdout)
    assert as_json["healthy"] is False
    assert [row["customer"] for row in as_json["attention"]] == ["acme"]
    # a new token (the admin authorized again) clears the status
    with _store(world) as store:
        authorize_into(world.gong, store, "acme")
    assert world.run(*world.args("tokens", "check")).returncode == 0


def test_an_unreadable_entry_needs_attention(world: CliWorld) -> None:
    with sqlite3.connect(world.folder / "tokens.db") as db:
        db.execute("UPDATE tokens SET data = 'garbage' WHERE customer = 'initech'")
    check = world.run(*world.args("tokens", "check"))
    assert check.returncode == 1
    assert "initech              UNREADABLE" in check.stdout
