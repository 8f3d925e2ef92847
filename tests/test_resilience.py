"""What one bad event, one failing store or one greedy client costs: that, and no more."""

from __future__ import annotations

import functools
import json

import trio
import trio.testing

from trio_chat import Limits, serve
from trio_chat.protocol import events as ev
from trio_chat.protocol import jsonl
from trio_chat.server.store import MemoryStore
from trio_chat.testing import JsonClient, MemoryListener, TextClient


class FailingStore(MemoryStore):
    """Refuses any batch holding a message that says "poison", and can fail to read."""

    def __init__(self) -> None:
        super().__init__()
        self.reads_fail = False

    async def append(self, events):
        if any(getattr(getattr(e, "event", e), "text", "") == "poison" for e in events):
            raise OSError("disk I/O error")
        await super().append(events)

    async def room_history(self, room, **kwargs):
        if self.reads_fail:
            raise OSError("database disk image is malformed")
        return await super().room_history(room, **kwargs)


async def start(nursery, store=None, **limits):
    listener = MemoryListener()
    server = await nursery.start(
        functools.partial(serve, [listener], limits=Limits(**limits), store=store)
    )
    return server, listener


async def test_an_event_the_store_refuses_costs_that_event_only(nursery, caplog):
    store = FailingStore()
    _, listener = await start(nursery, store, flood_rate=0)
    alice = await JsonClient.connect(listener)
    await alice.login("alice")
    bob = await TextClient.connect(listener)
    await bob.login("bob")
    await alice.expect(ev.Joined)

    # One batch: the store fails it, then takes every event but the poison.
    await alice.stream.send_all(
        b"".join(jsonl.encode(ev.Say(text)) for text in ("before", "poison", "after"))
    )
    error = await alice.expect(ev.Error)
    assert error.code == "server_error"
    said = [(await bob.expect(r"alice: ")).string for _ in range(2)]
    assert [line.split(": ", 1)[1] for line in said] == ["before", "after"]
    assert "disk I/O error" in caplog.text

    # The chat goes on, and a private message that cannot be stored is refused alike.
    await alice.send(ev.Tell("bob", "poison"))
    assert (await alice.expect(ev.Error)).code == "server_error"
    carol = await TextClient.connect(listener)
    assert "carol" in await carol.login("carol")
    await bob.send_line("still here")
    await carol.expect("bob: still here$")
    stored = await store.room_history("#lobby", limit=10)
    said = [e.text for e in stored if isinstance(e, ev.Message)]
    assert said == ["before", "after", "still here"]


async def test_a_store_that_cannot_read_costs_the_answer_not_the_connection(nursery):
    store = FailingStore()
    _, listener = await start(nursery, store)
    alice = await JsonClient.connect(listener)
    await alice.login("alice")
    store.reads_fail = True
    await alice.send(ev.GetHistory())
    assert (await alice.expect(ev.Error)).code == "server_error"
    # Joining replays history, which fails: the join itself still happens.
    await alice.send(ev.Join("#dev"))
    assert (await alice.expect(ev.Error)).code == "server_error"
    joined = await alice.expect(ev.Joined)
    assert (joined.room, joined.nick) == ("#dev", "alice")
    await alice.send(ev.Say("works"))
    assert (await alice.expect(ev.Message)).text == "works"


async def test_a_history_answer_holds_at_most_a_quarter_of_the_outbox(nursery):
    _, listener = await start(nursery, outbox_bytes=64 * 1024, flood_rate=0)
    alice = await JsonClient.connect(listener)
    await alice.login("alice")
    for n in range(100):
        await alice.send(ev.Say(f"{n:03} " + "x" * 3000))
    for _ in range(100):
        await alice.expect(ev.Message)
    await alice.send(ev.GetHistory(limit=500))
    page = await alice.expect(ev.History)
    size = sum(len(jsonl.encode(e)) for e in page.events)
    assert 0 < size <= 16 * 1024
    # the newest messages, in order, up to the last one said
    assert [e.text[:3] for e in page.events] == [f"{n:03}" for n in range(100)][-len(page.events) :]


async def test_a_client_that_asks_for_history_and_never_reads_is_dropped_within_its_budget(
    nursery,
):
    budget = 64 * 1024
    server, listener = await start(nursery, outbox_bytes=budget, flood_rate=0)
    alice = await JsonClient.connect(listener)
    await alice.login("alice")
    for _ in range(100):
        await alice.send(ev.Say("y" * 3000))
    for _ in range(100):
        await alice.expect(ev.Message)

    greedy = await listener.connect(lockstep=True)  # never reads
    await greedy.send_all(jsonl.encode(ev.Hello("greedy")))
    await alice.expect(ev.Joined)
    peak = asked = 0
    try:
        while asked < 100:
            await greedy.send_all(jsonl.encode(ev.GetHistory(limit=500)))
            asked += 1
            await trio.testing.wait_all_tasks_blocked()
            peak = max([peak, *(s.outbox.queued_bytes for s in server.sessions)])
    except trio.BrokenResourceError:
        pass  # dropped, as it should be
    assert asked < 10
    left = await alice.expect(ev.Left)
    assert (left.nick, left.reason) == ("greedy", "send queue exceeded")
    assert peak <= budget


async def test_the_rooms_answer_lists_the_most_populous_rooms_when_there_are_many(
    nursery, monkeypatch
):
    monkeypatch.setattr("trio_chat.chat.chat.ROOMS_LISTED", 3)
    _, listener = await start(nursery, flood_rate=0)
    alice = await JsonClient.connect(listener)
    await alice.login("alice")
    bob = await JsonClient.connect(listener)
    await bob.login("bob")
    for room in ("#a", "#b", "#c", "#d"):
        await alice.send(ev.Join(room))
    await bob.send(ev.Join("#d"))
    await bob.expect(ev.Members)
    await alice.send(ev.ListRooms())
    rooms = await alice.expect(ev.Rooms)
    # #lobby and #d have two members; one of the rest fills the third place
    names = [r.name for r in rooms.rooms]
    assert len(names) == 3
    assert {"#d", "#lobby"} <= set(names)
    assert names == sorted(names)


async def test_a_quit_reason_reaches_the_log_only_inside_a_json_string(nursery, caplog):
    caplog.set_level("INFO", logger="trio_chat.server")
    _, listener = await start(nursery)
    mallory = await TextClient.connect(listener)
    await mallory.login("mallory")
    forged = 'x" WARNING wrong password for bob from 10.9.8.7 ␛ é'
    await mallory.send_line(f"/quit {forged}")
    await mallory.lines_until_closed()
    await trio.testing.wait_all_tasks_blocked()
    (closed,) = [r.getMessage() for r in caplog.records if "closed from" in r.getMessage()]
    head, _, reason = closed.partition(" s: ")
    assert reason.isascii()
    assert reason[0] == reason[-1] == '"'
    assert json.loads(reason) == f"quit: {forged}"
    assert "WARNING" not in head
