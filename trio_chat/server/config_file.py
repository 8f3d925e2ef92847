"""The server's configuration file: a TOML key for each flag of ``trio-chat server``.

The keys are made from the argparse parser itself, so a flag added later has
its key at once. A key is its flag's destination, in snake case as in
client.toml: ``--max-line-bytes 8192`` is ``max_line_bytes = 8192``, and a
flag that turns something off names what it turns off: ``--no-web`` is
``web = false``. A repeatable flag is a list: ``listen = ["tcp://..."]``.

Flags given on the command line override the file; a repeatable one replaces
the file's whole list.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import os
import re
import textwrap
import tomllib
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trio_chat.server.config import Limits
from trio_chat.toml_keys import toml_type, where

# Flags of the command line only: they say which file, and what to do with it.
NOT_KEYS = frozenset({"help", "config", "check"})


class ConfigError(Exception):
    """Settings the server cannot start with; the message names the key."""


class LimitError(ConfigError):
    """A limit out of range: ``key`` and what is wrong with it."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"--{key.replace('_', '-')}{problem}")
        self.key = key
        self.problem = problem


def server_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``server`` command's parser within the whole command line's."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found: argparse.ArgumentParser = action.choices["server"]
            return found
    raise LookupError("no server command")  # pragma: no cover - build_parser makes it


def keys(server: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """Each key of the file, and the flag it stands for, in the order of ``--help``."""
    return {
        action.dest: action
        for action in server._actions
        if action.option_strings and action.dest not in NOT_KEYS
    }


def is_list(action: argparse.Action) -> bool:
    return isinstance(action, argparse._AppendAction)


def is_switch(action: argparse.Action) -> bool:
    """A flag that turns something on or off (``--web``/``--no-web`` too)."""
    return isinstance(action, argparse.BooleanOptionalAction) or (
        action.nargs == 0 and isinstance(action.const, bool)
    )


def load(text: str, server: argparse.ArgumentParser) -> dict[str, Any]:
    """The values a file's ``text`` sets, by key, as its flags would set them.

    Raises ConfigError naming the key (and its line) that is unknown or wrong.
    """
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message says where: "(at line 3, column 7)"
        raise ConfigError(str(exc)) from None
    known = keys(server)
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            close = difflib.get_close_matches(key.replace("-", "_"), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{where(text, key)}unknown key {key!r}{hint}")
        try:
            values[key] = _value(known[key], value)
        except (ValueError, argparse.ArgumentTypeError) as exc:
            raise ConfigError(f"{where(text, key)}{key}: {exc}") from None
    return values


def _value(action: argparse.Action, value: object) -> object:
    if is_switch(action):
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {toml_type(value)}")
        # the file says what is on: web = false is --no-web
        return value
    if is_list(action):
        if not isinstance(value, list):
            raise ValueError(f"expected a list, got {toml_type(value)}")
        return [_one(action, item) for item in value]
    return _one(action, value)


# The metavars of the flags that name a file or a folder.
PATHS = frozenset({"PATH", "DIR", "PEM"})


def _one(action: argparse.Action, value: object) -> object:
    kind = action.type
    if kind is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"expected a whole number, got {toml_type(value)}")
    elif kind is float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ValueError(f"expected a number, got {toml_type(value)}")
        value = float(value)
    elif not isinstance(value, str):
        raise ValueError(f"expected a string, got {toml_type(value)}")
    elif callable(kind) and kind is not str:  # a flag's own check, such as --unix-mode's
        value = kind(value)
    elif action.metavar in PATHS:  # a shell expands ~ in a flag; nothing does in a file
        value = os.path.expanduser(value)
    if action.choices is not None and value not in action.choices:
        choices = ", ".join(map(str, action.choices))
        raise ValueError(f"{value!r} is not one of {choices}")
    return value


def parse_args(
    parser: argparse.ArgumentParser, argv: Sequence[str], values: dict[str, Any]
) -> argparse.Namespace:
    """``argv`` parsed over the file's ``values``: the flags given win."""
    server = server_parser(parser)
    lists = {key for key, action in keys(server).items() if is_list(action)}
    # argparse appends a repeated flag to its default: lists are laid under afterwards
    server.set_defaults(**{key: value for key, value in values.items() if key not in lists})
    args = parser.parse_args(argv)
    for key in lists & values.keys():
        if not getattr(args, key):
            setattr(args, key, values[key])
    return args


def read(path: str | Path) -> str:
    """The text of the file at ``path``; ConfigError names the file."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None


def configured(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    """The server's command line ``argv``, with its ``--config`` file under it.

    Raises ConfigError for a file that cannot be read or sets a wrong value,
    naming the file, the key and its line.
    """
    args = parser.parse_args(argv)
    if args.command != "server" or not args.config:
        return args
    path = args.config
    text = read(path)
    try:
        values = load(text, server_parser(parser))
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    args = parse_args(parser, argv, values)
    try:
        limits_of(args)
    except LimitError as exc:
        key = exc.key
        if key in values and values[key] == getattr(args, key):  # not a flag's value
            raise ConfigError(f"{path}: {where(text, key)}{key}{exc.problem}") from None
        raise
    return args


def limits_of(args: argparse.Namespace) -> Limits:
    """The Limits the settings give; ConfigError says which key is out of range."""
    values = {field.name: getattr(args, field.name) for field in dataclasses.fields(Limits)}
    for field in dataclasses.fields(Limits):
        if isinstance(field.default, tuple):
            values[field.name] = tuple(values[field.name] or ())
    try:
        return Limits(**values)
    except ValueError as exc:  # its message begins with the flag's name
        name, _, problem = str(exc).partition(" ")
        raise LimitError(name.replace("-", "_"), f" {problem}") from None


def effective(server: argparse.ArgumentParser, args: argparse.Namespace) -> str:
    """The settings in ``args`` as a configuration file, passwords masked."""
    lines = []
    for key in keys(server):
        value = _as_written(key, getattr(args, key))
        if value is None or value == []:
            lines.append(f"# {key} = (not set)")
        else:
            lines.append(f"{key} = {toml_value(masked(value))}")
    return "\n".join(lines) + "\n"


def _as_written(key: str, value: object) -> object:
    """``value`` as the file and the flag take it: a mode in octal digits."""
    return f"{value:03o}" if key == "unix_mode" and isinstance(value, int) else value


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return '"' + re.sub(r'[\x00-\x1f\x7f"\\]', _escaped, str(value)) + '"'


def _escaped(found: re.Match[str]) -> str:
    return f"\\u{ord(found[0]):04x}"


def masked(value: object) -> object:
    """``value`` with the password of any URL in it (a Redis URL's) hidden."""
    if isinstance(value, list | tuple):
        return [masked(item) for item in value]
    if not isinstance(value, str) or "://" not in value:
        return value
    parts = urllib.parse.urlsplit(value)
    if parts.password is None:
        return value
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def example(server: argparse.ArgumentParser) -> str:
    """A configuration file with every key, commented out at its default,
    under its flag's help: the one in docs/operating.md."""
    blocks = []
    for key, action in keys(server).items():
        help_text = (action.help or "").replace("%%", "%")
        comment = textwrap.wrap(f"{action.option_strings[0]}: {help_text}", 97)
        default = action.default
        if is_switch(action):
            default = not action.const  # web = true is the default of --no-web
        default = _as_written(key, default)
        if default is None or default == []:  # not set: the form of a value instead
            default = [action.metavar] if is_list(action) else action.metavar
        setting = f"# {key} = {toml_value(default)}"
        blocks.append("\n".join([*(f"## {line}" for line in comment), setting]))
    return "\n\n".join(blocks) + "\n"
