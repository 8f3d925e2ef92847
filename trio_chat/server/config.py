"""The server's limits, each with its default; every one is a CLI flag."""

from __future__ import annotations

from dataclasses import dataclass

from trio_chat.server.addresses import Source, parse_network, source


@dataclass(frozen=True, slots=True)
class Limits:
    max_line_bytes: int = 4096
    """A longer line is discarded with an error; the connection goes on."""
    outbox_size: int = 1000
    """Events waiting to be written to one client; past this it is dropped."""
    outbox_bytes: int = 1 << 20
    """Bytes waiting to be written to one client, replies and history
    included; past this it is dropped. A history answer holds at most a
    quarter of it."""
    handshake_timeout: float = 60.0
    """Seconds to choose a nickname before the connection is closed."""
    flood_burst: int = 10
    """Lines a client may send at once before flood control slows it."""
    flood_rate: float = 5.0
    """Lines per second after the burst; 0 turns flood control off."""
    flood_kick: int = 50
    """Slowed lines (forgiven at one a second) after which a client is dropped."""
    max_clients: int = 1000
    """Connections at once, all addresses together; 0 for no limit."""
    max_per_address: int = 20
    """Connections at once from one address group; 0 for no limit."""
    reserved_for_accounts: int = 10
    """Percent of max_clients that only registered nicknames may fill."""
    ipv4_prefix: int = 32
    """IPv4 addresses in the same network of this size count as one address."""
    ipv6_prefix: int = 64
    """IPv6 addresses in the same network of this size count as one address."""
    limit_exempt: tuple[str, ...] = ()
    """Addresses or CIDR blocks free of per-address connection limits."""
    hash_workers: int = 2
    """Password hashes computed at once."""
    ping_interval: float = 30.0
    """Seconds of silence before a JSON-mode client is pinged; 0 for never."""
    ping_timeout: float = 30.0
    """Seconds a pinged client has to answer before it is dropped."""
    max_rooms: int = 20
    """Rooms one client may be in at once."""
    history_replay: int = 50
    """Messages replayed on joining a room."""
    history_page: int = 500
    """Most events one history request or resume returns."""
    history_keep: int = 1000
    """Events kept per room when history is in memory only (--db none)."""
    history_rooms: int = 10_000
    """Rooms with stored history; past it the least active is forgotten (0: no cap)."""
    private_max: int = 10_000
    """Private messages kept per account (0: no cap)."""
    shutdown_grace: float = 5.0
    """Seconds a closing connection has to receive its last events."""

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            if isinstance(value := getattr(self, name), int | float) and value < 0:
                raise ValueError(f"{name.replace('_', '-')} cannot be negative")
        for name in (
            "max_line_bytes",
            "outbox_size",
            "outbox_bytes",
            "flood_burst",
            "max_rooms",
            "hash_workers",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name.replace('_', '-')} must be at least 1")
        for name, most in (
            ("ipv4_prefix", 32),
            ("ipv6_prefix", 128),
            ("reserved_for_accounts", 100),
        ):
            if getattr(self, name) > most:
                raise ValueError(f"{name.replace('_', '-')} must be at most {most}")
        for text in self.limit_exempt:
            parse_network(text)  # raises ValueError naming the flag

    @property
    def reserved(self) -> int:
        """Connections, of max_clients, that guests may not fill."""
        return self.max_clients * self.reserved_for_accounts // 100

    def source(self, address: str) -> Source:
        """How the per-address limits see ``address``."""
        return source(address, self.ipv4_prefix, self.ipv6_prefix, self.limit_exempt)
