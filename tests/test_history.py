"""History: replay, paging, resume, and the SQLite store across restarts."""

from __future__ import annotations

import functools

import trio

from trio_chat import serve
from trio_chat.protocol import events as ev
from trio_chat.server import Limits
from trio_chat.server.roomlog import LoggedStore
from trio_chat.server.sqlite import SqliteStore
from trio_chat.testing import JsonClient, MemoryListener, TextClient


async def said(client: JsonClient, count: int) -> list[str]:
    texts = []
    while len(texts) < count:
        event = await client.receive()
        if isinstance(event, ev.Message):
            texts.append(event.text)
    return texts


async def test_a_resuming_client_gets_exactly_what_it_missed(start_chat):
    _, listener = await start_chat(flood_rate=0)
    talker = await JsonClient.connect(listener)
    await talker.login("talker")
    away = await JsonClient.connect(listener)
    await away.login("away")
    await talker.send(ev.Say("before"))
    last = (await away.expect(ev.Message)).seq
    await away.stream.aclose()  # the connection drops

    for n in range(100):
        await talker.send(ev.Say(f"missed {n}"))
    assert (await said(talker, 101))[-1] == "missed 99"

    back = await JsonClient.connect(listener)
    await back.send(ev.Hello("away", resume=(ev.RoomSeq("#lobby", last),)))
    await back.expect(ev.Welcome)
    history = await back.expect(ev.History)
    assert [e.seq for e in history.events] == list(range(last + 1, last + 1 + len(history.events)))
    missed = [e.text for e in history.events if isinstance(e, ev.Message)]
    assert missed == [f"missed {n}" for n in range(100)]
    joined = await back.expect(ev.Joined)
    assert joined.seq == history.events[-1].seq + 1  # live events go on from there

    await talker.send(ev.Say("live"))
    assert (await back.expect(ev.Message)).text == "live"  # nothing replayed twice


async def test_history_pages_by_sequence_number(start_chat):
    _, listener = await start_chat(flood_rate=0, history_page=10)
    bot = await JsonClient.connect(listener)
    await bot.login("bot")
    for n in range(30):
        await bot.send(ev.Say(f"m{n}"))
    newest = await said(bot, 30)
    assert newest[-1] == "m29"

    await bot.send(ev.GetHistory(limit=1000))  # capped at the page size
    page = (await bot.expect(ev.History)).events
    assert [e.text for e in page if isinstance(e, ev.Message)] == [f"m{n}" for n in range(20, 30)]
    await bot.send(ev.GetHistory(before=page[0].seq, limit=5))
    earlier = (await bot.expect(ev.History)).events
    assert [e.text for e in earlier if isinstance(e, ev.Message)] == [
        f"m{n}" for n in range(15, 20)
    ]
    await bot.send(ev.GetHistory(after=earlier[0].seq, limit=3))
    after = (await bot.expect(ev.History)).events
    assert [e.seq for e in after] == [earlier[0].seq + 1, earlier[0].seq + 2, earlier[0].seq + 3]


async def test_private_history_is_visible_only_to_its_two_parties(start_chat):
    _, listener = await start_chat()
    people = {}
    for nick in ("alice", "bob", "carol"):
        people[nick] = client = await TextClient.connect(listener)
        await client.login(nick)
        await client.send_line(f"/register {nick}-password")
        await client.expect("is registered")
    alice, bob, carol = people.values()
    await alice.send_line("/msg bob our secret")
    await bob.expect(r"\[private\] alice -> bob: our secret$")

    await bob.send_line("/history @alice")
    await bob.expect(r"\* private messages with alice: 1 earlier")
    assert (await bob.receive_line()).endswith("[private] alice -> bob: our secret")
    await carol.send_line("/history @alice")
    await carol.expect(r"\* private messages with alice: 0 earlier")

    # A guest keeps no private history, so no later holder of its nick reads it.
    guest = await TextClient.connect(listener)
    await guest.login("dave")
    await guest.send_line("/history @alice")
    assert "registered nicknames only" in (await guest.expect("^!")).string


async def run_chat(store, nursery):
    listener = MemoryListener()
    limits = Limits(flood_rate=0)
    server = await nursery.start(functools.partial(serve, [listener], limits=limits, store=store))
    return server, listener


async def test_history_and_sequence_numbers_survive_a_restart(tmp_path):
    path = str(tmp_path / "chat.db")
    store = await SqliteStore.open(path)
    async with trio.open_nursery() as nursery:
        server, listener = await run_chat(store, nursery)
        alice = await JsonClient.connect(listener)
        await alice.login("alice")
        for n in range(3):
            await alice.send(ev.Say(f"first life {n}"))
        last = (await alice.expect(ev.Message)).seq
        while last < 4:
            last = (await alice.expect(ev.Message)).seq
        server.shutdown()
    await store.aclose()

    store = await SqliteStore.open(path)
    async with trio.open_nursery() as nursery:
        server, listener = await run_chat(store, nursery)
        bob = await JsonClient.connect(listener)
        await bob.login("bob")
        history = await bob.expect(ev.History)
        assert [e.text for e in history.events if isinstance(e, ev.Message)] == [
            f"first life {n}" for n in range(3)
        ]
        joined = await bob.expect(ev.Joined)
        assert joined.seq > last  # numbers carry on, never reused
        server.shutdown()
    await store.aclose()


