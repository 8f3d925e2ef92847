"""What ``trio-chat admin`` does to the database, safe while a server runs.

Each change is one transaction that also raises the admin serial number,
which tells a running server to re-read accounts and bans (see
server/watch.py).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from trio_chat.protocol import jsonl
from trio_chat.protocol.rules import fold
from trio_chat.server.accounts import Credential
from trio_chat.server.bans import ServerBan, normal_target
from trio_chat.server.schema import ADMIN_SERIAL


class AdminError(Exception):
    """A command refused: its message says why."""


@dataclass(frozen=True, slots=True)
class Account:
    nick: str
    last_login: str | None  # ISO 8601, UTC; None: not since the server kept it


def accounts(db: sqlite3.Connection) -> list[Account]:
    rows = db.execute(
        "SELECT nick, time FROM accounts LEFT JOIN logins USING (nick) ORDER BY nick"
    ).fetchall()
    return [Account(nick, time) for nick, time in rows]


def reset_password(db: sqlite3.Connection, nick: str, credential: Credential) -> None:
    c = credential
    with _changing(db):
        _registered(db, nick)
        db.execute(
            "UPDATE accounts SET salt = ?, hash = ?, n = ?, r = ?, p = ? WHERE nick = ?",
            (c.salt, c.hash, c.n, c.r, c.p, fold(nick)),
        )


def delete_account(db: sqlite3.Connection, nick: str) -> None:
    """Unregister ``nick``; its private messages are no longer its to read."""
    with _changing(db):
        _registered(db, nick)
        db.execute("DELETE FROM accounts WHERE nick = ?", (fold(nick),))
        db.execute("DELETE FROM logins WHERE nick = ?", (fold(nick),))
        for column in ("sender_account", "target_account"):
            db.execute(
                f"UPDATE private_messages SET {column} = NULL WHERE {column} = ?", (fold(nick),)
            )


def ban(db: sqlite3.Connection, new: ServerBan, now: datetime) -> None:
    expires = jsonl.iso_time(new.expires) if new.expires else ""
    with _changing(db):
        db.execute(
            "INSERT OR REPLACE INTO server_bans VALUES (?, ?, ?, ?, ?)",
            (new.kind, new.target, expires, new.reason, jsonl.iso_time(now)),
        )


def unban(db: sqlite3.Connection, kind: str, target: str) -> None:
    with _changing(db):
        gone = db.execute(
            "DELETE FROM server_bans WHERE kind = ? AND target = ?",
            (kind, normal_target(kind, target)),
        )
        if not gone.rowcount:
            raise AdminError(f"no {kind} ban of {target}")


def bans(db: sqlite3.Connection) -> list[tuple[ServerBan, str]]:
    """Every ban with the time it was set, expired ones included."""
    rows = db.execute(
        "SELECT kind, target, expires, reason, time FROM server_bans ORDER BY kind, target"
    )
    return [
        (ServerBan(kind, target, datetime.fromisoformat(expires) if expires else None, why), time)
        for kind, target, expires, why, time in rows
    ]


def backup(db: sqlite3.Connection, path: Path) -> None:
    """Copy a consistent snapshot of ``db`` into a new file at ``path`` (mode
    600: it holds password hashes and private messages)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        raise AdminError(f"{path} exists already: choose a new file") from None
    except OSError as exc:
        raise AdminError(f"cannot create {path}: {exc.strerror}") from None
    copy = sqlite3.connect(path)
    try:
        db.backup(copy)  # in one step: the server's commits meanwhile wait for none of it
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    except sqlite3.Error:
        copy.close()
        path.unlink()
        raise
    copy.close()


def _registered(db: sqlite3.Connection, nick: str) -> None:
    if db.execute("SELECT 1 FROM accounts WHERE nick = ?", (fold(nick),)).fetchone() is None:
        raise AdminError(f'"{nick}" is not a registered nickname')


@contextmanager
def _changing(db: sqlite3.Connection) -> Iterator[None]:
    """One write transaction that raises the admin serial number."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute(
        "INSERT INTO meta VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET value = value + 1",
        (ADMIN_SERIAL,),
    )
    db.execute("COMMIT")
