"""Retention: nothing a guest does grows the history, the memory or the log
directory without limit, and no room ever reuses a sequence number."""

from __future__ import annotations

import functools
import sqlite3
from datetime import datetime, timedelta

import pytest
import trio

from trio_chat import serve
from trio_chat.protocol import events as ev
from trio_chat.server import Limits, MemoryStore, retention
from trio_chat.server.sqlite import SCHEMA, SqliteStore
from trio_chat.server.store import PrivateRecord, Store
from trio_chat.testing import JsonClient, MemoryListener

# --------------------------------------------------------------- helpers


def joined(room: str, seq: int, nick: str = "guest", time: datetime | None = None) -> ev.Joined:
    return ev.Joined(time or ev.now(), room, seq, nick)


def said(room: str, seq: int, text: str = "hi", time: datetime | None = None) -> ev.Message:
    return ev.Message(time or ev.now(), room, seq, "talker", text)


async def come_and_go(store: Store, room: str, say: bool = False) -> None:
    """What a guest's /join then /part of ``room`` stores (and a message)."""
    seq = store.last_seq(room)
    await store.append([joined(room, seq + 1)])
    if say:
        seq += 1
        await store.append([said(room, seq + 1)])
    await store.append([ev.Left(ev.now(), room, seq + 2, "guest", "part")])


def private(sender: str, target: str, text: str, accounts: tuple[str | None, str | None]):
    return PrivateRecord(ev.Private(ev.now(), sender, target, text), *accounts)


def count(path: str, table: str) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


async def start(store: Store, nursery: trio.Nursery, **limits: object):
    listener = MemoryListener()
    options = Limits(flood_rate=0, **limits)  # type: ignore[arg-type]
    serving = functools.partial(serve, [listener], limits=options, store=store)
    server = await nursery.start(serving)
    return server, listener


# ------------------------------------------------------ rooms are bounded


async def test_memory_store_keeps_a_bounded_number_of_rooms():
    store = MemoryStore(keep=10, rooms=5)
    for n in range(1000):
        await come_and_go(store, f"#r{n}")
    assert len(store._rooms) == 5
    assert len(store._index) == 5
    # The forgotten rooms' last numbers live on in the floor.
    assert store.last_seq("#r0") == store.last_seq("#never-seen") >= 2
    assert [e.seq for e in await store.room_history("#r0", limit=10, after=0)] == []
    newest = [e.seq for e in await store.room_history("#r999", limit=10, after=0)]
    assert newest == [store.last_seq("#r999") - 1, store.last_seq("#r999")]


async def test_sqlite_store_keeps_a_bounded_number_of_rooms(tmp_path):
    path = str(tmp_path / "chat.db")
    store = await SqliteStore.open(path, history_rooms=5)
    for n in range(300):
        await come_and_go(store, f"#r{n}")
    await store.prune()
    assert count(path, "rooms") == 5
    assert count(path, "room_events") == 10
    assert count(path, "forgotten_rooms") == 0
    assert len(store._index) == 5
    await store.aclose()


async def test_commits_clear_forgotten_rooms_without_waiting_for_pruning(tmp_path):
    path = str(tmp_path / "chat.db")
    store = await SqliteStore.open(path, history_rooms=5)
    for n in range(300):
        await come_and_go(store, f"#r{n}")
    # no prune: each commit deleted what the rooms it pushed out left
    assert count(path, "room_events") == 5 * 2
    assert count(path, "forgotten_rooms") == 0
    await store.aclose()


async def test_rooms_with_only_comings_and_goings_are_forgotten_first():
    for store in (MemoryStore(rooms=3), await SqliteStore.open(":memory:", history_rooms=3)):
        await store.append([said("#real", 1, "worth keeping")])
        for n in range(50):
            await come_and_go(store, f"#spam{n}")
        kept = await store.room_history("#real", limit=10)
        assert [e.text for e in kept if isinstance(e, ev.Message)] == ["worth keeping"]


async def test_join_part_cycles_through_the_server_leave_bounded_rows(tmp_path):
    path = str(tmp_path / "chat.db")
    store = await SqliteStore.open(path, history_rooms=10)
    async with trio.open_nursery() as nursery:
        server, listener = await start(store, nursery, history_rooms=10)
        guest = await JsonClient.connect(listener)
        await guest.login("guest")
        for n in range(200):
            await guest.send(ev.Join(f"#r{n}"))
            await guest.send(ev.Part(f"#r{n}"))
            await guest.expect(ev.Left)
        await store.prune()
        assert count(path, "rooms") <= 10
        assert count(path, "room_events") <= 10 * 3
        # The hub's own record of emptied rooms shrinks once they are stored.
        assert len(server.chat._emptied) <= 2 * 64 + 1
        server.shutdown()
    await store.aclose()


