"""The server's limits: each field is a flag of ``trio-chat server``.

A field's default and help are its flag's, so adding a limit here adds its
flag (cli.py derives the flags from this class).
"""

from __future__ import annotations

import argparse
import dataclasses
import unicodedata
from dataclasses import dataclass
from typing import TypeVar

from trio_chat.server.addresses import Source, parse_network, source

T = TypeVar("T")


def limit(default: T, help: str, *, metavar: str = "N") -> T:
    """A field of Limits: its default, and the help of its flag."""
    field: T = dataclasses.field(default=default, metadata={"help": help, "metavar": metavar})
    return field


@dataclass(frozen=True, slots=True)
class Limits:
    """Each field is the server flag ``--field-name``; its help is the flag's."""

    max_line_bytes: int = limit(
        4096, "longest line accepted, in bytes; a longer one is discarded with an error"
    )
    outbox_size: int = limit(1000, "events queued for one client before it is dropped")
    outbox_bytes: int = limit(
        1 << 20,
        "bytes queued for one client, replies and history included, before it is dropped; "
        "a history answer holds at most a quarter of it",
    )
    handshake_timeout: float = limit(
        60.0, "seconds to choose a nickname before the connection is closed"
    )
    flood_burst: int = limit(10, "lines a client may send at once before flood control slows it")
    flood_rate: float = limit(5.0, "lines per second after the burst (0: no flood control)")
    flood_kick: int = limit(
        50, "slowed lines, forgiven at one a second, before a client is dropped"
    )
    max_clients: int = limit(1000, "connections at once, all addresses together (0: no limit)")
    max_per_address: int = limit(20, "connections at once from one address group (0: no limit)")
    reserved_for_accounts: int = limit(
        10, "percent of --max-clients that only registered nicknames may fill"
    )
    ipv4_prefix: int = limit(
        32, "IPv4 addresses in one network of this prefix length count as one address"
    )
    ipv6_prefix: int = limit(
        64, "IPv6 addresses in one network of this prefix length count as one address"
    )
    limit_exempt: tuple[str, ...] = limit(
        (),
        "an address or network free of per-address connection limits, e.g. a reverse proxy's",
        metavar="CIDR",
    )
    hash_workers: int = limit(2, "password hashes computed at once")
    ping_interval: float = limit(
        30.0, "seconds of silence before a JSON-mode or IRC client is pinged (0: never)"
    )
    ping_timeout: float = limit(30.0, "seconds a pinged client has to answer before it is dropped")
    max_rooms: int = limit(20, "rooms one client may be in at once")
    history_replay: int = limit(50, "messages replayed on joining a room")
    history_page: int = limit(500, "most events one history request or resume returns")
    history_keep: int = limit(1000, "events kept per room with --db none (history in memory only)")
    history_rooms: int = limit(
        10_000, "rooms with stored history; beyond it the least active is forgotten (0: no cap)"
    )
    private_max: int = limit(10_000, "private messages kept per account (0: no cap)")
    operator: tuple[str, ...] = limit(
        (),
        "a registered nickname that, once identified, has operator power in every room "
        "and alone may disconnect users",
        metavar="NICK",
    )
    max_bans: int = limit(50, "bans one room holds")
    max_owned_rooms: int = limit(
        10, "rooms one registered nickname owns; past it, the rooms it makes have no owner"
    )
    lease: float = limit(
        15.0,
        "broker mode: seconds a server's lease on its members lasts; a server that stops "
        "renewing it has its members announced as gone within about this long",
        metavar="SECONDS",
    )
    shutdown_grace: float = limit(
        5.0, "seconds a closing connection has to receive its last events"
    )
    irc_server_name: str = limit(
        "trio-chat", "the server's name in what IRC clients receive", metavar="NAME"
    )
    irc_lobby: bool = limit(
        True, "put IRC clients in #lobby on registration (--no-irc-lobby: in no room)"
    )
    welcome: str = limit(
        "",
        "a notice each client receives once it has its nickname: the rules, news (empty: none)",
        metavar="TEXT",
    )

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
        if self.lease < 0.1:
            raise ValueError("lease must be at least 0.1")
        for name, most in (
            ("ipv4_prefix", 32),
            ("ipv6_prefix", 128),
            ("reserved_for_accounts", 100),
        ):
            if getattr(self, name) > most:
                raise ValueError(f"{name.replace('_', '-')} must be at most {most}")
        if any(unicodedata.category(char) == "Cc" for char in self.welcome):
            raise ValueError("welcome must be one line, without control characters")
        for text in self.limit_exempt:
            parse_network(text)  # raises ValueError naming the flag

    @property
    def reserved(self) -> int:
        """Connections, of max_clients, that guests may not fill."""
        return self.max_clients * self.reserved_for_accounts // 100

    def source(self, address: str) -> Source:
        """How the per-address limits see ``address``."""
        return source(address, self.ipv4_prefix, self.ipv6_prefix, self.limit_exempt)


def add_limit_flags(parser: argparse.ArgumentParser) -> None:
    """A flag for each field of Limits: ``--field-name``, with the field's
    default, type and help (see server/config.py)."""
    for field in dataclasses.fields(Limits):
        flag = "--" + field.name.replace("_", "-")
        text, metavar = field.metadata["help"], field.metadata["metavar"]
        if isinstance(field.default, tuple):  # a list: the flag is given once per entry
            parser.add_argument(
                flag, dest=field.name, action="append", metavar=metavar, help=f"{text}; repeatable"
            )
            continue
        if isinstance(field.default, bool):
            parser.add_argument(
                flag,
                dest=field.name,
                action=argparse.BooleanOptionalAction,
                default=field.default,
                help=f"{text} (default {'on' if field.default else 'off'})",
            )
            continue
        parser.add_argument(
            flag,
            dest=field.name,
            type=type(field.default),
            default=field.default,
            metavar=metavar,
            help=f"{text} (default {field.default})" if field.default != "" else text,
        )
