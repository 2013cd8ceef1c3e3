"""Which local user opened a loopback TCP connection (Linux), so the command line's loopback
server can turn away other users' programs.

A browser's command line, and so the start URL ``authorize`` opens, is readable by every
local user; a one-time URL alone loses the race against another user's program that polls
the process list. On Linux the kernel lists every TCP socket with the uid that created it in
``/proc/net/tcp`` and ``/proc/net/tcp6`` (readable by all, documented in the kernel's
``proc_net_tcp`` notes), so the server can look up the client end of each connection.
Elsewhere, or when the connection is not listed, the answer is "unknown" (None).
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

_TABLES = {socket.AF_INET: Path("/proc/net/tcp"), socket.AF_INET6: Path("/proc/net/tcp6")}


def _proc_endpoint(family: socket.AddressFamily, host: str, port: int) -> str:
    """An address as the kernel prints it there: 32-bit words in host byte order, then port."""
    packed = socket.inet_pton(family, host)
    words = (int.from_bytes(packed[i : i + 4], sys.byteorder) for i in range(0, len(packed), 4))
    return "".join(f"{word:08X}" for word in words) + f":{port:04X}"


def loopback_peer_uid(
    family: socket.AddressFamily, client: tuple[str, int], server: tuple[str, int]
) -> int | None:
    """The uid owning the client end of the connection ``client`` -> ``server``, or None."""
    table = _TABLES.get(family)
    if table is None:
        return None
    try:
        rows = table.read_text().splitlines()[1:]
        local = _proc_endpoint(family, *client)
        remote = _proc_endpoint(family, *server)
    except (OSError, ValueError):
        return None
    for row in rows:
        fields = row.split()
        # sl local_address rem_address st tx:rx tr:when retrnsmt uid ...; a TIME_WAIT (06)
        # row of an earlier connection may share the ports and is owned by no one (uid 0).
        if len(fields) > 7 and fields[1] == local and fields[2] == remote and fields[3] != "06":
            try:
                return int(fields[7])
            except ValueError:
                return None
    return None
