"""``trio-chat``: the command line."""

from __future__ import annotations

import argparse
import functools
import importlib.metadata
import logging
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import platformdirs
import trio

from trio_chat.admin import command as admin_command
from trio_chat.bench import command as bench_command
from trio_chat.client import command as client_command
from trio_chat.server import ChatServer, Limits, MemoryStore, Store, config_file
from trio_chat.server.accounts import Accounts
from trio_chat.server.chat_server import MakeFront
from trio_chat.server.config import add_limit_flags
from trio_chat.server.config_file import ConfigError
from trio_chat.server.front import ChatLost, LocalFront
from trio_chat.server.logformat import configure as configure_logging
from trio_chat.server.metrics import Metrics
from trio_chat.server.metrics_http import open_metrics_endpoint, parse_metrics_url
from trio_chat.server.reload import Reloader, check_certificate, join_server
from trio_chat.server.roomlog import LoggedStore
from trio_chat.server.schema import SchemaError
from trio_chat.server.sqlite import SqliteStore, maintain
from trio_chat.server.watch import DatabaseWatch
from trio_chat.transports import (
    ServerOptions,
    URLError,
    bound_url,
    open_listeners,
    parse_url,
)
from trio_chat.transports.origin import allowed_origin
from trio_chat.transports.urls import DEFAULT_URL, ListenURL
from trio_chat.web import Pages

log = logging.getLogger("trio_chat.server")

# Where a browser finds the page of a listener that serves it.
WEB_SCHEMES = {"ws": "http", "wss": "https"}

DEFAULT_DB = Path(platformdirs.user_data_dir("trio-chat")) / "chat.db"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trio-chat", description="A multi-user chat on Trio.")
    version = importlib.metadata.version("trio-chat")
    parser.add_argument("--version", action="version", version=f"trio-chat {version}")
    commands = parser.add_subparsers(dest="command", required=True)

    server = commands.add_parser("server", help="run a chat server")
    server.add_argument(
        "--config",
        metavar="FILE",
        help="read settings from this TOML file, a key for each flag (max_rooms = 10); "
        "flags given override it; SIGHUP reads it again (see docs/operating.md)",
    )
    server.add_argument(
        "--check",
        action="store_true",
        help="check the settings, print them as a configuration file and exit",
    )
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
        "--no-direct-write",
        dest="direct_write",
        action="store_false",
        help="always wake a client's writer task to send, never write a tcp:// or unix:// "
        "socket directly from the delivering task (slower; for comparison)",
    )
    server.add_argument(
        "--cert", metavar="PEM", help="certificate chain for tls://, wss:// and ircs://"
    )
    server.add_argument("--key", metavar="PEM", help="private key for tls://, wss:// and ircs://")
    server.add_argument(
        "--unix-mode",
        type=_octal,
        default=0o600,
        metavar="OCTAL",
        help="permissions of unix:// socket files (default 600: owner only; 660 adds the group)",
    )
    server.add_argument(
        "--ws-origin",
        type=_ws_origin,
        action="append",
        default=[],
        metavar="ORIGIN",
        help="let browsers on pages of ORIGIN (like https://chat.example.org) open ws:// and "
        "wss:// connections, besides pages of the listener's own host; repeatable; "
        "'*' admits every web site",
    )
    server.add_argument(
        "--no-web",
        dest="web",
        action="store_false",
        help="do not serve the browser client on ws:// and wss:// listeners",
    )
    server.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="the least important log lines written: debug, info, warning or error (default info)",
    )
    server.add_argument(
        "--log-format",
        default="text",
        choices=["text", "json"],
        help="json: one JSON object per line, for machines (default text)",
    )
    server.add_argument(
        "--metrics",
        type=_metrics_url,
        metavar="URL",
        help="serve Prometheus metrics at URL/metrics and health at URL/healthz, "
        "e.g. http://127.0.0.1:9100/",
    )
    server.add_argument(
        "--db",
        metavar="PATH",
        default=str(DEFAULT_DB),
        help="the SQLite file for history and accounts; ':memory:' keeps them in memory "
        "until exit; 'none' keeps only the last --history-keep events per room, in memory "
        f"(default {DEFAULT_DB})",
    )
    server.add_argument(
        "--broker",
        metavar="URL",
        help="serve one chat together with the other servers given the same Redis, at URL "
        "(redis://HOST:PORT/DB); history, accounts and nicknames then live in Redis and --db "
        "is not used (needs pip install 'trio-chat[broker]')",
    )
    server.add_argument(
        "--history-days",
        type=float,
        default=0,
        metavar="N",
        help="forget messages older than N days (default 0: keep them)",
    )
    server.add_argument(
        "--history-max",
        type=int,
        default=100_000,
        metavar="N",
        help="keep at most N events per room (0: no cap; default 100000)",
    )
    server.add_argument(
        "--log-dir",
        metavar="DIR",
        help="also write each room's messages to DIR/ROOM-DAY.log, as plain text",
    )
    add_limit_flags(server)
    client_command.add_parser(commands)
    bench_command.add_parser(commands)
    admin_command.add_parser(commands, DEFAULT_DB)
    return parser


def _octal(text: str) -> int:
    try:
        mode = int(text, 8)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an octal mode like 600") from None
    if not 0 <= mode <= 0o777:
        raise argparse.ArgumentTypeError(f"{text!r} is not a permission mode (000 to 777)")
    return mode


def _metrics_url(text: str) -> str:
    try:
        parse_metrics_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _ws_origin(text: str) -> str:
    try:
        return allowed_origin(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = config_file.configured(build_parser(), argv)
    except ConfigError as exc:
        print(f"trio-chat: {exc}", file=sys.stderr)
        return 2
    args.argv = argv  # read again, under the file, on each reload
    if args.command == "server":
        return run_server(args)
    if args.command == "client":
        return client_command.run(args)
    if args.command == "bench":
        return bench_command.run(args)
    if args.command == "admin":
        return admin_command.run(args)
    return 2  # pragma: no cover - argparse requires a command


def run_server(args: argparse.Namespace) -> int:
    configure_logging(args.log_level, args.log_format)
    try:
        urls = [parse_url(u) for u in args.listen or [DEFAULT_URL]]
    except URLError as exc:
        print(f"trio-chat: {exc}", file=sys.stderr)
        return 2
    try:
        limits = config_file.limits_of(args)
        if args.check:
            check_certificate(args, urls)
    except ConfigError as exc:
        print(f"trio-chat: {exc}", file=sys.stderr)
        return 2
    if args.check:
        print(config_file.effective(config_file.server_parser(build_parser()), args), end="")
        return 0
    options = ServerOptions(
        keepalive=args.keepalive,
        direct_write=args.direct_write,
        certfile=args.cert,
        keyfile=args.key,
        unix_mode=args.unix_mode,
        max_line_bytes=limits.max_line_bytes,
        ws_origins=tuple(args.ws_origin),
        flood_burst=limits.flood_burst,
        flood_rate=limits.flood_rate,
        flood_kick=limits.flood_kick,
        max_queued_bytes=limits.outbox_bytes,
        web=Pages.load() if args.web else None,
    )
    failures: list[BaseException] = []
    try:
        trio.run(_serve_until_signalled, urls, limits, options, args)
    except* (URLError, sqlite3.Error, OSError, ChatLost, SchemaError) as group:
        failures += _leaves(group)
    for failure in failures:
        print(f"trio-chat: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _leaves(error: BaseException) -> list[BaseException]:
    """The exceptions in ``error``, however deep the groups (nurseries) nest them."""
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


async def _serve_until_signalled(
    urls: list[ListenURL], limits: Limits, options: ServerOptions, args: argparse.Namespace
) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM, signal.SIGHUP) as signals:
        metrics = Metrics()
        async with (
            _open_store(args, limits) as (kept, accounts, front),
            open_metrics_endpoint(args.metrics, metrics),
        ):
            listeners: list[trio.abc.Listener[Any]] = []
            try:
                for url in urls:
                    opened = await open_listeners(url, options)
                    for listener in opened:
                        bound = bound_url(url, listener)
                        log.info("listening on %s", bound)
                        if options.web and url.scheme in WEB_SCHEMES:
                            page = WEB_SCHEMES[url.scheme] + str(bound).removeprefix(url.scheme)
                            log.info("open %s in a browser to chat", page)
                    listeners += opened
            except URLError:
                for listener in listeners:  # a unix socket file goes away with its listener
                    await trio.aclose_forcefully(listener)
                raise
            store = LoggedStore(kept, Path(args.log_dir)) if args.log_dir else kept
            # cloaks, and bans of them, outlive restarts with a database
            cloak_key = kept.cloak_key if isinstance(kept, SqliteStore) else None
            on_disk = isinstance(kept, SqliteStore) and kept.path != ":memory:"
            watch = DatabaseWatch(args.db, accounts) if on_disk else None  # trio-chat admin's
            server = ChatServer(
                limits,
                store,
                accounts,
                front=front,
                cloak_key=cloak_key,
                watch=watch,
                metrics=metrics,
            )
            reloader = Reloader(lambda: config_file.configured(build_parser(), args.argv), args)
            join_server(reloader, server, options)
            async with trio.open_nursery() as nursery:
                stop = functools.partial(
                    _on_signals, signals, server, reloader, nursery.cancel_scope
                )
                nursery.start_soon(stop)
                await server.serve(listeners)
                nursery.cancel_scope.cancel()


@asynccontextmanager
async def _open_store(
    args: argparse.Namespace, limits: Limits
) -> AsyncIterator[tuple[Store, Accounts, MakeFront]]:
    if args.broker:
        yield _broker(args, limits)
        return
    if args.db == "none":
        log.info("history in memory only: the last %d events per room", limits.history_keep)
        yield MemoryStore.for_limits(limits), Accounts(hashing=limits.hash_workers), LocalFront
        return
    if args.db != ":memory:":
        _create_private(Path(args.db))
    db = await SqliteStore.open(
        args.db,
        history_max=max(args.history_max, 0),
        history_rooms=limits.history_rooms,
        private_max=limits.private_max,
    )
    log.info("history and accounts in %s", args.db)
    try:
        accounts = Accounts(
            await db.load_credentials(), save=db.save_credential, hashing=limits.hash_workers
        )
        async with trio.open_nursery() as nursery:
            nursery.start_soon(functools.partial(maintain, db, days=args.history_days))
            yield db, accounts, LocalFront
            nursery.cancel_scope.cancel()
    finally:
        await db.aclose()


def _broker(args: argparse.Namespace, limits: Limits) -> tuple[Store, Accounts, MakeFront]:
    try:
        from trio_chat.cluster.assemble import assemble
    except ImportError as exc:
        raise ChatLost(f"--broker needs coredis: pip install 'trio-chat[broker]' ({exc})") from None
    cluster = assemble(args.broker, limits, history_max=max(args.history_max, 0))
    log.info(
        "one chat with the other servers on %s, as server %s",
        config_file.masked(args.broker),
        cluster.broker.instance,
    )
    return cluster.store, cluster.accounts, cluster.broker.front


def _create_private(path: Path) -> None:
    """Make the database file, before SQLite does, readable by its owner only:
    it holds private messages and password hashes. SQLite gives its -wal and
    -shm files the database file's permissions."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        if (mode := path.stat().st_mode & 0o777) & 0o077:
            log.warning("%s can be read by others (mode %03o): chmod 600 it", path, mode)


async def _on_signals(
    signals: AsyncIterator[int], server: ChatServer, reloader: Reloader, scope: trio.CancelScope
) -> None:
    """SIGHUP reloads the settings. The first other signal shuts down
    gracefully; a second one stops at once."""
    async for signum in signals:
        log.info("%s received", signal.Signals(signum).name)
        if signum == signal.SIGHUP:
            server.metrics.reloaded(reloader.reload() is not None)
            continue
        if server.shutting_down:
            scope.cancel()
        server.shutdown()
