"""The durable store: SQLite, driven from trio through one worker thread.

One connection in WAL mode, used by one thread at a time. ``append`` writes a
whole batch in one transaction (group commit): under load the hub's batches
grow while a commit runs, so the cost of a commit is shared by many messages.
``synchronous=NORMAL`` survives the server being killed, though not the
machine losing power in the middle of a commit.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TypeVar

import trio

from trio_chat.protocol import events as ev
from trio_chat.protocol import jsonl
from trio_chat.protocol.rules import fold
from trio_chat.server.accounts import Credential
from trio_chat.server.store import PrivateRecord, Stored, select_room_events

T = TypeVar("T")


def _line(event: ev.Event) -> str:
    return jsonl.encode(event).decode().rstrip("\n")


log = logging.getLogger("trio_chat.server")
PRUNE_EVERY = 3600.0
CHECKPOINT_EVERY = 1.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS room_events (
    room TEXT NOT NULL,          -- folded name
    seq INTEGER NOT NULL,
    time TEXT NOT NULL,          -- ISO 8601, UTC
    chat INTEGER NOT NULL,       -- 1 for messages and actions
    body TEXT NOT NULL,          -- the event as its JSON line
    PRIMARY KEY (room, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rooms (
    room TEXT PRIMARY KEY,       -- folded name
    last_seq INTEGER NOT NULL    -- outlives pruning, so numbers never repeat
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS private_messages (
    id INTEGER PRIMARY KEY,
    sender TEXT NOT NULL,        -- folded nicks
    target TEXT NOT NULL,
    sender_account TEXT,         -- the folded registered nick, NULL for a guest
    target_account TEXT,
    time TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS private_by_sender ON private_messages (sender_account, target);
CREATE INDEX IF NOT EXISTS private_by_target ON private_messages (target_account, sender);
CREATE TABLE IF NOT EXISTS accounts (
    nick TEXT PRIMARY KEY,       -- folded
    salt BLOB NOT NULL,
    hash BLOB NOT NULL,
    n INTEGER NOT NULL,
    r INTEGER NOT NULL,
    p INTEGER NOT NULL
) WITHOUT ROWID;
"""


