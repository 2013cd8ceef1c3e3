"""Naming the owner of each connection a burst brings to the ``authorize`` loopback server.

The server checks who opened each connection as it accepts it, from the kernel's TCP table
(``/proc/net/tcp``), which lists every TCP socket of the machine and costs milliseconds to
read. Side by side: one reading per connection (``loopback_peer_uid``) against
``PeerOwners``, which reads once for every connection already waiting. Prints the seconds
each takes to name a burst's owners, and their ratio. Linux only.

Usage: ``.venv/bin/python -m benchmarks.loopback_peers [--connections 300]``
"""

from __future__ import annotations

import argparse
import socket
import time
from pathlib import Path

from gong_authlib.loopback.peers import PeerOwners, loopback_peer_uid


def _burst(count: int) -> tuple[socket.socket, list[socket.socket], list[tuple[str, int]]]:
    listener = socket.create_server(("127.0.0.1", 0), backlog=count)
    clients = [socket.create_connection(listener.getsockname()) for _ in range(count)]
    accepted = [listener.accept() for _ in range(count)]
    for connection, _ in accepted:
        connection.close()
    return listener, clients, [(str(addr[0]), int(addr[1])) for _, addr in accepted]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=300)
    args = parser.parse_args()
    if not Path("/proc/net/tcp").exists():
        raise SystemExit("no /proc/net/tcp: Linux only")
    listener, clients, peers = _burst(args.connections)
    server = listener.getsockname()
    try:
        start = time.perf_counter()
        each = [loopback_peer_uid(socket.AF_INET, peer, server) for peer in peers]
        per_connection = time.perf_counter() - start
        owners = PeerOwners(socket.AF_INET, server)
        start = time.perf_counter()
        batched = [owners.uid(peer) for peer in peers]
        per_burst = time.perf_counter() - start
    finally:
        for client in clients:
            client.close()
        listener.close()
    assert each == batched, "both ways must name the same owners"
    rows = len(Path("/proc/net/tcp").read_text().splitlines()) - 1
    print(f"{args.connections} connections, {rows} rows in /proc/net/tcp")
    print(f"one reading per connection: {per_connection:.3f} s")
    print(f"one reading per burst:      {per_burst:.3f} s")
    print(f"ratio: {per_connection / per_burst:.0f}x")


if __name__ == "__main__":
    main()
