"""Retention in the SQLite store: the deletions, each bounded in rows.

Each function does its work inside a transaction the caller opened, so that
the chat's commits, which wait for the one connection, never wait long.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

PRIVATE_COUNTS = """
SELECT account, count(*) FROM (
    SELECT sender_account AS account FROM private_messages WHERE sender_account IS NOT NULL
    UNION ALL
    SELECT target_account FROM private_messages
    WHERE target_account IS NOT NULL AND target_account IS NOT sender_account
) GROUP BY account
"""


def transaction(work: Callable[..., T], *args: object) -> Callable[[sqlite3.Connection], T]:
    def run(db: sqlite3.Connection) -> T:
        with db:
            db.execute("BEGIN")
            return work(db, *args)

    return run


def forget(db: sqlite3.Connection, rooms: list[tuple[str, int]], floor: int) -> None:
    """Drop the rows of ``rooms`` (room, last seq): their events are deleted
    later, a chunk at a time; ``floor`` keeps their numbers from coming back."""
    if not rooms:
        return
    # A room may have stored events again since it was forgotten: its row then stays.
    db.executemany("DELETE FROM rooms WHERE room = ? AND last_seq <= ?", rooms)
    db.executemany(
        "INSERT INTO forgotten_rooms VALUES (?, ?) ON CONFLICT (room)"
        " DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)",
        rooms,
    )
    db.execute(
        "INSERT INTO meta VALUES ('seq_floor', ?) ON CONFLICT (key)"
        " DO UPDATE SET value = max(value, excluded.value)",
        (floor,),
    )


def clear_forgotten(db: sqlite3.Connection, budget: int) -> tuple[int, bool]:
    """Delete up to ``budget`` events of forgotten rooms: (how many, all done)."""
    deleted = 0
    pending = db.execute("SELECT room, last_seq FROM forgotten_rooms LIMIT ?", (budget + 1,))
    for room, last_seq in pending.fetchall():
        if deleted >= budget:
            return deleted, False
        deleted += db.execute(
            "DELETE FROM room_events WHERE room = ? AND seq IN (SELECT seq FROM room_events"
            " WHERE room = ? AND seq <= ? ORDER BY seq LIMIT ?)",
            (room, room, last_seq, budget - deleted),
        ).rowcount
        if deleted >= budget:
            return deleted, False
        db.execute("DELETE FROM forgotten_rooms WHERE room = ? AND last_seq = ?", (room, last_seq))
    return deleted, not db.execute("SELECT 1 FROM forgotten_rooms").fetchone()


def trim_rooms(
    db: sqlite3.Connection, rooms: list[tuple[str, int]], cutoff: str, budget: int
) -> tuple[int, list[tuple[str, int]]]:
    """Delete, oldest first, the events of ``rooms`` (room, up to seq) at or
    below that seq or older than ``cutoff``, up to ``budget`` of them; returns
    how many went and the rooms left to look at."""
    deleted = looked = 0
    rooms = list(rooms)
    while rooms and deleted < budget and looked < budget:
        looked += 1
        room, upto = rooms[-1]
        limit = budget - deleted
        oldest = db.execute(
            "SELECT seq, time FROM room_events WHERE room = ? ORDER BY seq LIMIT ?", (room, limit)
        ).fetchall()
        # Times follow the numbers, so the old events are a prefix of the room.
        old = list(itertools.takewhile(lambda r: r[0] <= upto or r[1] < cutoff, oldest))  # noqa: B023
        if old:
            deleted += db.execute(
                "DELETE FROM room_events WHERE room = ? AND seq <= ?", (room, old[-1][0])
            ).rowcount
        if len(old) < limit:  # the room is done
            rooms.pop()
    return deleted, rooms


def trim_private(db: sqlite3.Connection, account: str, keep: int, budget: int = -1) -> int:
    """Keep the last ``keep`` private messages of ``account``, looking at up
    to ``budget`` older ones (-1: all): the account stops being a party of
    them, and a message goes once no account is. Returns how many it left."""
    older = db.execute(
        "SELECT id FROM private_messages WHERE sender_account = ? OR target_account = ?"
        " ORDER BY id DESC LIMIT ? OFFSET ?",
        (account, account, budget, keep),
    ).fetchall()
    rows = [(id_, account) for (id_,) in older]
    db.executemany(
        "UPDATE private_messages SET sender_account = NULL WHERE id = ? AND sender_account = ?",
        rows,
    )
    db.executemany(
        "UPDATE private_messages SET target_account = NULL WHERE id = ? AND target_account = ?",
        rows,
    )
    db.executemany(
        "DELETE FROM private_messages"
        " WHERE id = ? AND sender_account IS NULL AND target_account IS NULL",
        older,
    )
    return len(older)


def trim_private_by_age(db: sqlite3.Connection, cutoff: str, budget: int) -> int:
    oldest = db.execute(
        "SELECT id, time FROM private_messages ORDER BY id LIMIT ?", (budget,)
    ).fetchall()
    old = list(itertools.takewhile(lambda row: row[1] < cutoff, oldest))
    if not old:
        return 0
    return db.execute("DELETE FROM private_messages WHERE id <= ?", (old[-1][0],)).rowcount