class SqliteStore:
    """History and accounts in one SQLite file (or ``:memory:``)."""

    def __init__(self, connection: sqlite3.Connection, path: str = ":memory:") -> None:
        self._db = connection
        self.path = path
        self._one_at_a_time = trio.CapacityLimiter(1)
        self._last_seq: dict[str, int] = {}

    @classmethod
    async def open(cls, path: str, *, synchronous: str = "NORMAL") -> SqliteStore:
        def connect() -> sqlite3.Connection:
            db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={synchronous}")
            # In WAL mode a commit writes the log and a checkpoint syncs it
            # into the database file: keep that slow step out of the commits
            # the chat waits for (see maintain).
            db.execute("PRAGMA wal_autocheckpoint=0")
            db.executescript(SCHEMA)
            return db

        store = cls(await trio.to_thread.run_sync(connect), path)
        rows = await store._run(
            lambda db: db.execute("SELECT room, last_seq FROM rooms").fetchall()
        )
        store._last_seq = dict(rows)
        return store

    async def aclose(self) -> None:
        await self._run(lambda db: db.close())

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await trio.to_thread.run_sync(work, self._db, limiter=self._one_at_a_time)

    # ------------------------------------------------------------- history

    def last_seq(self, room: str) -> int:
        return self._last_seq.get(fold(room), 0)

    async def append(self, events: Sequence[Stored]) -> None:
        rooms: list[tuple[str, int, str, bool, str]] = []
        private: list[tuple[str, str, str | None, str | None, str, str]] = []
        for e in events:
            if isinstance(e, PrivateRecord):
                p = e.event
                body = _line(p)
                row = (fold(p.sender), fold(p.target), e.sender_account, e.target_account)
                private.append((*row, jsonl.iso_time(p.time), body))
            else:
                body = _line(e)
                chat = isinstance(e, ev.Message | ev.Action)
                rooms.append((fold(e.room), e.seq, jsonl.iso_time(e.time), chat, body))
        seqs: dict[str, int] = {}
        for room, seq, *_ in rooms:
            seqs[room] = max(seq, seqs.get(room, 0))

        def write(db: sqlite3.Connection) -> None:
            with db:  # one transaction for the whole batch
                db.execute("BEGIN")
                db.executemany("INSERT INTO room_events VALUES (?, ?, ?, ?, ?)", rooms)
                db.executemany(
                    "INSERT INTO private_messages"
                    " (sender, target, sender_account, target_account, time, body)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    private,
                )
                db.executemany(
                    "INSERT INTO rooms VALUES (?, ?) ON CONFLICT (room)"
                    " DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)",
                    seqs.items(),
                )

        await self._run(write)
        self._last_seq.update(seqs)

    async def room_history(
        self, room: str, *, limit: int, before: int | None = None, after: int | None = None
    ) -> list[ev.RoomEvent]:
        below = 2**62 if before is None else before
        if after is not None:
            sql = (
                "SELECT body FROM room_events WHERE room = ? AND seq > ? AND seq < ?"
                " ORDER BY seq LIMIT ?"
            )
            args: tuple[object, ...] = (fold(room), after, below, limit)
        else:
            sql = (
                "SELECT body FROM room_events WHERE room = ? AND chat AND seq < ?"
                " ORDER BY seq DESC LIMIT ?"
            )
            args = (fold(room), below, limit)
        rows = await self._run(lambda db: db.execute(sql, args).fetchall())
        found = [jsonl.decode_event(body) for (body,) in rows]
        newest_first = found if after is None else found[::-1]
        return select_room_events(
            [e for e in newest_first if isinstance(e, ev.RoomEvent)],
            limit=limit,
            before=before,
            after=after,
        )

    async def private_history(self, account: str, other: str, *, limit: int) -> list[ev.Private]:
        sql = (
            "SELECT body FROM private_messages WHERE (sender_account = ? AND target = ?)"
            " OR (target_account = ? AND sender = ?) ORDER BY id DESC LIMIT ?"
        )
        args = (account, fold(other), account, fold(other), limit)
        rows = await self._run(lambda db: db.execute(sql, args).fetchall())
        found = [jsonl.decode_event(body) for (body,) in reversed(rows)]
        return [e for e in found if isinstance(e, ev.Private)]

    async def prune(self, *, days: float, keep_per_room: int) -> int:
        """Forget events older than ``days`` (0: never) and all but the last
        ``keep_per_room`` of each room (0: no cap); returns how many went."""
        cutoff = jsonl.iso_time(ev.now() - timedelta(days=days)) if days > 0 else None

        def delete(db: sqlite3.Connection) -> int:
            gone = 0
            with db:
                db.execute("BEGIN")
                if cutoff is not None:
                    gone += db.execute("DELETE FROM room_events WHERE time < ?", (cutoff,)).rowcount
                    gone += db.execute(
                        "DELETE FROM private_messages WHERE time < ?", (cutoff,)
                    ).rowcount
                if keep_per_room > 0:
                    gone += db.execute(
                        "DELETE FROM room_events WHERE seq <= (SELECT last_seq FROM rooms"
                        " WHERE rooms.room = room_events.room) - ?",
                        (keep_per_room,),
                    ).rowcount
            return gone

        return await self._run(delete)

    # ------------------------------------------------------------ accounts

    async def load_credentials(self) -> dict[str, Credential]:
        rows = await self._run(
            lambda db: db.execute("SELECT nick, salt, hash, n, r, p FROM accounts").fetchall()
        )
        return {nick: Credential(salt, hash_, n, r, p) for nick, salt, hash_, n, r, p in rows}

    async def save_credential(self, nick: str, credential: Credential) -> None:
        c = credential
        await self._run(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO accounts VALUES (?, ?, ?, ?, ?, ?)",
                (nick, c.salt, c.hash, c.n, c.r, c.p),
            )
        )


async def maintain(store: SqliteStore, *, days: float, keep_per_room: int) -> None:
    """Checkpoint the log every second and apply retention every hour.

    Checkpoints use a connection of their own, so they run beside the
    commits rather than inside one; a database in memory has no log.
    """
    async with trio.open_nursery() as nursery:
        if days > 0 or keep_per_room > 0:
            nursery.start_soon(_prune_forever, store, days, keep_per_room)
        if store.path != ":memory:":
            nursery.start_soon(_checkpoint_forever, store.path)


async def _prune_forever(store: SqliteStore, days: float, keep_per_room: int) -> None:
    while True:
        if gone := await store.prune(days=days, keep_per_room=keep_per_room):
            log.info("history: %d old event(s) pruned", gone)
        await trio.sleep(PRUNE_EVERY)


async def _checkpoint_forever(path: str) -> None:
    db = await trio.to_thread.run_sync(lambda: sqlite3.connect(path, check_same_thread=False))
    try:
        while True:
            await trio.sleep(CHECKPOINT_EVERY)
            await trio.to_thread.run_sync(db.execute, "PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        db.close()
