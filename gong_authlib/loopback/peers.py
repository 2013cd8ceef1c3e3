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
import time
from pathlib import Path

_TABLES = {socket.AF_INET: Path("/proc/net/tcp"), socket.AF_INET6: Path("/proc/net/tcp6")}


def _proc_endpoint(family: socket.AddressFamily, host: str, port: int) -> str:
    """An address as the kernel prints it there: 32-bit words in host byte order, then port."""
    packed = socket.inet_pton(family, host)
    words = (int.from_bytes(packed[i : i + 4], sys.byteorder) for i in range(0, len(packed), 4))
    return "".join(f"{word:08X}" for word in words) + f":{port:04X}"


def _owners(family: socket.AddressFamily, server: str) -> dict[str, int]:
    """Every connection to ``server`` (as the kernel prints it) now: client end -> its uid."""
    table = _TABLES.get(family)
    if table is None:
        return {}
    try:
        rows = table.read_text().splitlines()[1:]
    except OSError:
        return {}
    owners: dict[str, int] = {}
    for row in rows:
        fields = row.split()
        # sl local_address rem_address st tx:rx tr:when retrnsmt uid ...; a TIME_WAIT (06)
        # row of an earlier connection may share the ports and is owned by no one (uid 0).
        if len(fields) > 7 and fields[2] == server and fields[3] != "06" and fields[7].isdigit():
            owners[fields[1]] = int(fields[7])
    return owners


def loopback_peer_uid(
    family: socket.AddressFamily, client: tuple[str, int], server: tuple[str, int]
) -> int | None:
    """The uid owning the client end of the connection ``client`` -> ``server``, or None."""
    try:
        local = _proc_endpoint(family, *client)
        remote = _proc_endpoint(family, *server)
    except (OSError, ValueError):
        return None
    return _owners(family, remote).get(local)


class PeerOwners:
    """:func:`loopback_peer_uid` for a server accepting connections one after another.

    Reading the kernel's table costs milliseconds (it lists every TCP socket of the machine),
    so one reading per connection would let a burst of connections queue the browser's
    behind them. One reading names the owner of every connection waiting to be accepted: it
    is kept for the next connections, each entry used once and the whole for ``fresh_for``
    seconds, so a client port reused since cannot inherit an earlier connection's owner.
    """

    def __init__(
        self, family: socket.AddressFamily, server: tuple[str, int], *, fresh_for: float = 0.25
    ) -> None:
        self._family = family
        self._server = _proc_endpoint(family, *server)
        self._fresh_for = fresh_for
        self._owners: dict[str, int] = {}
        self._read_at = -fresh_for

    def uid(self, client: tuple[str, int]) -> int | None:
        """The uid owning ``client``'s end of its connection to the server, or None."""
        try:
            local = _proc_endpoint(self._family, *client)
        except (OSError, ValueError):
            return None
        if time.monotonic() - self._read_at > self._fresh_for or local not in self._owners:
            self._owners = _owners(self._family, self._server)
            self._read_at = time.monotonic()
        return self._owners.pop(local, None)
