"""``trio-chat client``: its flags, its settings, and starting the terminal."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from trio_chat.client import config
from trio_chat.client.config import DEFAULT_CONFIG, ConfigError, Settings
from trio_chat.transports import URLError, open_stream, parse_url
from trio_chat.transports.urls import DEFAULT_URL


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    client = commands.add_parser(
        "client",
        help="chat in this terminal",
        description="Chat in this terminal. A flag given here replaces the value in the "
        "configuration file (see --config).",
    )
    client.add_argument(
        "url",
        nargs="*",
        help="the server to join; with several, the next is tried when one fails or is lost; "
        f"a bare HOST:PORT is tcp://HOST:PORT (default {DEFAULT_URL})",
    )
    client.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help=f"read settings from this TOML file (default {DEFAULT_CONFIG}, if there)",
    )
    client.add_argument(
        "--nick",
        help="your nickname (default: your login name, as a valid nickname)",
    )
    client.add_argument(
        "--cafile",
        metavar="PEM",
        help="trust this CA (or self-signed certificate) for tls:// and wss://",
    )
    client.add_argument(
        "--password-file",
        type=Path,
        metavar="PATH",
        help="a file holding the password of a registered nickname (else the client asks)",
    )
    client.add_argument(
        "--history-file",
        type=Path,
        metavar="PATH",
        help="where typed lines are kept between runs (default: in the user data directory)",
    )
    client.add_argument(
        "--join",
        action="append",
        metavar="ROOM",
        help="join ROOM once welcomed, besides #lobby; repeatable (the # may be left out)",
    )
    client.add_argument(
        "--no-bell",
        dest="bell",
        action="store_false",
        default=None,
        help="never ring the terminal's bell",
    )
    client.add_argument(
        "--no-colour",
        "--no-color",
        dest="colour",
        action="store_false",
        default=None,
        help="print without colours (so does a NO_COLOR environment variable)",
    )


def client_settings(args: argparse.Namespace) -> Settings:
    """The configuration file (if any) with the command line over it; raises ConfigError."""
    path = args.config or DEFAULT_CONFIG
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if args.config is not None:  # asked for by name: its absence is a mistake
            raise ConfigError(f"{path}: no such file") from None
        text = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    try:
        file_settings = config.load(text, path.parent)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return config.merge(file_settings, args, os.environ)


def run(args: argparse.Namespace) -> int:
    """``trio-chat client``: chat until the user leaves (0); 1 or 2 on errors."""
    from trio_chat.client import ui  # prompt_toolkit loads only for the client
    from trio_chat.client.servers import Servers

    try:
        settings = client_settings(args)
        urls = {str(url): url for url in map(parse_url, settings.servers)}
        file = settings.password_file
        password = file.read_text().strip() if file else None
    except (ConfigError, URLError, OSError) as exc:
        print(f"trio-chat: {exc}", file=sys.stderr)
        return 2
    servers = Servers(list(urls), lambda url: open_stream(urls[url], cafile=settings.cafile))
    return ui.run(
        settings.nick,
        servers,
        settings.history_file,
        password,
        bell=settings.bell,
        colour=settings.colour,
        join=settings.join,
    )
