"""Webhook verifications per second on one core, beside PyJWT's ``decode`` of the same token.

One delivery signed as Gong signs it (FakeGong's signer: RS256, 2048-bit key). Ours is the
whole ``verify_gong_webhook``: size checks, the key (read once, then cached), the header
policy, the RSA signature, ``exp``, ``body_sha256`` over the raw body and the URL. PyJWT's is
``jwt.decode(token, key, algorithms=["RS256"])`` with the key already loaded (its fastest
use), which checks the signature and ``exp`` only. Both are dominated by the RSA verify, so
the target is within 1.2x. Rounds are interleaved and the best round is reported (slower
rounds measure the machine's other work). Also: how fast hostile deliveries are refused.

Usage: ``.venv/bin/python -m benchmarks.webhooks [--calls 3000] [--rounds 7]``
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_der_public_key

from gong_authlib import WebhookRejected, verify_gong_webhook
from gong_authlib.testing.webhook_signer import WebhookSigner

URL = "https://app.example.com/gong/webhook/acme"


@contextlib.contextmanager
def _one_core() -> Iterator[str]:
    """This process pinned to one CPU while measuring, so "per second" means per core."""
    if not hasattr(os, "sched_setaffinity"):
        yield "not pinned"
        return
    before = os.sched_getaffinity(0)
    cpu = min(before)
    os.sched_setaffinity(0, {cpu})
    try:
        yield f"pinned to CPU {cpu}"
    finally:
        os.sched_setaffinity(0, before)


def _best_rate(
    candidates: dict[str, Callable[[], Any]], calls: int, rounds: int
) -> dict[str, float]:
    best = dict.fromkeys(candidates, float("inf"))
    for _ in range(rounds):
        for name, call in candidates.items():
            start = time.perf_counter()
            for _ in range(calls):
                call()
            best[name] = min(best[name], (time.perf_counter() - start) / calls)
    return {name: 1 / seconds for name, seconds in best.items()}


def _refusal_us(headers: dict[str, str], body: bytes, key: str, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        with contextlib.suppress(WebhookRejected):
            verify_gong_webhook(headers=headers, body=body, url=URL, public_key=key)
    return (time.perf_counter() - start) / calls * 1e6


def section(calls: int = 3000, rounds: int = 7) -> list[str]:
    with _one_core() as pinned:
        return _section(calls, rounds, pinned)


def _section(calls: int, rounds: int, pinned: str) -> list[str]:
    signer = WebhookSigner(time.time)
    key = signer.public_key("acme")
    delivery = signer.sign(
        URL, {"isTest": False, "callData": {"metaData": {"id": "1"}}}, customer="acme"
    )
    token = delivery.headers["Authorization"]
    loaded = load_der_public_key(base64.b64decode(key))

    def ours() -> Any:
        return verify_gong_webhook(
            headers=delivery.headers, body=delivery.body, url=URL, public_key=key
        )

    def pyjwt() -> Any:
        return jwt.decode(token, loaded, algorithms=["RS256"])  # type: ignore[arg-type]

    assert ours().call_id == "1"
    assert pyjwt()["webhook_url"] == URL
    rates = _best_rate({"verify_gong_webhook": ours, "PyJWT decode": pyjwt}, calls, rounds)
    ratio = rates["PyJWT decode"] / rates["verify_gong_webhook"]
    huge = {"Authorization": "e" * 1_000_000}
    garbage = {"Authorization": "a.b.c"}
    return [
        "## Webhook verification: verify_gong_webhook beside PyJWT decode (issue 22)",
        "",
        f"One RS256 delivery (2048-bit key), {calls:,} calls a round, best of {rounds} "
        f"interleaved rounds, one core ({pinned}).",
        "",
        "| verifier | what it checks | verifications/s | µs each |",
        "|---|---|---:|---:|",
        f"| verify_gong_webhook | signature, header policy, exp, body_sha256, URL | "
        f"{rates['verify_gong_webhook']:,.0f} | {1e6 / rates['verify_gong_webhook']:.1f} |",
        f"| PyJWT `jwt.decode` (key preloaded) | signature, exp | "
        f"{rates['PyJWT decode']:,.0f} | {1e6 / rates['PyJWT decode']:.1f} |",
        "",
        f"Ratio (PyJWT rate / ours): {ratio:.2f}x (target: within 1.20x).",
        "",
        "Refusals: a 1 MB Authorization header "
        f"{_refusal_us(huge, delivery.body, key, 200):,.1f} µs; a garbage JWT "
        f"{_refusal_us(garbage, delivery.body, key, 2000):,.1f} µs.",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print("\n".join(section(args.calls, args.rounds)))


if __name__ == "__main__":
    main()
