"""``integration.trusted_ips``: the addresses Gong accepts the app's calls from.

Gong requires them for OAuth integrations (Gong's "Configure trusted IPs for your integration",
October 2026), in two lists: ``access_token`` (every API call is checked against it) and
``refresh_token`` (the token endpoint's refreshes). Each entry is an IPv4 or IPv6 address, a
CIDR block or a ``first-last`` range, as Gong's form takes them, one per line. They are enforced
as soon as they are saved: a worker calling from an address not listed is refused at once.

Parsing is the standard library's :mod:`ipaddress`; what it refuses is an error on the entry's
line. An address that can never be the one Gong sees (private, loopback, link-local) and a
range that trusts a large part of the internet are warnings. A file without the lists gets
``missing-trusted-ips`` (an error under ``validate --strict``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, NamedTuple, Protocol

from gong_authlib.config.diagnostics import NodePath, quoted
from gong_authlib.errors import Diagnostic


class RuleContext(Protocol):
    """What this rule reads of :class:`gong_authlib.config.rules.RuleContext` (which runs it:
    a protocol here, so the two modules do not import each other)."""

    def get(self, *path: str) -> Any: ...

    def strings(self, *path: str) -> Iterator[tuple[NodePath, str]]: ...

    def error(self, code: str, message: str, path: NodePath, **kwargs: Any) -> Diagnostic: ...

    def warning(self, code: str, message: str, path: NodePath, **kwargs: Any) -> Diagnostic: ...


Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

TRUSTED_IP_LISTS = ("access_token", "refresh_token")

# What each list guards, for messages and plans.
GUARDS = {
    "access_token": "API calls",
    "refresh_token": "token refreshes",
}

# Fewer addresses than this in one entry: IPv4 /16 (65,536), IPv6 /32 (an ISP's allocation).
# A wider entry trusts networks the app does not run in.
_BROADEST = {4: 16, 6: 32}

# The longest valid entry: two full IPv6 addresses with an IPv4 tail, and a dash.
_LONGEST_ENTRY = 2 * len("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255") + 1

# ipaddress's reasons are short, but quote the text they refused: cut past this length.
_LONGEST_REASON = 120

# Reserved for examples (RFC 5737, RFC 3849): ipaddress calls them private, but they are what
# documentation and this project's example files use, and they are no mistake there.
_DOCUMENTATION = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)


def parse_entry(text: str) -> list[Network]:
    """The networks one entry covers; ValueError with the reason when it is none of an
    address, a CIDR block or a ``first-last`` range."""
    if text != text.strip() or not text:
        raise ValueError("surrounding spaces or an empty entry")
    if "-" in text:
        first_text, _, last_text = text.partition("-")
        first = ipaddress.ip_address(first_text.strip())
        last = ipaddress.ip_address(last_text.strip())
        if first.version != last.version:
            raise ValueError("a range from an IPv4 to an IPv6 address")
        if int(last) < int(first):
            raise ValueError(f"the range ends ({last}) before it starts ({first})")
        return list(ipaddress.summarize_address_range(first, last))
    if "/" in text:
        try:
            return [ipaddress.ip_network(text)]
        except ValueError as problem:
            if "has host bits set" in str(problem):
                block = ipaddress.ip_network(text, strict=False)
                raise ValueError(f"host bits are set: the block is {block}") from None
            raise
    return [ipaddress.ip_network(ipaddress.ip_address(text))]


def _documentation(network: Network) -> bool:
    return any(
        network.version == example.version and network.subnet_of(example)  # type: ignore[arg-type]
        for example in _DOCUMENTATION
    )


def _not_public(network: Network) -> str | None:
    """Why Gong can never see a call from ``network``, or None."""
    if network.is_loopback:
        return "loopback"
    if network.is_link_local:
        return "link-local"
    if network.is_unspecified and network.prefixlen == network.max_prefixlen:
        return "unspecified"
    if network.is_private and not _documentation(network):
        return "private"
    return None


def _count(networks: list[Network]) -> int:
    return sum(n.num_addresses for n in networks)


def check_trusted_ips(ctx: RuleContext) -> Iterator[Diagnostic]:
    integration = ctx.get("integration")
    if not isinstance(integration, dict):
        return
    trusted = integration.get("trusted_ips")
    if trusted is None:
        yield ctx.warning(
            "missing-trusted-ips",
            "no integration.trusted_ips: Gong requires trusted IP addresses for OAuth "
            "integrations (access_token: where API calls come from; refresh_token: where "
            "token refreshes come from)",
            ("integration",),
            at_key=True,
        )
        return
    if not isinstance(trusted, dict):
        return  # the schema reports the wrong type
    for name in TRUSTED_IP_LISTS:
        if not trusted.get(name):
            yield ctx.warning(
                "missing-trusted-ips",
                f"integration.trusted_ips.{name} lists no address: Gong refuses "
                f"{GUARDS[name]} from addresses not listed",
                ("integration", "trusted_ips"),
                at_key=True,
            )
        else:
            yield from _check_list(ctx, name)


class _Entry(NamedTuple):
    """What one entry's text means, worked out once per text."""

    networks: tuple[Network, ...]  # empty when it does not parse
    problem: str | None  # why it does not parse
    not_public: tuple[str, ...]  # loopback, private…
    broad: bool


