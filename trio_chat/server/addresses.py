"""Which addresses count as one source, for the limits kept per address.

One person commonly holds a whole IPv6 /64 (a home or a cloud machine gets
one), so limits that counted exact addresses could be walked around by
changing the last 64 bits. Limits count address groups instead: by default
an IPv4 address on its own and an IPv6 /64. "local" (unix sockets) and
"unknown" are groups of their own.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Source:
    """Where a connection comes from, as the limits see it.

    ``group``: the key every per-address limit counts under. ``exempt``: the
    address is one of ``--limit-exempt`` (a proxy, or localhost), so it is not
    held to per-address connection limits.
    """

    group: str
    exempt: bool = False


def parse_network(text: str) -> IPNetwork:
    """A ``--limit-exempt`` value: an address or a CIDR block; raises ValueError."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(f"limit-exempt {text!r} is not an address or CIDR block") from None


def group(address: str, ipv4_prefix: int = 32, ipv6_prefix: int = 64) -> str:
    """The group ``address`` counts under: its network, in CIDR form.

    An IPv4-mapped IPv6 address (``::ffff:192.0.2.1``, what a dual-stack
    socket reports for an IPv4 client) counts as the IPv4 address it carries.
    Anything that is not an IP address is a group of its own.
    """
    ip = _ip(address)
    if ip is None:
        return address
    prefix = ipv4_prefix if ip.version == 4 else ipv6_prefix
    return str(ipaddress.ip_network((ip, prefix), strict=False))


def source(
    address: str,
    ipv4_prefix: int = 32,
    ipv6_prefix: int = 64,
    exempt: tuple[str, ...] = (),
) -> Source:
    """How the limits see ``address``; ``exempt`` holds ``--limit-exempt`` values."""
    ip = _ip(address)
    is_exempt = ip is not None and any(ip in network for network in _networks(exempt))
    return Source(group(address, ipv4_prefix, ipv6_prefix), is_exempt)


@lru_cache(maxsize=16)
def _networks(exempt: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(parse_network(text) for text in exempt)


def _ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(address.partition("%")[0])  # without a scope: fe80::1%eth0
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip
