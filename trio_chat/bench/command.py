"""The ``bench`` subcommand's flags and what it prints."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import typing

from trio_chat.bench.load import BenchError
from trio_chat.bench.options import BenchOptions
from trio_chat.bench.report import table
from trio_chat.bench.runner import run_bench
from trio_chat.transports import URLError, parse_url

HELP = {
    "mode": "fanout (windowed senders), rate (fixed rate), idle (memory per connection), "
    "slow (fanout while the last client never reads)",
    "codec": "text or json",
    "clients": "clients, all in one room",
    "senders": "clients that send",
    "window": "messages each sender keeps in flight (fanout, slow)",
    "rate": "messages per second from all senders together (rate)",
    "read_interval": "milliseconds between reads in fanout and slow modes; longer reads"
    " cost the load less per line",
    "duration": "seconds of the timed window",
    "payload": "bytes of message text",
    "samples": "receivers beyond the senders that decode every line",
    "procs": "processes to spread the clients over",
}
DEFAULT_URL = "tcp://127.0.0.1:58000"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bench = commands.add_parser("bench", help="measure a running server")
    bench.add_argument(
        "--connect",
        metavar="URL",
        action="append",
        help="a server to load (tcp:// only; default " + DEFAULT_URL + "); repeated, the"
        " servers of one chat, client i connecting to the i-th modulo their number",
    )
    bench.add_argument(
        "--server-pid",
        metavar="[NAME=]PID",
        action="append",
        type=_named_pid,
        default=[],
        help="a process whose CPU and memory to report, each and summed (needs psutil);"
        " repeatable; NAME labels it in the report (default: the PID)",
    )
    bench.add_argument(
        "--json", metavar="FILE", help="also write the report as JSON (- for stdout)"
    )
    bench.add_argument("--quiet", action="store_true", help="no progress line")
    defaults = BenchOptions()
    hints = typing.get_type_hints(BenchOptions)
    for f in dataclasses.fields(BenchOptions):
        if f.name not in HELP:
            continue
        default = getattr(defaults, f.name)
        kind = {"mode": str, "codec": str}.get(f.name, type(default))
        choices = typing.get_args(hints[f.name]) if kind is str else None
        bench.add_argument(
            "--" + f.name.replace("_", "-"),
            dest=f.name,
            type=kind,
            default=default,
            choices=choices,
            metavar=None if choices else "N",
            help=f"{HELP[f.name]} (default {default})",
        )


def _named_pid(text: str) -> tuple[str, int]:
    name, _, pid = text.rpartition("=")
    try:
        return name or pid, int(pid)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a PID: {pid!r}") from None


def run(args: argparse.Namespace) -> int:
    servers = []
    for text in args.connect or [DEFAULT_URL]:
        try:
            url = parse_url(text)
        except URLError as exc:
            print(f"trio-chat bench: {exc}", file=sys.stderr)
            return 2
        if url.scheme != "tcp":
            print("trio-chat bench: only tcp:// servers can be measured", file=sys.stderr)
            return 2
        servers.append((url.host, url.port))
    fields = {
        f.name: getattr(args, f.name) for f in dataclasses.fields(BenchOptions) if f.name in HELP
    }
    options = BenchOptions(servers=tuple(servers), server_pids=tuple(args.server_pid), **fields)
    try:
        report = run_bench(options, show_progress=not args.quiet)
    except (BenchError, OSError) as exc:
        print(f"trio-chat bench: {exc}", file=sys.stderr)
        return 1
    print(table(report))
    if args.json == "-":
        print(json.dumps(report, indent=2))
    elif args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=2)
    return 0
