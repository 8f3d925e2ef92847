"""The pump: effects carried out in order, store first, with back-pressure."""

from __future__ import annotations

from datetime import UTC, datetime

import trio
from trio.testing import wait_all_tasks_blocked

from trio_chat.chat import Close, Deliver, FetchHistory, Member
from trio_chat.protocol import events as ev
from trio_chat.server.pump import SEND_QUEUE_EXCEEDED, Pump
from trio_chat.server.store import MemoryStore

T = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class Box:
    """A mailbox that holds ``room`` events."""

    def __init__(self, room: int = 100) -> None:
        self.room = room
        self.events: list[ev.Event] = []
        self.closed: tuple[str, bool] | None = None
        self.got = trio.Event()  # something was put

    def put(self, event: ev.Event) -> bool:
        if self.closed or len(self.events) >= self.room:
            return False
        self.events.append(event)
        self.got.set()
        return True

    def put_run(self, events: list[ev.Event], encoded, start: int = 0) -> bool:
        self.runs = [*getattr(self, "runs", []), len(events) - start]
        return all(self.put(event) for event in events[start:])

    def close(self, reason: str, *, discard: bool = False) -> None:
        if self.closed is None:
            self.closed = (reason, discard)


def member(room: int = 100) -> tuple[Member, Box]:
    box = Box(room)
    return Member(box), box


def message(seq: int, text: str = "hi") -> ev.Message:
    return ev.Message(T, "#lobby", seq, "alice", text)


async def test_what_is_kept_is_stored_before_anyone_receives_it_and_all_in_order(nursery):
    store = MemoryStore()
    pump = Pump(store)
    await nursery.start(pump.run)
    alice, alices = member()
    bob, bobs = member()
    first, second = message(1), message(2)
    pump.post([Deliver(first, (alice, bob), first)])
    pump.post([Deliver(ev.Notice(T, "just for bob"), (bob,)), Deliver(second, (bob,), second)])
    await wait_all_tasks_blocked()
    assert alices.events == [first]
    assert bobs.events == [first, ev.Notice(T, "just for bob"), second]
    assert await store.room_history("#lobby", limit=10) == [first, second]


async def test_history_is_read_where_its_fetch_stands(nursery):
    store = MemoryStore()
    pump = Pump(store)
    await nursery.start(pump.run)
    alice, box = member()
    first, second = message(1), message(2)
    # The fetch stands between the two messages, bounded by the number the
    # room had there: whatever else the store holds by then, it holds the first only.
    pump.post(
        [
            Deliver(first, (), first),
            FetchHistory("#lobby", alice, 10, before=2),
            Deliver(second, (alice,), second),
        ]
    )
    await wait_all_tasks_blocked()
    assert [type(e) for e in box.events] == [ev.History, ev.Message]
    history = box.events[0]
    assert isinstance(history, ev.History)
    assert history.events == (first,)


async def test_a_mailbox_that_overflows_is_closed_with_its_content_thrown_away(nursery):
    pump = Pump(MemoryStore())
    await nursery.start(pump.run)
    slow, box = member(room=2)
    pump.post([Deliver(ev.Notice(T, str(n)), (slow,)) for n in range(3)])
    await wait_all_tasks_blocked()
    assert box.closed == (SEND_QUEUE_EXCEEDED, True)


async def test_close_comes_after_the_last_event(nursery):
    pump = Pump(MemoryStore())
    await nursery.start(pump.run)
    alice, box = member()
    pump.post([Deliver(ev.Bye(T, "quit"), (alice,)), Close(alice, "quit")])
    await wait_all_tasks_blocked()
    assert box.events == [ev.Bye(T, "quit")]
    assert box.closed == ("quit", False)


async def test_readers_wait_while_the_pump_is_far_behind(nursery):
    pump = Pump(MemoryStore(), backlog=3)
    alice, _ = member()
    for n in range(4):
        pump.post([Deliver(ev.Notice(T, str(n)), (alice,))])
    let_through = trio.Event()

    async def reader() -> None:
        await pump.wait_for_room()
        let_through.set()

    nursery.start_soon(reader)
    await wait_all_tasks_blocked()
    assert not let_through.is_set()  # four posts waiting, three allowed
    await nursery.start(pump.run)
    await wait_all_tasks_blocked()
    assert let_through.is_set()


