"""One rate reservation on PostgreSQL, before and after issue 24, side by side in one run.

*Before* is the Python step in a transaction (``SteppedRateBudget.rate_reserve``: BEGIN, SET,
SELECT ... FOR UPDATE, UPDATE, COMMIT), still the code every stepped store inherits and that
PostgreSQL now overrides; *after* is ``PostgresTokenStore.rate_reserve`` (one call of the
``{prefix}_rate_reserve`` function). Redis was already one ``EVALSHA``: its row is today's
script, for scale. Each row reserves for one customer, alone and with 100 clients (4 processes
x 25 threads) at once; the two ways alternate per process run on the same server. Usage:

    .venv/bin/python -m benchmarks.reservation [COUNT]
"""

from __future__ import annotations

import sys

from benchmarks.fleet import reservation_cost
from benchmarks.stores import _servers

# label -> benchmarks.fleet's way of reserving
WAYS = {
    "before: Python step in a transaction": "stepped",
    "after: one function call": "store",
}


def section(count: int = 500) -> list[str]:
    out = [
        "## PostgreSQL rate reservation in one round trip (issue 24), µs",
        "",
        f"{count} reservations per client for one customer (the worst case: one row); 100 "
        "clients are 4 processes x 25 threads reserving at once. Before and after run "
        "alternately on the same server in one run.",
        "",
        "| store, way | 1 client p50 | 1 client p99 | 100 clients p50 | 100 clients p99 |",
        "|---|---:|---:|---:|---:|",
    ]
    with _servers() as (redis_server, postgres):
        rows: dict[str, list[tuple[float, float]]] = {}
        if postgres is not None:
            for shape in ((1, 1, count), (4, 25, max(20, count // 25))):
                for label, way in WAYS.items():
                    rows.setdefault(f"postgres, {label}", []).append(
                        reservation_cost(postgres.dsn(), *shape, way=way)
                    )
        if redis_server is not None:
            for shape in ((1, 1, count), (4, 25, max(20, count // 25))):
                rows.setdefault("redis, one EVALSHA (unchanged)", []).append(
                    reservation_cost(redis_server.url, *shape)
                )
    for label, ((p50, p99), (many50, many99)) in rows.items():
        out.append(
            f"| {label} | {p50 * 1e6:,.0f} | {p99 * 1e6:,.0f} "
            f"| {many50 * 1e6:,.0f} | {many99 * 1e6:,.0f} |"
        )
    before, after = (rows.get(f"postgres, {label}") for label in WAYS)
    if before and after:
        out += [
            "",
            f"After / before, p50: one client {after[0][0] / before[0][0]:.2f}x, "
            f"100 clients {after[1][0] / before[1][0]:.2f}x (target at one client: <= 0.5x).",
        ]
    return out


if __name__ == "__main__":
    print("\n".join(section(int(sys.argv[1]) if len(sys.argv) > 1 else 500)))