def _judged(text: str) -> _Entry:
    """Cached: every environment re-checks the lists it inherits, and ipaddress's parsing and
    ``is_private`` cost most of a long list's check (20,000 addresses in 50 environments took
    25 s). Only texts as short as an entry can be are kept: a process validating many files
    must not keep every long mistake it was shown."""
    return _judged_cached(text) if len(text) <= _LONGEST_ENTRY else _judge(text)


@lru_cache(maxsize=1 << 16)
def _judged_cached(text: str) -> _Entry:
    return _judge(text)


def _judge(text: str) -> _Entry:
    try:
        networks = tuple(parse_entry(text))
    except ValueError as problem:
        # ipaddress's reason quotes the text again, whole: the message quotes it already.
        reason = str(problem)
        if len(reason) > _LONGEST_REASON:
            reason = reason[:_LONGEST_REASON] + "…"
        return _Entry((), reason, (), False)
    reasons = tuple(sorted({r for r in map(_not_public, networks) if r is not None}))
    widest = 2 ** (networks[0].max_prefixlen - _BROADEST[networks[0].version])
    return _Entry(networks, None, reasons, _count(list(networks)) > widest)


def _check_list(ctx: RuleContext, name: str) -> Iterator[Diagnostic]:
    # Where each entry's networks were first listed: looked up, not searched (a list of tens
    # of thousands of addresses compared each with every earlier one took minutes).
    seen: dict[tuple[Network, ...], int] = {}
    for path, text in ctx.strings("integration", "trusted_ips", name):
        entry = _judged(text)
        if entry.problem is not None:
            yield ctx.error(
                "invalid-ip",
                f"{quoted(text)} is not an IP address, a CIDR block (203.0.113.0/24) or a "
                f"first-last range: {entry.problem}",
                path,
            )
            continue
        same = seen.setdefault(entry.networks, int(path[-1]))
        if same != int(path[-1]):  # written another way, perhaps: 203.0.113.7 and …/32
            yield ctx.error(
                "duplicate-item", f"{quoted(text)} is already listed at {name}[{same}]", path
            )
        if entry.not_public:
            yield ctx.warning(
                "private-ip",
                f"{quoted(text)} is a {'/'.join(entry.not_public)} address: Gong sees the "
                "public address your calls leave from (your NAT gateway's), never this one",
                path,
            )
        if entry.broad:
            version = entry.networks[0].version
            yield ctx.warning(
                "broad-ip-range",
                f"{quoted(text)} is wider than an IPv{version} /{_BROADEST[version]}: it trusts "
                "networks your workers do not run in, and a stolen token works from any of "
                "them; list the addresses your workers' calls leave from",
                path,
            )
