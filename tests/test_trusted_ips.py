"""`integration.trusted_ips`: the addresses Gong accepts the app's API calls and refreshes from.

validate checks every entry with the standard library's ipaddress (errors on their line),
warns about addresses Gong can never see and ranges far too broad, and about a file without
the lists (an error under --strict); environments may override them; plan says what adding or
removing one means for the workers calling from it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gong_authlib import load_config, validate_file
from gong_authlib.config.plan import diff
from gong_authlib.config.trusted_ips import parse_entry
from tests.helpers import GOOD_CONFIG, integration_file, run_cli

TRUSTED = (
    "  trusted_ips:\n"
    "    access_token: [203.0.113.7, 198.51.100.0/24]\n"
    "    refresh_token: [203.0.113.7]\n"
)
ENV = {"GONG_CLIENT_ID": "id", "GONG_CLIENT_SECRET": "s3cret", "GONG_AUTHLIB_KEY": "k" * 43 + "="}


def _with_trusted(block: str) -> str:
    assert TRUSTED in GOOD_CONFIG
    return GOOD_CONFIG.replace(TRUSTED, block)


def _codes(path: Path) -> list[tuple[str, str, int, int]]:
    return [(d.code, d.severity, d.line, d.column) for d in validate_file(path)]


def test_a_file_with_trusted_ips_is_clean_and_loads_them(tmp_path: Path) -> None:
    path = integration_file(tmp_path)
    assert validate_file(path) == []
    trusted = load_config(path, environ=ENV).integration.trusted_ips
    assert trusted is not None
    assert trusted.access_token == ("203.0.113.7", "198.51.100.0/24")
    assert trusted.refresh_token == ("203.0.113.7",)


def test_a_file_without_them_gets_a_warning_and_strict_makes_it_an_error(tmp_path: Path) -> None:
    path = integration_file(tmp_path, _with_trusted(""))
    [finding] = validate_file(path)
    assert (finding.code, finding.severity, finding.line) == ("missing-trusted-ips", "warning", 3)
    assert "Gong requires" in finding.message
    assert load_config(path, environ=ENV).integration.trusted_ips is None
    relaxed = run_cli("validate", str(path))
    assert relaxed.returncode == 0, relaxed.stdout
    strict = run_cli("validate", "--strict", "--format", "json", str(path))
    assert strict.returncode == 1
    [reported] = json.loads(strict.stdout)["diagnostics"]
    assert (reported["code"], reported["severity"]) == ("missing-trusted-ips", "error")
    empty = integration_file(
        tmp_path, _with_trusted("  trusted_ips:\n    access_token: [203.0.113.7]\n"), "empty.yaml"
    )
    [half] = validate_file(empty)
    assert half.code == "missing-trusted-ips"
    assert "refresh_token" in half.message
    assert half.path == "integration.trusted_ips"


def test_each_bad_entry_is_reported_on_its_line(tmp_path: Path) -> None:
    block = (
        "  trusted_ips:\n"
        "    access_token:\n"
        "      - 203.0.113.7\n"  # 27: fine
        "      - 2001:db8::/48\n"  # 28: IPv6 CIDR, fine
        "      - 203.0.113.10-203.0.113.20\n"  # 29: a range, fine
        "      - not-an-ip\n"  # 30
        "      - 198.51.100.0/33\n"  # 31
        "      - 203.0.113.20-203.0.113.10\n"  # 32: backwards
        "      - 203.0.113.1/24\n"  # 33: host bits set
        "      - 203.0.113.7/32\n"  # 34: 27 again
        "      - 10.1.2.0/24\n"  # 35: private
        "      - 127.0.0.1\n"  # 36: loopback
        "      - fe80::1\n"  # 37: link-local
        "      - 0.0.0.0/0\n"  # 38: the whole internet
        "      - 192.0.2.1-2001:db8::1\n"  # 39: mixed versions
        "    refresh_token:\n"
        "      - 2001:db8::1 \n"  # 41: fine (YAML drops the space)
        "      - '203.0.113.9 '\n"  # 42: a space kept by the quotes
        "      - ::/0\n"  # 43: the whole IPv6 internet
    )
    path = integration_file(tmp_path, _with_trusted(block))
    assert _codes(path) == [
        ("invalid-ip", "error", 30, 9),
        ("invalid-ip", "error", 31, 9),
        ("invalid-ip", "error", 32, 9),
        ("invalid-ip", "error", 33, 9),
        ("duplicate-item", "error", 34, 9),
        ("private-ip", "warning", 35, 9),
        ("private-ip", "warning", 36, 9),
        ("private-ip", "warning", 37, 9),
        ("broad-ip-range", "warning", 38, 9),
        ("invalid-ip", "error", 39, 9),
        ("invalid-ip", "error", 42, 9),
        ("broad-ip-range", "warning", 43, 9),
    ]
    messages = {d.line: d.message for d in validate_file(path)}
    assert "the block is 203.0.113.0/24" in messages[33]
    assert "access_token[0]" in messages[34]
    assert "loopback" in messages[36]


def test_ranges_and_blocks_cover_what_they_say() -> None:
    assert [str(n) for n in parse_entry("203.0.113.0-203.0.113.255")] == ["203.0.113.0/24"]
    assert [str(n) for n in parse_entry("2001:db8::-2001:db8::3")] == ["2001:db8::/126"]
    assert [str(n) for n in parse_entry("203.0.113.7")] == ["203.0.113.7/32"]
    refused = {
        "": "empty",
        " 203.0.113.7": "surrounding spaces",
        "203.0.113": "does not appear to be an IPv4 or IPv6 address",
        "203.0.113.7/24": "host bits are set: the block is 203.0.113.0/24",
        "a-b": "does not appear",
    }
    for bad, reason in refused.items():
        with pytest.raises(ValueError, match=reason):
            parse_entry(bad)


def test_environments_override_them(tmp_path: Path) -> None:
    text = GOOD_CONFIG + (
        "environments:\n"
        "  staging:\n"
        "    integration:\n"
        "      trusted_ips:\n"
        "        access_token: [198.51.100.9]\n"
        "        refresh_token: [not-an-ip]\n"
    )
    path = integration_file(tmp_path, text)
    [finding] = validate_file(path)
    assert finding.code == "invalid-ip"
    assert "in environment 'staging'" in finding.message
    assert path.read_text().splitlines()[finding.line - 1].strip() == "refresh_token: [not-an-ip]"
    fixed = integration_file(tmp_path, text.replace("not-an-ip", "198.51.100.9"), "fixed.yaml")
    assert validate_file(fixed) == []
    staging = load_config(fixed, environ=ENV, env="staging").integration.trusted_ips
    assert staging is not None
    assert staging.access_token == ("198.51.100.9",)
    base = load_config(fixed, environ=ENV).integration.trusted_ips
    assert base is not None
    assert base.refresh_token == ("203.0.113.7",)


def test_plan_says_what_each_change_means(tmp_path: Path) -> None:
    new = _with_trusted(
        "  trusted_ips:\n"
        "    access_token: [198.51.100.0/24, 192.0.2.8]\n"
        "    refresh_token: [192.0.2.8]\n"
    )
    integration_file(tmp_path, name="old.yaml")
    integration_file(tmp_path, new, "new.yaml")
    new_path, old_path = str(tmp_path / "new.yaml"), str(tmp_path / "old.yaml")
    result = run_cli("plan", new_path, "--against", old_path, "--format", "json")
    assert result.returncode == 0, result.stderr
    changes = {
        (c["action"], c["path"], str(c["old"] or c["new"])): c["consequence"]
        for c in json.loads(result.stdout)["changes"]
    }
    removed_refresh = changes[("remove", "integration.trusted_ips.refresh_token", "203.0.113.7")]
    assert "can no longer refresh" in removed_refresh
    removed_access = changes[("remove", "integration.trusted_ips.access_token", "203.0.113.7")]
    assert "calls refused" in removed_access
    added = changes[("add", "integration.trusted_ips.refresh_token", "192.0.2.8")]
    assert "accepted" in added
    text = run_cli("plan", new_path, "--against", old_path).stdout
    assert "Trusted IPs" in text
    assert "can no longer refresh" in text
    # A file that gains its first trusted IPs: every address an addition.
    first = diff(None, {"integration": {"trusted_ips": {"access_token": ["203.0.113.7"]}}})
    assert [(c.action, c.path, c.new) for c in first.changes] == [
        ("add", "integration.trusted_ips.access_token", "203.0.113.7")
    ]


def test_a_very_long_entry_is_quoted_cut_short(tmp_path: Path) -> None:
    # ipaddress's reason repeats the whole text: 100,000 characters must not become a
    # message of 200,000 (a pre-commit hook's output flooded by one line).
    entries = ["9" * 100_000, "203.0.113.1-" + "5" * 100_000, "1" * 50_000 + "/" + "2" * 50_000]
    block = (
        "  trusted_ips:\n"
        f"    access_token: [{', '.join(map(repr, entries))}]\n"
        "    refresh_token: [203.0.113.7]\n"
    )
    findings = validate_file(integration_file(tmp_path, _with_trusted(block)))
    assert [d.code for d in findings] == ["invalid-ip"] * 3
    for finding in findings:
        assert len(finding.message) < 400, finding.message[:500]
        assert "characters)" in finding.message
