"""Skips for tests that need a program from the system, which CI turns into failures.

Locally a missing ``redis-server`` or ``chromium`` skips with the reason; ``.ci/run`` installs
them and sets GONG_AUTHLIB_REQUIRE_SERVICES=1, under which a missing one fails instead.
"""

from __future__ import annotations

import os
import shutil

import pytest


def require_programs(*names: str) -> dict[str, str]:
    found = {name: shutil.which(name) for name in names}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        reason = f"needs {', '.join(missing)} on PATH (CI installs them)"
        if os.environ.get("GONG_AUTHLIB_REQUIRE_SERVICES") == "1":
            pytest.fail(f"GONG_AUTHLIB_REQUIRE_SERVICES=1 but this test {reason}")
        pytest.skip(reason)
    return {name: path for name, path in found.items() if path is not None}
