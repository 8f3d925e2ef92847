"""RedisStore: the history of broker mode answers as the memory store does,
keeps one copy of what several servers append, and stays bounded."""

from __future__ import annotations

import functools
import logging

import coredis
import pytest
import trio

from trio_chat import serve
from trio_chat.cluster.redis_store import RedisStore
from trio_chat.protocol import events as ev
from trio_chat.server import Limits, MemoryStore
from trio_chat.server.store import PrivateRecord
from trio_chat.testing import JsonClient, MemoryListener


def no_numbers(room: str) -> int:
    return 0


@pytest.fixture
async def redis(redis_server):
    async with coredis.Redis.from_url(redis_server.url, decode_responses=False) as client:
        yield client


def event(seq: int, room: str = "#lobby") -> ev.RoomEvent:
    """Messages, actions, joins and leaves, in a pattern, so that reads must skip some."""
    time = ev.now()
    match seq % 4:
        case 0:
            return ev.Joined(time, room, seq, f"n{seq}")
        case 1:
            return ev.Message(time, room, seq, "talker", f"m{seq}")
        case 2:
            return ev.Action(time, room, seq, "talker", f"waves {seq}")
        case _:
            return ev.Left(time, room, seq, f"n{seq}", "bye")


def private(sender: str, target: str, text: str, accounts: tuple[str | None, str | None]):
    return PrivateRecord(ev.Private(ev.now(), sender, target, text), *accounts)


def seqs(events: list[ev.RoomEvent]) -> list[int]:
    return [e.seq for e in events]


async def test_room_history_answers_as_the_memory_store_does(redis):
    memory = MemoryStore(keep=1000)
    store = RedisStore(redis, last_seq=no_numbers)
    for first in range(1, 61, 7):  # batches of several events, some rooms mixed in
        batch = [event(n) for n in range(first, min(first + 7, 61))] + [event(first, "#Other")]
        await memory.append(batch)
        await store.append(batch)
    with trio.fail_after(10):
        for limit in (1, 5, 100):
            for before in (None, 0, 1, 2, 10, 31, 61, 500):
                for after in (None, 0, 5, 29, 60):
                    query = {"limit": limit, "before": before, "after": after}
                    expected = await memory.room_history("#LOBBY", **query)
                    assert await store.room_history("#LOBBY", **query) == expected, query
    assert seqs(await store.room_history("#other", limit=100, after=0)) == list(range(1, 61, 7))
    assert await store.room_history("#nowhere", limit=10) == []


async def test_private_history_answers_as_the_memory_store_does(redis):
    memory = MemoryStore(private=5)
    store = RedisStore(redis, last_seq=no_numbers, private_max=5)
    for n in range(40):
        batch = [
            private("alice", "bob", f"a{n}", ("alice", "bob")),
            private("mallory", "carol", f"m{n}", (None, "carol")),
            private("dave", "erin", f"guests {n}", (None, None)),
        ]
        await memory.append(batch)
        await store.append(batch)
    latest = [private("bob", "alice", "latest", ("bob", "alice"))]
    await memory.append(latest)
    await store.append(latest)
    with trio.fail_after(10):
        for account, other in [
            ("alice", "BOB"),
            ("bob", "alice"),
            ("carol", "mallory"),
            ("carol", "alice"),
            ("dave", "erin"),
            ("mallory", "carol"),
        ]:
            for limit in (1, 3, 100):
                expected = await memory.private_history(account, other, limit=limit)
                got = await store.private_history(account, other, limit=limit)
                assert got == expected, (account, other, limit)
    alice = await store.private_history("alice", "bob", limit=100)
    assert [e.text for e in alice] == ["a36", "a37", "a38", "a39", "latest"]


async def test_the_same_events_appended_twice_are_kept_once(redis):
    store = RedisStore(redis, last_seq=no_numbers)
    batch = [event(n) for n in range(1, 6)]
    await store.append(batch)
    await store.append(batch)
    assert await store.room_history("#lobby", limit=100, after=0) == batch


async def test_overlapping_appends_from_two_servers_keep_each_event_once_in_order(redis):
    one = RedisStore(redis, last_seq=no_numbers)
    other = RedisStore(redis, last_seq=no_numbers)
    events = {n: event(n) for n in range(1, 9)}
    await one.append([events[n] for n in range(1, 6)])
    await other.append([events[n] for n in range(3, 9)])
    assert await one.room_history("#lobby", limit=100, after=0) == list(events.values())


async def test_private_messages_are_stored_once_per_party_with_no_dedup(redis):
    store = RedisStore(redis, last_seq=no_numbers)
    record = private("alice", "bob", "twice", ("alice", "bob"))
    await store.append([record, event(1), record])
    assert [e.text for e in await store.private_history("bob", "alice", limit=10)] == [
        "twice",
        "twice",
    ]
    assert await redis.xlen(store.private_key("alice")) == 2


