"""Server-wide bans: who may not connect or sign in, whatever the room.

Sans-IO: the bans come from the database (see watch.py), the time is given.
A ban names a nick (anyone choosing it), an account (signing in to that
registered nick with its password) or an address (an IP address or network,
in CIDR form), and may expire.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from trio_chat.protocol.rules import fold
from trio_chat.server.addresses import group

KINDS = ("nick", "account", "address")
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@dataclass(frozen=True, slots=True)
class ServerBan:
    kind: str
    target: str  # a folded nick, or a network in CIDR form (see normal_target)
    expires: datetime | None = None  # UTC; None: never
    reason: str = ""

    def active(self, now: datetime) -> bool:
        return self.expires is None or now < self.expires

    def describe(self) -> str:
        """Why a connection is refused, as its client is told."""
        text = "you are banned from this server"
        if self.expires is not None:
            text += f" until {self.expires:%Y-%m-%d %H:%M} UTC"
        return f"{text}: {self.reason}" if self.reason else text


def normal_target(kind: str, text: str) -> str:
    """``text`` as a ban of ``kind`` holds it; raises ValueError."""
    if kind not in KINDS:
        raise ValueError(f"a ban is of a nick, an account or an address, not {kind!r}")
    if kind == "address":
        try:
            return str(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{text!r} is not an address or CIDR block") from None
    if not text.strip():
        raise ValueError(f"a {kind} ban needs a nickname")
    return fold(text.strip())


def parse_expiry(text: str, now: datetime) -> datetime:
    """``--expires``: a duration from ``now`` (30m, 12h, 7d, 2w) or a time
    in ISO 8601 (UTC unless it says otherwise); raises ValueError."""
    if match := re.fullmatch(r"(\d+)([mhdw])", text.strip()):
        return now + timedelta(seconds=int(match[1]) * _UNITS[match[2]])
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a duration (30m, 12h, 7d, 2w) nor a time (2026-12-31T18:00)"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


class ServerBans:
    """The bans in force, looked up by what a connection presents."""

    def __init__(self, bans: Iterable[ServerBan] = ()) -> None:
        self._by_name: dict[tuple[str, str], ServerBan] = {}
        self._networks: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ServerBan]] = []
        for ban in bans:
            if ban.kind == "address":
                self._networks.append((ipaddress.ip_network(ban.target), ban))
            else:
                self._by_name[ban.kind, ban.target] = ban

    def address(self, address: str, now: datetime) -> ServerBan | None:
        """The ban that keeps a connection from ``address`` out, if any."""
        if not self._networks:
            return None
        try:  # an IPv4-mapped IPv6 address counts as the IPv4 one, as everywhere
            ip = ipaddress.ip_network(group(address, 32, 128))
        except ValueError:  # "local", "unknown": not an IP address
            return None
        for network, ban in self._networks:
            if ip.version == network.version and ip.subnet_of(network) and ban.active(now):  # type: ignore[arg-type]
                return ban
        return None

    def sign_in(self, nick: str, now: datetime, *, identified: bool) -> ServerBan | None:
        """The ban that keeps ``nick`` from signing in (with its password
        when ``identified``), if any."""
        kinds = ("nick", "account") if identified else ("nick",)
        for kind in kinds:
            ban = self._by_name.get((kind, fold(nick)))
            if ban is not None and ban.active(now):
                return ban
        return None
