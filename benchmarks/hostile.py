"""Hostile integration files against a good one: `gong-authlib validate` as a whole command.

Each hostile file (tests/hostile.py) is timed beside the good file in the same run, so the
ratio says what a hostile pull request costs a pre-commit hook or CI job compared with an
ordinary one; the output size is the flood that was 2.1 GB for the 20,000 contacts. Then
"did you mean" on scope typos: the length filter against comparing every candidate. Usage:

    .venv/bin/python -m benchmarks.hostile [--runs 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gong_authlib.config.diagnostics import did_you_mean, edit_distance
from gong_authlib.gong.scopes import KNOWN_SCOPES
from tests.helpers import integration_file
from tests.hostile import HOSTILE_FILES

BIN = Path(sys.executable).parent


def _run(folder: Path) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "gong-authlib"), "validate", "gong-integration.yaml"],
        cwd=folder,
        capture_output=True,
        check=False,
        timeout=60,
    )
    return time.perf_counter() - start, len(done.stdout) + len(done.stderr)


def _every_candidate(word: str, candidates: list[str]) -> str | None:
    """The unfiltered search, for comparison: every candidate through the full distance."""
    best = min(candidates, key=lambda c: edit_distance(word, c))
    return best if edit_distance(word, best) <= 2 else None


def file_rows(runs: int) -> list[str]:
    """Each hostile file beside the good one, whole `validate` commands interleaved."""
    with tempfile.TemporaryDirectory() as scratch:
        good = Path(scratch) / "good"
        good.mkdir()
        integration_file(good)
        folders = {"good file": good}
        for index, (name, (make, _)) in enumerate(HOSTILE_FILES.items()):
            folder = Path(scratch) / str(index)
            folder.mkdir()
            make(folder)
            folders[name] = folder
        times: dict[str, list[float]] = {name: [] for name in folders}
        sizes: dict[str, int] = {}
        for _ in range(runs):  # interleaved: machine noise hits every file alike
            for name, folder in folders.items():
                seconds, sizes[name] = _run(folder)
                times[name].append(seconds)
        base = statistics.median(times["good file"])
        out = [
            "| file | bytes | median ms | output bytes | ratio to the good file |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, folder in folders.items():
            median = statistics.median(times[name])
            size = (folder / "gong-integration.yaml").stat().st_size
            out.append(
                f"| {name} | {size:,} | {median * 1000:.0f} | {sizes[name]:,} "
                f"| {median / base:.2f}x |"
            )
    return out


def did_you_mean_line() -> str:
    """The length-filtered "did you mean" against comparing every candidate in full."""
    rng = random.Random(16)  # noqa: S311 - benchmark data, not secrets
    scopes = list(KNOWN_SCOPES)
    typos = []
    for _ in range(2000):
        scope = list(rng.choice(scopes))
        scope[rng.randrange(len(scope))] = rng.choice("abcdefghijklmnopqrstuvwxyz:")
        typos.append("".join(scope))
    start = time.perf_counter()
    filtered = [did_you_mean(t, scopes) for t in typos]
    ours = time.perf_counter() - start
    start = time.perf_counter()
    full = [_every_candidate(t, scopes) for t in typos]
    theirs = time.perf_counter() - start
    agree = sum(a == b for a, b in zip(filtered, full, strict=True))
    return (
        f"Did you mean, {len(typos):,} one-edit scope typos against {len(scopes)} scopes: "
        f"length filter {ours * 1e6 / len(typos):.0f} µs each, every candidate "
        f"{theirs * 1e6 / len(typos):.0f} µs each ({ours / theirs:.2f}x); same answer for "
        f"{agree:,} of {len(typos):,}."
    )


def section(runs: int = 5) -> list[str]:
    """The markdown section for docs/benchmarks.md."""
    return [
        f"## Hostile integration files: `validate`, whole command (median of {runs} runs)",
        "",
        *file_rows(runs),
        "",
        did_you_mean_line(),
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print("\n".join(section(args.runs)))


if __name__ == "__main__":
    main()
