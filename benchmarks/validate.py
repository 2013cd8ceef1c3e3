"""`gong-authlib validate` against `check-jsonschema` on the same file and schema, side by side.

Both run as whole commands, as pre-commit runs them, interleaved so that machine noise hits both
alike; the figure is the ratio of the medians. Usage:

    .venv/bin/python benchmarks/validate.py [--runs 30] [FILE ...]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SCHEMA = ROOT / "schemas" / "gong-integration.schema.json"


def time_command(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("files", nargs="*", default=["config.example.yaml"])
    args = parser.parse_args()
    ours = [str(BIN / "gong-authlib"), "validate", *args.files]
    theirs = [str(BIN / "check-jsonschema"), "--schemafile", str(SCHEMA), *args.files]
    # pip byte-compiles installed packages; an editable checkout may not have .pyc files (and
    # PYTHONDONTWRITEBYTECODE stops them being written), so compile ours as an install would.
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "gong_authlib")], check=True
    )
    for command in (ours, theirs):  # warm the file cache once
        time_command(command)
    ours_times, theirs_times = [], []
    for _ in range(args.runs):
        ours_times.append(time_command(ours))
        theirs_times.append(time_command(theirs))
    ours_median = statistics.median(ours_times)
    theirs_median = statistics.median(theirs_times)
    print(f"python {platform.python_version()}, {platform.machine()}, {args.runs} runs each")
    print(f"files: {' '.join(args.files)}")
    print("| command | median ms | min ms |")
    print("|---|---:|---:|")
    print(f"| gong-authlib validate | {ours_median * 1000:.1f} | {min(ours_times) * 1000:.1f} |")
    print(
        f"| check-jsonschema --schemafile | {theirs_median * 1000:.1f} "
        f"| {min(theirs_times) * 1000:.1f} |"
    )
    print(f"ratio (ours / check-jsonschema, medians): {ours_median / theirs_median:.2f}x")


if __name__ == "__main__":
    main()
