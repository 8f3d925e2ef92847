"""``trio-chat``: the command line."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import sys
from collections.abc import AsyncIterator, Sequence

import trio

from trio_chat.bench import command as bench_command
from trio_chat.server import ChatServer, Limits
from trio_chat.transports import URLError, open_listeners, parse_url
from trio_chat.transports.urls import DEFAULT_URL, ListenURL, bound_url

log = logging.getLogger("trio_chat.server")

# flag -> (Limits field, help); defaults and types come from Limits itself
LIMIT_FLAGS = {
    "--max-line-bytes": ("max_line_bytes", "longest line accepted, in bytes"),
    "--outbox-size": ("outbox_size", "events queued for one client before it is dropped"),
    "--handshake-timeout": ("handshake_timeout", "seconds to choose a nickname"),
    "--flood-burst": ("flood_burst", "lines a client may send at once"),
    "--flood-rate": ("flood_rate", "lines per second after the burst (0: no flood control)"),
    "--flood-kick": ("flood_kick", "slowed lines, forgiven at one a second, before a drop"),
    "--max-clients": ("max_clients", "connections at once (0: no limit)"),
    "--max-per-address": ("max_per_address", "connections at once from one IP (0: no limit)"),
    "--ping-interval": ("ping_interval", "seconds of silence before a JSON client is pinged"),
    "--ping-timeout": ("ping_timeout", "seconds a pinged client has to answer"),
    "--max-rooms": ("max_rooms", "rooms one client may be in at once"),
    "--history-replay": ("history_replay", "messages replayed on joining a room"),
    "--history-keep": ("history_keep", "events kept in memory per room"),
    "--shutdown-grace": ("shutdown_grace", "seconds to flush the shutdown notice"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trio-chat", description="A multi-user chat on Trio.")
    commands = parser.add_subparsers(dest="command", required=True)

    server = commands.add_parser("server", help="run a chat server")
    server.add_argument(
        "--listen",
        metavar="URL",
        action="append",
        help=f"where to listen; repeatable (default {DEFAULT_URL})",
    )
    server.add_argument(
        "--keepalive",
        type=int,
        default=60,
        metavar="SECONDS",
        help="idle seconds before TCP keepalive probes start (0: off; default 60)",
    )
    server.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    defaults = Limits()
    for flag, (field, text) in LIMIT_FLAGS.items():
        default = getattr(defaults, field)
        server.add_argument(
            flag,
            dest=field,
            type=type(default),
            default=default,
            metavar="N",
            help=f"{text} (default {default})",
        )
    bench_command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "server":
        return run_server(args)
    if args.command == "bench":
        return bench_command.run(args)
    return 2  # pragma: no cover - argparse requires a command


def run_server(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    try:
        urls = [parse_url(u) for u in args.listen or [DEFAULT_URL]]
    except URLError as exc:
        print(f"trio-chat: {exc}", file=sys.stderr)
        return 2
    limits = Limits(**{f.name: getattr(args, f.name) for f in dataclasses.fields(Limits)})
    try:
        trio.run(_serve_until_signalled, urls, limits, args.keepalive)
    except URLError as exc:
        print(f"trio-chat: {exc}", file=sys.stderr)
        return 1
    return 0


async def _serve_until_signalled(urls: list[ListenURL], limits: Limits, keepalive: int) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        listeners = []
        for url in urls:
            opened = await open_listeners(url, keepalive=keepalive)
            for listener in opened:
                log.info("listening on %s", bound_url(url, listener))
            listeners += opened
        server = ChatServer(limits)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_stop_on_signals, signals, server, nursery.cancel_scope)
            await server.serve(listeners)
            nursery.cancel_scope.cancel()


async def _stop_on_signals(
    signals: AsyncIterator[int], server: ChatServer, scope: trio.CancelScope
) -> None:
    """The first signal shuts down gracefully; a second one stops at once."""
    async for signum in signals:
        log.info("%s received", signal.Signals(signum).name)
        if server.shutting_down:
            scope.cancel()
        server.shutdown()