async def test_a_room_keeps_about_its_cap_and_numbers_stay_above_the_trimmed(redis):
    store = RedisStore(redis, last_seq=no_numbers, keep=100)
    for first in range(1, 1001, 10):
        await store.append([event(n) for n in range(first, first + 10)])
    kept = await redis.xlen(store.room_key("#lobby"))
    assert 100 <= kept <= 300  # trimmed a node of entries at a time
    assert seqs(await store.room_history("#lobby", limit=10, after=0))[0] > 700
    await store.append([event(1)])  # a late copy of a trimmed event is not taken back
    assert await redis.xlen(store.room_key("#lobby")) == kept
    newest = await store.room_history("#lobby", limit=3)
    assert seqs(newest) == [994, 997, 998]  # messages and actions only


async def test_no_cap_keeps_everything(redis):
    store = RedisStore(redis, last_seq=no_numbers, keep=0, private_max=0)
    await store.append([event(n) for n in range(1, 301)])
    await store.append([private("a", "b", f"{n}", ("a", None)) for n in range(300)])
    assert await redis.xlen(store.room_key("#lobby")) == 300
    assert len(await store.room_history("#lobby", limit=1000)) == 150
    assert len(await store.private_history("a", "b", limit=1000)) == 300


async def test_looking_back_for_messages_reads_at_most_the_cap(redis):
    store = RedisStore(redis, last_seq=no_numbers, keep=300)
    await store.append([event(1)])
    comings_and_goings = [ev.Joined(ev.now(), "#lobby", n, "guest") for n in range(2, 1000)]
    await store.append(comings_and_goings)
    assert await store.room_history("#lobby", limit=10) == []  # m1 is beyond the newest 300


async def test_an_entry_that_is_not_an_event_is_skipped_and_logged_once(redis, caplog):
    store = RedisStore(redis, last_seq=no_numbers)
    key = store.room_key("#lobby")
    await store.append([event(1), event(2)])
    await redis.xadd(key, {"x": "no e field"}, identifier="3-0")
    await redis.xadd(key, {"e": "{not json"}, identifier="4-0")
    await redis.xadd(key, {"e": b"\xff\xfe"}, identifier="5-0")
    await store.append([event(n) for n in range(3, 10)])  # 3, 4 and 5 are taken
    with caplog.at_level(logging.WARNING, logger="trio_chat.cluster"):
        assert seqs(await store.room_history("#lobby", limit=100, after=0)) == [1, 2, 6, 7, 8, 9]
        assert seqs(await store.room_history("#lobby", limit=100)) == [1, 2, 6, 9]
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == [f"{key}: skipped 3 entries that are not events"] * 2
    await redis.xadd(store.private_key("alice"), {"e": "[]", "s": "alice"})
    await store.append([private("alice", "bob", "fine", ("alice", None))])
    assert [e.text for e in await store.private_history("alice", "bob", limit=5)] == ["fine"]


async def test_last_seq_is_what_the_chat_numbering_says(redis):
    numbers = {"#lobby": 41}
    store = RedisStore(redis, last_seq=lambda room: numbers.get(room, 0))
    await store.append([event(5)])
    assert store.last_seq("#lobby") == 41
    assert store.last_seq("#elsewhere") == 0


async def test_stores_with_other_prefixes_do_not_see_each_other(redis):
    one = RedisStore(redis, last_seq=no_numbers, prefix="chat-one:")
    other = RedisStore(redis, last_seq=no_numbers, prefix="chat-two:")
    await one.append([event(1)])
    assert await other.room_history("#lobby", limit=10) == []
    assert await redis.exists(["chat-one:room:#lobby"]) == 1


async def test_history_outlives_a_redis_restart_with_appendonly(persistent_redis):
    with trio.fail_after(10):
        async with coredis.Redis.from_url(persistent_redis.url, decode_responses=False) as redis:
            store = RedisStore(redis, last_seq=no_numbers)
            await store.append([event(n) for n in range(1, 4)])
            await persistent_redis.stop()
            await persistent_redis.start()
            assert seqs(await store.room_history("#lobby", limit=10, after=0)) == [1, 2, 3]
            await store.append([event(n) for n in range(3, 6)])  # the script is loaded again
            assert seqs(await store.room_history("#lobby", limit=10, after=0)) == [1, 2, 3, 4, 5]


async def test_a_server_keeps_its_history_in_redis(redis, nursery):
    store = RedisStore(redis, last_seq=no_numbers)
    listener = MemoryListener()
    serving = functools.partial(serve, [listener], limits=Limits(flood_rate=0), store=store)
    server = await nursery.start(serving)
    with trio.fail_after(10):
        talker = await JsonClient.connect(listener)
        await talker.login("talker")
        for n in range(3):
            await talker.send(ev.Say(f"hello {n}"))
            await talker.expect(ev.Message)
        late = await JsonClient.connect(listener)
        await late.login("late")
        history = await late.expect(ev.History)
        assert [e.text for e in history.events if isinstance(e, ev.Message)] == [
            f"hello {n}" for n in range(3)
        ]
    server.shutdown()
