"""The pre-commit path must not pay for the HTTP side of the library."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers import REPO_ROOT

HEAVY = ("requests", "authlib", "urllib3", "sqlite3", "redis", "psycopg", "cryptography")

PROBE = """
import json, sys
from gong_authlib.cli import main
code = main([*sys.argv[1:], "validate", "--format", "json", "config.example.yaml"])
loaded = sorted({m.split(".")[0] for m in sys.modules})
print(json.dumps({"code": code, "loaded": loaded}))
"""


def _probe(*options: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *options],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=True,
    )
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["code"] == 0
    loaded: list[str] = report["loaded"]
    assert "jsonschema" in loaded, "the probe really validated"
    return loaded


def test_validate_imports_no_http_or_store_code() -> None:
    loaded = _probe()
    assert [name for name in HEAVY if name in loaded] == []
    assert "logging" not in loaded  # no log record can exist, so no handler is set up


def test_validate_sets_up_logging_only_when_asked() -> None:
    loaded = _probe("-v")
    assert "logging" in loaded
    assert [name for name in HEAVY if name in loaded] == []


def test_importing_the_package_is_lazy() -> None:
    probe = (
        "import json, sys, gong_authlib; gong_authlib.validate_file;"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    loaded = json.loads(result.stdout)
    assert "gong_authlib" in loaded
    assert [name for name in HEAVY if name in loaded] == []
