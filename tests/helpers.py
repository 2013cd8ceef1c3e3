"""Helpers shared by the tests: repository paths and the real CLI in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DATA = REPO_ROOT / "tests" / "data" / "config"
GOOD_CONFIG = (CONFIG_DATA / "good.yaml").read_text()


def integration_file(
    folder: Path, text: str = GOOD_CONFIG, name: str = "gong-integration.yaml"
) -> Path:
    """Write an integration file into ``folder``, beside the test logos it refers to."""
    shutil.copytree(CONFIG_DATA / "assets", folder / "assets", dirs_exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


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


def run_cli_bounded(
    *args: str, cwd: Path, timeout: float, max_output: int
) -> tuple[int | None, bytes]:
    """Run the CLI, stopping it after ``timeout`` seconds or ``max_output`` bytes of output.

    For hostile inputs: a flood or a hang shows as a None exit code (killed) or as output of
    ``max_output + 1`` bytes, without the test holding gigabytes or waiting forever.
    """
    env = {**os.environ, "NO_COLOR": ""}
    with subprocess.Popen(
        [sys.executable, "-m", "gong_authlib", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=cwd,
        env=env,
    ) as process:
        assert process.stdout is not None
        output = bytearray()
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            while len(output) <= max_output:
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:
                    break
                output += chunk
            if len(output) > max_output:
                process.kill()
            code = process.wait()
        finally:
            timer.cancel()
        killed = code < 0
        return (None if killed else code), bytes(output[: max_output + 1])


@contextmanager
def serve_on_loopback(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` answering on a free loopback port, for a server a test writes itself (one
    that echoes, records or pages); yields its origin, and stops it on the way out."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
