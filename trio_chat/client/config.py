"""The client's settings: a TOML file, overridden by the command line.

``load`` checks the file's text and ``merge`` lays the command line over it;
neither reads a file, so both are tested without one. The file is
``client.toml`` in the user config directory, or ``--config PATH``::

    servers = ["tls://chat.example.org:58001", "tls://chat2.example.org:58001"]
    nick = "alice"
    join = ["#dev", "#ops"]
"""

from __future__ import annotations

import getpass
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from trio_chat.protocol.rules import NICK_MAX, nick_problem, room_problem
from trio_chat.toml_keys import toml_type as _toml_type
from trio_chat.toml_keys import where as _where
from trio_chat.transports import URLError, parse_url
from trio_chat.transports.urls import DEFAULT_URL

if TYPE_CHECKING:
    import argparse

DEFAULT_CONFIG = platformdirs.user_config_path("trio-chat") / "client.toml"
DEFAULT_HISTORY = platformdirs.user_data_path("trio-chat") / "history"


class ConfigError(Exception):
    """A configuration file the client cannot use; the message names the key."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the terminal client starts with."""

    servers: tuple[str, ...]
    nick: str
    cafile: str | None = None
    password_file: Path | None = None
    join: tuple[str, ...] = ()
    bell: bool = True
    colour: bool = True
    history_file: Path = DEFAULT_HISTORY


def default_nick() -> str:
    """The login name, keeping only what a nickname may hold."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this user id (a bare container)
        user = ""
    return re.sub(r"[^A-Za-z0-9_.\-]", "", user)[:NICK_MAX] or "guest"


def client_url(text: str) -> str:
    """A URL to connect to: a bare HOST:PORT is a TCP one."""
    return text if "://" in text else f"tcp://{text}"


def room_name(text: str) -> str:
    """A room as the user may write it: the ``#`` may be left out."""
    return text if text.startswith("#") else f"#{text}"


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {_toml_type(value)}")
    return value


def _strings(value: object) -> list[str]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list of strings, got {_toml_type(value)}")
    return [_string(item) for item in value]


def _servers(value: object) -> tuple[str, ...]:
    urls = tuple(client_url(url) for url in _strings(value))
    if not urls:
        raise ValueError("expected at least one URL")
    for url in urls:
        try:
            parse_url(url)
        except URLError as exc:
            raise ValueError(str(exc)) from None
    return urls


def _server(value: object) -> tuple[str, ...]:
    return _servers([_string(value)])


def _nick(value: object) -> str:
    nick = _string(value)
    if (problem := nick_problem(nick)) is not None:
        raise ValueError(problem)
    return nick


def _rooms(value: object) -> tuple[str, ...]:
    rooms = tuple(room_name(room) for room in _strings(value))
    for room in rooms:
        if (problem := room_problem(room)) is not None:
            raise ValueError(problem)
    return rooms


def _path(value: object) -> Path:
    return Path(_string(value)).expanduser()


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {_toml_type(value)}")
    return value


# Each key of the file -> the Settings field it sets, and how its value is checked.
KEYS: dict[str, tuple[str, Callable[[object], Any]]] = {
    "servers": ("servers", _servers),
    "server": ("servers", _server),
    "nick": ("nick", _nick),
    "cafile": ("cafile", lambda value: str(_path(value))),
    "password_file": ("password_file", _path),
    "join": ("join", _rooms),
    "bell": ("bell", _bool),
    "colour": ("colour", _bool),
    "history_file": ("history_file", _path),
}


PATHS = ("cafile", "password_file", "history_file")


def load(text: str, folder: Path | None = None) -> dict[str, Any]:
    """The settings in a configuration file's ``text``, by Settings field;
    a relative path is taken from ``folder``, the file's own.

    Raises ConfigError naming the key (and its line) that is unknown or wrong.
    """
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message says where: "(at line 3, column 7)"
        raise ConfigError(str(exc)) from None
    if "server" in table and "servers" in table:
        raise ConfigError(f"{_where(text, 'server')}give 'server' or 'servers', not both")
    settings: dict[str, Any] = {}
    for key, value in table.items():
        if key not in KEYS:
            known = ", ".join(KEYS)
            raise ConfigError(f"{_where(text, key)}unknown key {key!r} (known: {known})")
        field, check = KEYS[key]
        try:
            settings[field] = check(value)
        except ValueError as exc:
            raise ConfigError(f"{_where(text, key)}{key}: {exc}") from None
    for field in PATHS:
        if folder is not None and field in settings and not Path(settings[field]).is_absolute():
            settings[field] = type(settings[field])(folder / settings[field])
    return settings


def merge(
    file_settings: Mapping[str, Any],
    args: argparse.Namespace,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """The command line ``args`` over the file's settings, over the defaults.

    A flag that was given replaces the file's value (``--join`` its whole
    list); ``NO_COLOR`` in ``env``, when not empty, turns colours off.
    Raises ConfigError for a ``--join`` room that is no room name.
    """
    try:
        join = _rooms(args.join) if args.join else None
    except ValueError as exc:
        raise ConfigError(f"--join: {exc}") from None
    given = {
        "servers": tuple(client_url(url) for url in args.url) if args.url else None,
        "nick": args.nick,
        "cafile": args.cafile,
        "password_file": args.password_file,
        "join": join,
        "bell": args.bell,
        "colour": args.colour,
        "history_file": args.history_file,
    }
    values = dict(file_settings) | {f: value for f, value in given.items() if value is not None}
    values.setdefault("servers", (DEFAULT_URL,))
    values.setdefault("nick", default_nick())
    if (env or {}).get("NO_COLOR"):
        values["colour"] = False
    return Settings(**values)
