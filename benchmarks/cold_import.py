"""Cold import: what a fresh process pays to start using gong-authlib, beside its transport.

Each statement runs in a fresh interpreter, the statements interleaved so that machine noise
hits them alike; a bare interpreter (``pass``) is timed the same way and subtracted, so the
figures are the imports alone. The figure is the best of N (the least disturbed run), the
ratio is ours over the transport's. Usage:

    .venv/bin/python -m benchmarks.cold_import [--runs 15] [--before CHECKOUT]

``--before`` adds the same imports from another checkout of the package (``main`` in a
temporary worktree, say), timed in the same interleaved runs: before and after side by side.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.validate import ROOT

STATEMENTS = {
    "bare interpreter": "pass",
    "import requests": "import requests",
    "import httpx": "import httpx",
    "from gong_authlib import GongAuth, gong_session": (
        "from gong_authlib import GongAuth, gong_session"
    ),
    "from gong_authlib import gong_httpx_client": "from gong_authlib import gong_httpx_client",
}
# (ours, the transport it is measured beside, the target ratio)
PAIRS = (
    ("from gong_authlib import GongAuth, gong_session", "import requests", 1.3),
    ("from gong_authlib import gong_httpx_client", "import httpx", 1.3),
)


def _run(statement: str, root: Path) -> float:
    # ``python -c`` puts the working folder first on sys.path: the package comes from ``root``.
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], check=True, cwd=root)
    return time.perf_counter() - began


def best_times(runs: int, before: Path | None = None) -> dict[str, float]:
    """Best seconds per statement, the bare interpreter's subtracted (the bare one kept);
    with ``before``, our statements from that checkout too, labelled ``before: ...``."""
    jobs = {label: (statement, ROOT) for label, statement in STATEMENTS.items()}
    if before is not None:
        for ours, _, _ in PAIRS:
            jobs[f"before: {ours}"] = (STATEMENTS[ours], before)
    for root in {root for _, root in jobs.values()}:
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(root / "gong_authlib")], check=True
        )
    for statement, root in jobs.values():  # warm the file cache and the .pyc files
        _run(statement, root)
    times: dict[str, list[float]] = {label: [] for label in jobs}
    for _ in range(runs):
        for label, (statement, root) in jobs.items():
            times[label].append(_run(statement, root))
    best = {label: min(values) for label, values in times.items()}
    bare = best["bare interpreter"]
    return {
        label: (value if label == "bare interpreter" else value - bare)
        for label, value in best.items()
    }


def section(runs: int = 15, before: Path | None = None) -> list[str]:
    best = best_times(runs, before)
    out = [
        f"## Cold import beside the transports (issue 24; fresh interpreters, best of {runs})",
        "",
        "Each statement in a fresh interpreter, interleaved; the bare interpreter's start "
        f"({best['bare interpreter'] * 1000:.1f} ms) subtracted.",
        "",
        "| import | ms | beside | ms | ratio | target |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for ours, theirs, target in PAIRS:
        for label in (f"before: {ours}", ours) if before is not None else (ours,):
            ratio = best[label] / best[theirs]
            out.append(
                f"| `{ours}`{' (before)' if label != ours else ''} | {best[label] * 1000:.1f} "
                f"| `{theirs}` | {best[theirs] * 1000:.1f} | {ratio:.2f}x | <= {target}x |"
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--before", type=Path, help="another checkout, timed alongside")
    args = parser.parse_args()
    print("\n".join(section(args.runs, args.before)))


if __name__ == "__main__":
    main()