async def test_the_pump_returns_once_closed_and_done(nursery):
    store = MemoryStore()
    pump = Pump(store)
    kept = message(1)
    pump.post([Deliver(kept, (), kept)])
    pump.close()
    with trio.fail_after(5):
        await pump.run()
    assert await store.room_history("#lobby", limit=1) == [kept]


async def test_a_run_of_events_to_the_same_members_reaches_each_in_one_piece(nursery):
    pump = Pump(MemoryStore())
    await nursery.start(pump.run)
    alice, alices = member()
    bob, bobs = member()
    room = (alice, bob)
    said = [message(n, f"line {n}") for n in range(1, 4)]
    pump.post([Deliver(m, room, m) for m in said] + [Deliver(ev.Notice(T, "bob"), (bob,))])
    await wait_all_tasks_blocked()
    assert alices.events == said
    assert bobs.events == [*said, ev.Notice(T, "bob")]
    assert alices.runs == [3]
    assert bobs.runs == [3, 1]


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def room_history(self, room, **kwargs):
        self.reads += 1
        return await super().room_history(room, **kwargs)


async def test_newcomers_before_anyone_speaks_share_one_replay(nursery):
    store = CountingStore()
    pump = Pump(store)
    await nursery.start(pump.run)
    said = message(1)
    pump.post([Deliver(said, (), said)])
    newcomers = [member() for _ in range(3)]
    for who, _ in newcomers:
        pump.post([FetchHistory("#lobby", who, 50, before=2, quiet=True)])
    await wait_all_tasks_blocked()
    replays = [box.events for _, box in newcomers]
    assert replays[0] == [ev.History(replays[0][0].time, "#lobby", (said,))]
    assert replays[1] == replays[2] == replays[0]
    assert store.reads == 1
    # once someone has spoken, the next newcomer's replay is read afresh
    later, _ = member()
    pump.post([FetchHistory("#lobby", later, 50, before=3, quiet=True)])
    await wait_all_tasks_blocked()
    assert store.reads == 2


async def test_a_crowd_joining_is_one_run_each_newcomer_taking_it_from_its_own_join(nursery):
    pump = Pump(MemoryStore())
    await nursery.start(pump.run)
    old, olds = member()
    room: tuple[Member, ...] = (old,)
    effects: list = []
    newcomers = []
    for n in range(3):
        who, box = member()
        newcomers.append((who, box))
        room = (*room, who)
        joined = ev.Joined(T, "#lobby", n + 1, f"user{n}")
        welcome = ev.Notice(T, f"welcome user{n}")
        effects += [Deliver(welcome, (who,)), Deliver(joined, room, joined)]
    pump.post(effects)
    await wait_all_tasks_blocked()
    joins = [e for e in effects if isinstance(e.event, ev.Joined)]
    assert olds.events == [j.event for j in joins]
    assert olds.runs == [3]  # one piece for the old member
    for n, (_, box) in enumerate(newcomers):
        # its welcome first, then the joins from its own on
        assert box.events == [ev.Notice(T, f"welcome user{n}"), *[j.event for j in joins[n:]]]


async def test_joins_to_a_large_room_wait_a_moment_for_the_rest_of_the_crowd(
    nursery, autojump_clock, monkeypatch
):
    monkeypatch.setattr("trio_chat.server.runs.HOLD_MEMBERS", 2)
    pump = Pump(MemoryStore())
    await nursery.start(pump.run)
    old, olds = member()
    first, _ = member()
    second, _ = member()
    one = ev.Joined(T, "#lobby", 1, "first")
    two = ev.Joined(T, "#lobby", 2, "second")
    start = trio.current_time()
    pump.post([Deliver(one, (old, first), one)])
    await trio.sleep(20e-6)  # within the hold: the second join makes the same batch
    assert olds.events == []
    pump.post([Deliver(two, (old, first, second), two)])
    await olds.got.wait()
    assert olds.events == [one, two]
    assert olds.runs == [2]  # one write for both
    assert trio.current_time() - start < 0.25
