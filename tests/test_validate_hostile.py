"""Hostile integration files: validate ends in bounded time with bounded output.

Each file is generated here (some are large). The bounds are enforced on a real subprocess:
a timeout (the process is killed, the exit code is lost) and an output budget (reading stops).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gong_authlib.config.diagnostics import did_you_mean, distance_within, edit_distance
from gong_authlib.gong.scopes import KNOWN_SCOPES
from tests.helpers import run_cli_bounded
from tests.hostile import (
    bad_contacts,
    fifo_logo,
    long_line,
    long_scope,
    many_environments,
    many_trusted_ips,
    near_miss_scopes_in_environments,
)

TIMEOUT = 20.0
MAX_OUTPUT = 200_000


def _validate(folder: Path, *extra: str) -> tuple[int | None, str]:
    code, output = run_cli_bounded(
        "validate",
        *extra,
        "gong-integration.yaml",
        cwd=folder,
        timeout=TIMEOUT,
        max_output=MAX_OUTPUT,
    )
    assert code is not None, "validate was killed after the timeout"
    assert len(output) <= MAX_OUTPUT, "validate flooded its output"
    return code, output.decode()


def test_twenty_thousand_bad_contacts_on_one_line(tmp_path: Path) -> None:
    bad_contacts(tmp_path)
    for fmt in ("text", "github"):
        code, output = _validate(tmp_path, "--format", fmt)
        assert code == 1
        assert "19,980 more invalid-email findings in gong-integration.yaml not shown" in output
    code, output = _validate(tmp_path, "--format", "json")
    payload = json.loads(output)
    assert payload["error_count"] == 20_000
    assert len(payload["diagnostics"]) == 20
    assert payload["omitted"] == [
        {"file": "gong-integration.yaml", "code": "invalid-email", "count": 19_980}
    ]


def test_a_snippet_of_a_long_line_is_cut_around_the_column(tmp_path: Path) -> None:
    long_line(tmp_path)
    code, output = _validate(tmp_path)
    assert code == 1
    snippet = [line for line in output.splitlines() if " | " in line and "not-an-email" in line]
    assert len(snippet) == 1, output[:2000]
    assert len(snippet[0]) < 200
    caret = next(line for line in output.splitlines() if line.strip().endswith("^"))
    assert snippet[0][caret.index("^") :].startswith("not-an-email")


def test_a_hundred_thousand_character_scope(tmp_path: Path) -> None:
    long_scope(tmp_path)
    code, output = _validate(tmp_path)
    assert code == 1
    assert "unknown-scope" in output
    assert len(output) < 5_000, "the scope is not echoed whole"


def test_twenty_thousand_environments(tmp_path: Path) -> None:
    many_environments(tmp_path)
    code, output = _validate(tmp_path)
    assert code == 1
    assert "too-many-environments" in output


def test_near_miss_scopes_checked_in_every_environment(tmp_path: Path) -> None:
    # Each unknown scope used to cost a "did you mean" search, once per environment: this
    # 85 KB file took 60 s. Suggestions are now looked for a bounded number of times.
    near_miss_scopes_in_environments(tmp_path)
    code, output = _validate(tmp_path)
    assert code == 1
    # Most are typos of api:calls:read:basic; the ones with a leading or doubled hyphen are
    # not shaped like a scope at all (scope-typo and unknown-scope since issue 15).
    assert "2,810 more scope-typo findings in gong-integration.yaml not shown" in output
    assert "150 more unknown-scope findings in gong-integration.yaml not shown" in output
    assert "did you mean 'api:calls:read:basic'?" in output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_twenty_thousand_trusted_ips(tmp_path: Path) -> None:
    # Each entry was compared with every earlier one: 20,000 took about 40 s.
    many_trusted_ips(tmp_path)
    code, output = _validate(tmp_path, "--format", "json")
    assert code == 1
    [duplicate] = json.loads(output)["diagnostics"]
    assert duplicate["code"] == "duplicate-item"
    assert duplicate["path"] == "integration.trusted_ips.access_token[20000]"
    assert "already listed at access_token[10000]" in duplicate["message"]


def test_a_logo_that_is_a_named_pipe(tmp_path: Path) -> None:
    path = fifo_logo(tmp_path)
    code, output = _validate(path.parent)
    assert code == 1
    assert "logo 'assets/logo-small.png' is a special file (pipe, device or socket)" in output


def test_did_you_mean_skips_far_lengths() -> None:
    assert did_you_mean("api:users:reed", list(KNOWN_SCOPES)) == "api:users:read"
    assert did_you_mean("api:users:" + "r" * 100_000, list(KNOWN_SCOPES)) is None
    assert did_you_mean("api:calls:read", list(KNOWN_SCOPES)) == "api:calls:read:basic"


def test_distance_within_agrees_with_the_full_distance() -> None:
    import itertools
    import random

    rng = random.Random(7)
    words = ["", "a", "ab", "api:users:read", "api:calls:read:basic", "kitten", "sitting"]
    words += ["".join(rng.choice("ab:") for _ in range(rng.randrange(12))) for _ in range(60)]
    for a, b in itertools.product(words, repeat=2):
        full = edit_distance(a, b)
        for limit in (0, 1, 2, 3):
            assert distance_within(a, b, limit) == (full if full <= limit else None), (a, b)
