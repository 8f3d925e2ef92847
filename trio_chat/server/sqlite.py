"""The durable store: SQLite, driven from trio through one worker thread.

One connection in WAL mode, used by one thread at a time. ``append`` writes a
whole batch in one transaction (group commit): under load the pump's batches
grow while a commit runs, so the cost of a commit is shared by many messages.
``synchronous=NORMAL`` survives the server being killed, though not the
machine losing power in the middle of a commit.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import TypeVar

import trio

from trio_chat.chat import PrivateRecord, RoomSettings, Stored
from trio_chat.chat.effects import settings_from_json, settings_json
from trio_chat.chat.numbering import RoomIndex
from trio_chat.protocol import events as ev
from trio_chat.protocol import jsonl
from trio_chat.protocol.rules import fold
from trio_chat.server import retention, schema
from trio_chat.server.accounts import Credential
from trio_chat.server.store import CHAT, select_room_events

T = TypeVar("T")


def _line(event: ev.Event) -> str:
    return jsonl.encode(event).decode().rstrip("\n")


log = logging.getLogger("trio_chat.server")
PRUNE_EVERY = 3600.0
CHECKPOINT_EVERY = 1.0
PRUNE_CHUNK = 1000  # rows one pruning transaction deletes at most
APPEND_CHUNK = 200  # rows of forgotten rooms a commit of new events may delete, at least

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
CREATE TABLE IF NOT EXISTS forgotten_rooms (
    room TEXT PRIMARY KEY,       -- its events up to last_seq are still to be deleted
    last_seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,        -- seq_floor: the highest last_seq of a forgotten room
    value INTEGER NOT NULL
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
CREATE TABLE IF NOT EXISTS room_settings (
    room TEXT PRIMARY KEY,       -- folded name of a room with an owner
    body TEXT NOT NULL           -- its RoomSettings as JSON (see settings_json)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS server_keys (
    name TEXT PRIMARY KEY,       -- cloak: the key of members' cloaks (see cloak.py)
    value BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS accounts (
    nick TEXT PRIMARY KEY,       -- folded
    salt BLOB NOT NULL,
    hash BLOB NOT NULL,
    n INTEGER NOT NULL,
    r INTEGER NOT NULL,
    p INTEGER NOT NULL
) WITHOUT ROWID;
"""
# Added to rooms after the first release; a database made before gets them
# on opening (ALTER TABLE), its rooms counting as active and least recent.
ROOM_COLUMNS = {
    "last_time": "TEXT NOT NULL DEFAULT ''",  # of its last event: orders rooms by activity
    "chat": "INTEGER NOT NULL DEFAULT 1",  # 0 while it has had no message or action
}