async def test_many_concurrent_writers_are_all_stored_in_one_order(tmp_path):
    store = await SqliteStore.open(str(tmp_path / "chat.db"))
    async with trio.open_nursery() as nursery:
        server, listener = await run_chat(store, nursery)
        writers = []
        for i in range(10):
            client = await JsonClient.connect(listener)
            await client.login(f"w{i}")
            writers.append(client)

        async def write(i: int, client: JsonClient) -> None:
            for n in range(20):
                await client.send(ev.Say(f"{i}-{n}"))

        async with trio.open_nursery() as writing:
            for i, client in enumerate(writers):
                writing.start_soon(write, i, client)
        live = await said(writers[0], 200)
        stored = await store.room_history("#lobby", limit=1000, after=0)
        messages = [e for e in stored if isinstance(e, ev.Message)]
        assert [e.text for e in messages] == live
        assert [e.seq for e in stored] == list(range(1, len(stored) + 1))
        server.shutdown()
    await store.aclose()


async def test_retention_prunes_but_sequence_numbers_go_on(tmp_path):
    store = await SqliteStore.open(str(tmp_path / "chat.db"), history_max=3)
    async with trio.open_nursery() as nursery:
        server, listener = await run_chat(store, nursery)
        bot = await JsonClient.connect(listener)
        await bot.login("bot")
        for n in range(10):
            await bot.send(ev.Say(f"m{n}"))
        await said(bot, 10)
        await store.prune()
        kept = await store.room_history("#lobby", limit=100, after=0)
        assert [e.text for e in kept if isinstance(e, ev.Message)] == ["m7", "m8", "m9"]
        await bot.send(ev.Say("after pruning"))
        assert (await bot.expect(ev.Message)).seq == kept[-1].seq + 1
        server.shutdown()
    await store.aclose()


async def test_plain_text_log_has_one_file_per_room_per_day(tmp_path):
    store = LoggedStore(await SqliteStore.open(":memory:"), tmp_path / "logs")
    async with trio.open_nursery() as nursery:
        server, listener = await run_chat(store, nursery)
        alice = await TextClient.connect(listener)
        await alice.login("alice")
        await alice.send_line("for the record")
        await alice.expect("alice: for the record$")
        await alice.send_line("/msg alice not for the record")
        await alice.expect(r"\[private\]")
        server.shutdown()
    (log,) = (tmp_path / "logs").iterdir()
    assert log.name.startswith("lobby-")
    assert log.name.endswith(".log")
    lines = log.read_text().splitlines()
    assert lines[-1].endswith("] alice: for the record")
    assert not any("not for the record" in line for line in lines)


async def test_private_messages_are_stored_for_their_registered_parties():
    store = await SqliteStore.open(":memory:")
    async with trio.open_nursery() as nursery:
        server, listener = await run_chat(store, nursery)
        alice = await JsonClient.connect(listener)
        await alice.login("alice")
        await alice.send(ev.Register("alice-password"))
        await alice.expect(ev.Notice)
        bob = await JsonClient.connect(listener)
        await bob.login("Bob")
        await bob.send(ev.Register("bob-password"))
        await bob.expect(ev.Notice)
        await alice.send(ev.Tell("bob", "psst"))
        await bob.expect(ev.Private)
        carol = await JsonClient.connect(listener)
        await carol.login("carol")
        await carol.send(ev.Tell("bob", "from a guest"))
        await bob.expect(ev.Private)
        assert [e.text for e in await store.private_history("bob", "ALICE", limit=5)] == ["psst"]
        assert [e.text for e in await store.private_history("bob", "carol", limit=5)] == [
            "from a guest"
        ]
        assert await store.private_history("carol", "bob", limit=5) == []
        server.shutdown()
    await store.aclose()


async def test_a_history_request_is_answered_even_when_there_is_none(start_chat):
    _, listener = await start_chat()
    bot = await JsonClient.connect(listener)
    await bot.login("bot")
    await bot.send(ev.GetHistory())
    assert (await bot.expect(ev.History)).events == ()


async def test_resume_keeps_to_the_room_limit_and_joins_each_room_once(start_chat):
    _, listener = await start_chat(max_rooms=3)
    bot = await JsonClient.connect(listener)
    rooms = ("#a", "#b", "#a", "#c", "#d")
    await bot.send(ev.Hello("bot", resume=tuple(ev.RoomSeq(r, 0) for r in rooms)))
    await bot.expect(ev.Welcome)
    await bot.send(ev.ListRooms())
    listed = (await bot.expect(ev.Rooms)).rooms
    assert listed == (ev.RoomInfo("#a", 1), ev.RoomInfo("#b", 1), ev.RoomInfo("#lobby", 1))
