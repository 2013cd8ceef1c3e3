"""OAuth states in each token store, side by side with the store's own token put + get.

A web flow costs one ``issue`` (when the browser is sent to Gong, with a purge of expired
states) and one atomic ``consume`` (at the callback). This prints, per store, the p50/p99 of
that pair and of a token ``put`` + ``get`` on the same store, and their ratio: a state round
trip should cost about what a token write and read cost, never more than a few times it.

Usage: ``.venv/bin/python -m benchmarks.states [--samples 1000]``
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks.stores import _factories, _latencies, _pct, _servers, _token

REDIRECT = "https://app.acme.example/oauth/gong/callback"
TOKEN = _token(1)


def rows(samples: int) -> list[tuple[str, float, float, float, float]]:
    found = []
    with _servers() as (redis_server, postgres), tempfile.TemporaryDirectory() as folder:
        for name, factory in _factories(Path(folder), redis_server, postgres).items():
            with factory("states_bench") as store:

                def state_round_trip(i: int) -> object:
                    state = store.issue(customer=f"c{i}", redirect_uri=REDIRECT)
                    return store.consume(state, redirect_uri=REDIRECT)

                def token_round_trip(i: int) -> object:
                    store.put(f"c{i}", TOKEN)
                    return store.get(f"c{i}")

                states = _latencies(state_round_trip, samples)
                tokens = _latencies(token_round_trip, samples)
                found.append(
                    (
                        name,
                        _pct(states, 0.5),
                        _pct(states, 0.99),
                        _pct(tokens, 0.5),
                        _pct(tokens, 0.99),
                    )
                )
    return found


def section(samples: int = 1000) -> list[str]:
    """The markdown section for docs/benchmarks.md."""
    out = [
        f"## OAuth states: issue + consume against token put + get ({samples:,} each)",
        "",
        "| store | state p50 µs | state p99 µs | token p50 µs | token p99 µs | p50 ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, s50, s99, t50, t99 in rows(samples):
        out.append(
            f"| {name} | {s50 * 1e6:,.0f} | {s99 * 1e6:,.0f} | {t50 * 1e6:,.0f} | "
            f"{t99 * 1e6:,.0f} | {s50 / t50:.2f}x |"
        )
    return [*out, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=1000)
    args = parser.parse_args()
    print("\n".join(section(args.samples)))


if __name__ == "__main__":
    main()