async def test_the_hub_forgets_emptied_rooms_once_stored(start_chat):
    server, listener = await start_chat(flood_rate=0)
    guest = await JsonClient.connect(listener)
    await guest.login("guest")
    seen: dict[str, int] = {}
    for n in range(500):
        await guest.send(ev.Join(f"#r{n}"))
        await guest.send(ev.Part(f"#r{n}"))
        seen[f"#r{n}"] = (await guest.expect(ev.Left)).seq
    assert len(server.chat._emptied) < 200
    for room, last in list(seen.items())[:20]:  # numbers go on where they stopped
        await guest.send(ev.Join(room))
        assert (await guest.expect(ev.Joined)).seq > last
        await guest.send(ev.Part(room))


# --------------------------------------------- numbers never come back


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_a_room_forgotten_and_created_again_never_reuses_a_number(kind, tmp_path):
    path = str(tmp_path / "chat.db")

    async def opened() -> MemoryStore | SqliteStore:
        if kind == "memory":
            return MemoryStore(rooms=2)
        return await SqliteStore.open(path, history_rooms=2)

    store = await opened()
    await store.append([said("#a", n) for n in range(1, 51)])  # #a reaches 50
    for n in range(10):
        await come_and_go(store, f"#other{n}", say=True)
    assert "#a" not in dict(store._index)
    assert store.last_seq("#a") >= 50  # the floor
    first = store.last_seq("#a") + 1
    await store.append([joined("#a", first)])
    assert await store.room_history("#a", limit=100, after=0) in ([joined("#a", first)], [])
    if isinstance(store, SqliteStore):
        await store.aclose()
        store = await SqliteStore.open(path, history_rooms=2)  # a restart
        assert store.last_seq("#a") == first
        for n in range(10):  # forgotten again, then again after a restart
            await come_and_go(store, f"#more{n}", say=True)
        await store.aclose()
        store = await SqliteStore.open(path, history_rooms=2)
        assert store.last_seq("#brand-new") >= first
        assert store.last_seq("#a") >= first
        await store.aclose()


async def test_numbers_go_on_through_the_server_after_a_room_is_forgotten(tmp_path):
    path = str(tmp_path / "chat.db")
    store = await SqliteStore.open(path, history_rooms=2)
    async with trio.open_nursery() as nursery:
        server, listener = await start(store, nursery, history_rooms=2)
        bot = await JsonClient.connect(listener)
        await bot.login("bot")
        await bot.send(ev.Join("#a"))
        for n in range(5):
            await bot.send(ev.Say(f"m{n}", "#a"))
        last = 0
        while last < 6:
            last = (await bot.expect(ev.Message)).seq
        await bot.send(ev.Part("#a"))
        last = (await bot.expect(ev.Left)).seq
        for n in range(5):  # push #a out of the stored rooms
            await bot.send(ev.Join(f"#x{n}"))
            await bot.send(ev.Say("hello", f"#x{n}"))
            await bot.send(ev.Part(f"#x{n}"))
            await bot.expect(ev.Left)
        assert "#a" not in dict(store._index)
        await bot.send(ev.Join("#a"))
        again = await bot.expect(ev.Joined)
        assert again.seq > last
        server.shutdown()
    await store.aclose()


async def test_a_database_from_before_the_room_cap_opens_and_goes_on(tmp_path):
    path = str(tmp_path / "chat.db")
    db = sqlite3.connect(path)
    with db:  # the rooms table as it was made before
        db.execute("CREATE TABLE rooms (room TEXT PRIMARY KEY, last_seq INTEGER NOT NULL)")
        db.execute("INSERT INTO rooms VALUES ('#old', 41)")
    db.close()
    store = await SqliteStore.open(path, history_rooms=1)
    assert store.last_seq("#OLD") == 41
    await store.append([said("#new", 1)])  # pushes #old out
    assert store.last_seq("#old") == 41  # now as the floor
    await store.aclose()


# ------------------------------------------------------- events per room


async def test_the_events_cap_of_a_room_holds_as_events_are_stored(tmp_path):
    path = str(tmp_path / "chat.db")
    store = await SqliteStore.open(path, history_max=3)
    for n in range(1, 101):
        await store.append([said("#a", n, f"m{n}")])
    assert count(path, "room_events") == 3  # no pruning needed
    kept = await store.room_history("#a", limit=10)
    assert [e.text for e in kept if isinstance(e, ev.Message)] == ["m98", "m99", "m100"]
    await store.aclose()


