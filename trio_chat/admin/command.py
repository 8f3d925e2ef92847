"""The ``admin`` subcommand's flags, prompts and output."""

from __future__ import annotations

import argparse
import getpass
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

from trio_chat.admin import database
from trio_chat.admin.database import AdminError
from trio_chat.protocol import events as ev
from trio_chat.server import config_file
from trio_chat.server.accounts import MIN_PASSWORD, Credential
from trio_chat.server.bans import KINDS, ServerBan, normal_target, parse_expiry
from trio_chat.server.config_file import ConfigError
from trio_chat.server.schema import SchemaError, open_existing


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], default_db: Path
) -> None:
    admin = commands.add_parser(
        "admin",
        help="manage accounts, server bans and backups",
        description="Change the server's database, also while the server runs: a running "
        "server applies each change within a second.",
    )
    where = admin.add_mutually_exclusive_group()
    where.add_argument("--db", metavar="PATH", help=f"the server's database (default {default_db})")
    where.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="the server's configuration file (its db key names the database)",
    )
    # the server's flags are the keys of its file, which --config names
    admin.set_defaults(default_db=str(default_db), server=commands.choices["server"])
    actions = admin.add_subparsers(dest="action", required=True)
    actions.add_parser("accounts", help="list registered nicknames, with their last sign-in")
    reset = actions.add_parser("reset-password", help="give a registered nickname a new password")
    reset.add_argument("nick")
    reset.add_argument(
        "--password-file",
        type=Path,
        metavar="FILE",
        help="read the new password from the first line of FILE instead of asking twice",
    )
    delete = actions.add_parser("delete-account", help="unregister a nickname")
    delete.add_argument("nick")
    for name, text in (("ban", "refuse connections or sign-ins"), ("unban", "lift a ban")):
        action = actions.add_parser(name, help=f"{text}: of a nick, an account or an address")
        action.add_argument("kind", choices=KINDS)
        action.add_argument("target", help="a nickname, or an address or CIDR block")
        if name == "ban":
            action.add_argument(
                "--expires", metavar="WHEN", help="a duration (30m, 12h, 7d, 2w) or a UTC time"
            )
            action.add_argument("--reason", default="", help="told to whoever it refuses")
    actions.add_parser("bans", help="list server bans")
    backup = actions.add_parser("backup", help="copy the database, consistently, to a new file")
    backup.add_argument("file", type=Path)


def run(args: argparse.Namespace) -> int:
    try:
        path = database_path(args)
        with closing(open_existing(path)) as db:
            _carry_out(db, args)
    except (AdminError, ConfigError, SchemaError, ValueError) as exc:
        print(f"trio-chat admin: {exc}", file=sys.stderr)
        return 1
    return 0


def database_path(args: argparse.Namespace) -> str:
    if args.db:
        return str(args.db)
    if args.config is None:
        return str(args.default_db)
    text = config_file.read(args.config)  # its ConfigError names the file
    try:  # as the server reads it: every key checked, ~ expanded
        settings = config_file.load(text, args.server)
    except ConfigError as exc:
        raise ConfigError(f"{args.config}: {exc}") from None
    db = settings.get("db", args.default_db)
    if db in {":memory:", "none"}:
        raise AdminError(f"{args.config}: db = {db!r} is not a database file")
    return str(db)


def _carry_out(db: sqlite3.Connection, args: argparse.Namespace) -> None:
    match args.action:
        case "accounts":
            for account in database.accounts(db):
                print(f"{account.nick}\t{account.last_login or 'no sign-in recorded'}")
        case "reset-password":
            password = _new_password(args.nick, args.password_file)
            database.reset_password(db, args.nick, Credential.make(password))
            print(f'the password of "{args.nick}" is reset')
        case "delete-account":
            database.delete_account(db, args.nick)
            print(f'"{args.nick}" is no longer registered')
        case "ban":
            now = ev.now()
            expires = parse_expiry(args.expires, now) if args.expires else None
            new = ServerBan(args.kind, normal_target(args.kind, args.target), expires, args.reason)
            database.ban(db, new, now)
            print(f"{args.kind} {new.target} banned" + (f" until {expires}" if expires else ""))
        case "unban":
            database.unban(db, args.kind, args.target)
            print(f"{args.kind} {args.target} unbanned")
        case "bans":
            now = ev.now()
            for ban, since in database.bans(db):
                until = (
                    f"until {ban.expires:%Y-%m-%dT%H:%M:%SZ}" if ban.expires else "never expires"
                )
                state = "" if ban.active(now) else " (expired)"
                print(f"{ban.kind}\t{ban.target}\tsince {since}\t{until}{state}\t{ban.reason}")
        case "backup":
            database.backup(db, args.file)
            print(f"backed up to {args.file}")


def _new_password(nick: str, file: Path | None) -> str:
    if file is not None:
        try:
            lines = file.read_text().splitlines()
        except OSError as exc:
            raise AdminError(f"cannot read {file}: {exc.strerror}") from None
        password = lines[0].strip() if lines else ""
    else:
        password = getpass.getpass(f"new password for {nick}: ").strip()
        if getpass.getpass("again: ").strip() != password:
            raise AdminError("the two passwords differ; nothing changed")
    if len(password) < MIN_PASSWORD:
        raise AdminError(f"a password needs at least {MIN_PASSWORD} characters; nothing changed")
    return password
