"""Helpers shared by the tests: repository paths and the real CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DATA = REPO_ROOT / "tests" / "data" / "config"


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m gong_authlib`` as a real process, as users and pre-commit do."""
    full_env = {**os.environ, "NO_COLOR": "", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "gong_authlib", *args],
        capture_output=True,
        text=True,
        cwd=cwd or REPO_ROOT,
        env=full_env,
        timeout=timeout,
        check=False,
    )