async def test_pruning_catches_up_with_a_lowered_cap_and_with_age(tmp_path):
    path = str(tmp_path / "chat.db")
    store = await SqliteStore.open(path, history_max=0)
    old = ev.now() - timedelta(days=10)
    await store.append([said("#a", n, time=old) for n in range(1, 21)])
    await store.append([said("#a", n) for n in range(21, 31)])
    await store.append([said("#b", n) for n in range(1, 31)])
    await store.append([private("alice", "bob", "old", ("alice", None))])
    await store.aclose()

    store = await SqliteStore.open(path, history_max=25)
    assert await store.prune(days=5) == 20 + 5 + 0
    assert [e.seq for e in await store.room_history("#a", limit=100, after=0)] == list(
        range(21, 31)
    )
    assert [e.seq for e in await store.room_history("#b", limit=100, after=0)] == list(range(6, 31))
    await store.aclose()


def test_pruning_deletes_in_bounded_chunks():
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.executescript(SCHEMA)
    rows = [(f"#r{r}", n, "2000-01-01T00:00:00Z", 1, "{}") for r in range(3) for n in range(100)]
    db.executemany("INSERT INTO room_events VALUES (?, ?, ?, ?, ?)", rows)
    rooms = [(f"#r{r}", 90) for r in range(3)]
    steps = []
    while rooms:
        deleted, rooms = retention.transaction(retention.trim_rooms, rooms, "", 25)(db)
        steps.append(deleted)
    assert max(steps) <= 25
    assert sum(steps) == 3 * 91
    db.executemany("INSERT INTO forgotten_rooms VALUES (?, ?)", [(f"#r{r}", 99) for r in range(3)])
    cleared = []
    done = False
    while not done:
        deleted, done = retention.transaction(retention.clear_forgotten, 4)(db)
        cleared.append(deleted)
    assert max(cleared) <= 4
    assert sum(cleared) == 3 * 9
    assert db.execute("SELECT count(*) FROM room_events").fetchone()[0] == 0


# ------------------------------------------------------ private messages


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_private_messages_are_capped_per_account(kind):
    store: MemoryStore | SqliteStore = (
        MemoryStore(private=5)
        if kind == "memory"
        else await SqliteStore.open(":memory:", private_max=5)
    )
    for n in range(40):
        await store.append([private("alice", "bob", f"a{n}", ("alice", "bob"))])
        await store.append([private("mallory", "carol", f"m{n}", (None, "carol"))])
    await store.append([private("bob", "alice", "latest", ("bob", "alice"))])
    alice = await store.private_history("alice", "bob", limit=100)
    assert [e.text for e in alice] == ["a36", "a37", "a38", "a39", "latest"]
    carol = await store.private_history("carol", "mallory", limit=100)
    assert [e.text for e in carol] == [f"m{n}" for n in range(35, 40)]
    if isinstance(store, SqliteStore):
        rows = await store._run(
            lambda db: db.execute("SELECT count(*) FROM private_messages").fetchone()[0]
        )
        assert rows <= 2 * 5 + 1  # within a tenth (rounded down) of the cap, per account
        await store.aclose()


async def test_private_cap_stays_within_a_tenth_over_between_trims():
    store = await SqliteStore.open(":memory:", private_max=100)
    for n in range(1000):
        await store.append([private("alice", "alice", f"{n}", ("alice", "alice"))])
        rows = await store._run(
            lambda db: db.execute("SELECT count(*) FROM private_messages").fetchone()[0]
        )
        assert rows <= 110
    kept = await store.private_history("alice", "alice", limit=1000)
    assert len(kept) >= 100
    assert kept[-1].text == "999"
    await store.aclose()


async def test_messages_between_guests_are_not_stored(tmp_path):
    path = str(tmp_path / "chat.db")
    store = await SqliteStore.open(path)
    async with trio.open_nursery() as nursery:
        server, listener = await start(store, nursery)
        dave = await JsonClient.connect(listener)
        await dave.login("dave")
        erin = await JsonClient.connect(listener)
        await erin.login("erin")
        for n in range(20):
            await dave.send(ev.Tell("erin", f"psst {n}"))
            await dave.send(ev.Tell("dave", f"note to self {n}"))
        for n in range(20):
            assert (await erin.expect(ev.Private)).text == f"psst {n}"
        server.shutdown()
    await store.aclose()
    assert count(path, "private_messages") == 0
    memory = MemoryStore()
    await memory.append([private("dave", "erin", "psst", (None, None))])
    assert memory._private == {}