class SqliteStore:
    """History and accounts in one SQLite file (or ``:memory:``).

    Retention: the last ``history_max`` events of each room (0: no cap), for
    at most ``history_rooms`` rooms (see RoomIndex), and the last
    ``private_max`` private messages of each account (0: no cap). These
    caps are kept as events are stored; ``prune`` applies the age limit and
    catches up with what a commit leaves for later.
    """

    def __init__(
        self,
        connection: sqlite3.Connection,
        path: str = ":memory:",
        *,
        history_max: int = 100_000,
        history_rooms: int = 10_000,
        private_max: int = 10_000,
    ) -> None:
        self._db = connection
        self.path = path
        self.history_max = history_max
        self.private_max = private_max
        self._one_at_a_time = trio.CapacityLimiter(1)
        self._index = RoomIndex(history_rooms)
        self._private_count: dict[str, int] = {}  # per account, an estimate from above
        self._settings: dict[str, RoomSettings] = {}
        self.cloak_key = b""

    @classmethod
    async def open(
        cls,
        path: str,
        *,
        synchronous: str = "NORMAL",
        history_max: int = 100_000,
        history_rooms: int = 10_000,
        private_max: int = 10_000,
    ) -> SqliteStore:
        def connect() -> sqlite3.Connection:
            db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            try:
                schema.check_version(db, path)  # before anything changes the file
            except schema.SchemaError:
                db.close()
                raise
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={synchronous}")
            # In WAL mode a commit writes the log and a checkpoint syncs it
            # into the database file: keep that slow step out of the commits
            # the chat waits for (see maintain).
            db.execute("PRAGMA wal_autocheckpoint=0")
            # ``trio-chat admin`` may hold the database for a moment
            db.execute(f"PRAGMA busy_timeout={int(schema.BUSY_TIMEOUT * 1000)}")
            db.executescript(SCHEMA)
            have = {row[1] for row in db.execute("PRAGMA table_info(rooms)")}
            for name, kind in ROOM_COLUMNS.items():
                if name not in have:
                    db.execute(f"ALTER TABLE rooms ADD COLUMN {name} {kind}")
            schema.upgrade(db, path)
            return db

        caps = {"history_max": history_max, "history_rooms": history_rooms}
        store = cls(await trio.to_thread.run_sync(connect), path, private_max=private_max, **caps)
        await store._run(store._load)
        return store

    def _load(self, db: sqlite3.Connection) -> None:
        floor = db.execute("SELECT value FROM meta WHERE key = 'seq_floor'").fetchone()
        self._index.floor = floor[0] if floor else 0
        rooms = db.execute("SELECT room, last_seq, chat FROM rooms ORDER BY last_time, room")
        for room, last_seq, chat in rooms:
            self._index.touch(room, last_seq, bool(chat))
        self._private_count = dict(db.execute(retention.PRIVATE_COUNTS).fetchall())
        rows = db.execute("SELECT room, body FROM room_settings").fetchall()
        self._settings = {room: settings_from_json(body) for room, body in rows}
        db.execute(
            "INSERT OR IGNORE INTO server_keys VALUES ('cloak', ?)", (secrets.token_bytes(32),)
        )
        (self.cloak_key,) = db.execute(
            "SELECT value FROM server_keys WHERE name = 'cloak'"
        ).fetchone()

    async def aclose(self) -> None:
        await self._run(lambda db: db.close())

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await trio.to_thread.run_sync(work, self._db, limiter=self._one_at_a_time)

    # ------------------------------------------------------------- history

    def last_seq(self, room: str) -> int:
        return self._index.last_seq(fold(room))

    async def append(self, events: Sequence[Stored]) -> None:
        rooms: list[tuple[str, int, str, bool, str]] = []
        private: list[tuple[str, str, str | None, str | None, str, str]] = []
        latest: dict[str, tuple[int, str, bool]] = {}  # room -> (last_seq, time, chat)
        trims: dict[str, tuple[int, int]] = {}  # room -> the seqs to delete: (above, up to)
        for e in events:
            if isinstance(e, PrivateRecord):
                if not e.accounts:  # between guests: nobody could ever read it
                    continue
                p = e.event
                row = (fold(p.sender), fold(p.target), e.sender_account, e.target_account)
                private.append((*row, jsonl.iso_time(p.time), _line(p)))
                for account in e.accounts:
                    self._private_count[account] = self._private_count.get(account, 0) + 1
                continue
            room, chat, time = fold(e.room), isinstance(e, CHAT), jsonl.iso_time(e.time)
            rooms.append((room, e.seq, time, chat, _line(e)))
            if self.history_max and e.seq > self.history_max:
                # the events this one pushes out of the room's cap
                above = trims.get(room, (self._index.last_seq(room) - self.history_max, 0))[0]
                trims[room] = (above, e.seq - self.history_max)
            self._index.touch(room, e.seq, chat)
            last, _, had_chat = latest.get(room, (0, "", False))
            latest[room] = (max(last, e.seq), time, had_chat or chat)
        forgotten = self._index.overflow()
        floor = self._index.floor
        crowded = self._over_private_cap()
        # Deleting what forgotten rooms left keeps pace with what is added.
        budget = max(APPEND_CHUNK, 2 * (len(rooms) + len(private)))

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
                    "INSERT INTO rooms VALUES (?, ?, ?, ?) ON CONFLICT (room) DO UPDATE SET"
                    " last_seq = max(last_seq, excluded.last_seq),"
                    " last_time = excluded.last_time, chat = chat OR excluded.chat",
                    [(room, *fields) for room, fields in latest.items()],
                )
                db.executemany(
                    "DELETE FROM room_events WHERE room = ? AND seq > ? AND seq <= ?",
                    [(room, *seqs) for room, seqs in trims.items()],
                )
                retention.forget(db, forgotten, floor)
                for account in crowded:
                    retention.trim_private(db, account, self.private_max)
                retention.clear_forgotten(db, budget)

        await self._run(write)

    def _over_private_cap(self) -> list[str]:
        """Accounts a tenth over the cap: trimmed back to it in this commit,
        so that the cost of finding what goes is shared by many messages."""
        if not self.private_max:
            return []
        past = self.private_max + self.private_max // 10
        crowded = [a for a, count in self._private_count.items() if count > past]
        for account in crowded:
            self._private_count[account] = self.private_max
        return crowded

    def room_settings(self) -> dict[str, RoomSettings]:
        return dict(self._settings)

    async def save_rooms(self, rooms: Mapping[str, RoomSettings]) -> None:
        rows = [(room, settings_json(settings)) for room, settings in rooms.items()]
        await self._run(
            lambda db: db.executemany("INSERT OR REPLACE INTO room_settings VALUES (?, ?)", rows)
        )

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

    async def prune(self, *, days: float = 0) -> int:
        """Apply retention: forget events older than ``days`` (0: never), all
        but the last ``history_max`` of each room, the rest of what forgotten
        rooms left, and private messages over the cap. Works in transactions
        of at most PRUNE_CHUNK rows, so the chat's commits go on in between;
        returns how many rows went."""
        cutoff = jsonl.iso_time(ev.now() - timedelta(days=days)) if days > 0 else ""
        gone = 0
        done = False
        while not done:
            deleted, done = await self._run(
                retention.transaction(retention.clear_forgotten, PRUNE_CHUNK)
            )
            gone += deleted
        cap = self.history_max
        rooms = [(room, last - cap if cap else 0) for room, last in self._index]
        while rooms:
            deleted, rooms = await self._run(
                retention.transaction(retention.trim_rooms, rooms, cutoff, PRUNE_CHUNK)
            )
            gone += deleted
        while cutoff:
            deleted = await self._run(
                retention.transaction(retention.trim_private_by_age, cutoff, PRUNE_CHUNK)
            )
            gone += deleted
            if deleted < PRUNE_CHUNK:
                break
        for account in self._over_private_cap():
            trim = retention.transaction(
                retention.trim_private, account, self.private_max, PRUNE_CHUNK
            )
            while (trimmed := await self._run(trim)) == PRUNE_CHUNK:
                gone += trimmed
            gone += trimmed
        return gone

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


async def maintain(store: SqliteStore, *, days: float) -> None:
    """Checkpoint the log every second and apply retention every hour.

    Checkpoints use a connection of their own, so they run beside the
    commits rather than inside one; a database in memory has no log.
    """
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_prune_forever, store, days)
        if store.path != ":memory:":
            nursery.start_soon(_checkpoint_forever, store.path)


async def _prune_forever(store: SqliteStore, days: float) -> None:
    while True:
        if gone := await store.prune(days=days):
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
