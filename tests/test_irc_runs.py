"""IRC clients in shared runs: each receives what it would receive event by event.

A run (the events of a batch that go to the same members) is encoded once per
IRC flavour for all of them; a client whose own lines are in it takes the rest
as slices of those bytes. These tests hold what every client receives to what
its connection, given the same events one at a time, would have sent.
"""

from __future__ import annotations

from datetime import UTC, datetime

import trio
from hypothesis import given
from hypothesis import strategies as st

from trio_chat.chat import Deliver, Member
from trio_chat.protocol import NEED_DATA, notices
from trio_chat.protocol import events as ev
from trio_chat.protocol import moderation as mod
from trio_chat.protocol.irc import IrcServerConnection
from trio_chat.protocol.irc.encoder import IrcEncoder
from trio_chat.server import runs
from trio_chat.server.outbox import Outbox

T = datetime(2026, 11, 30, 12, 0, 0, 123000, tzinfo=UTC)
ROOM = "#a"
NICKS = ["alice", "bob", "carol"]


def registered(nick: str, *caps: str) -> IrcServerConnection:
    conn = IrcServerConnection()
    lines = [f"CAP REQ :{' '.join(caps)}"] if caps else []
    lines += ["CAP END", f"NICK {nick}", "USER u 0 * :Real Name"]
    conn.receive_data("".join(f"{line}\r\n" for line in lines).encode())
    while conn.next_event() is not NEED_DATA:
        pass
    conn.accept()
    conn.encoder(ev.Welcome(T, nick, ROOM, (nick,), 1))
    return conn


def outbox(conn: IrcServerConnection) -> Outbox:
    return Outbox(
        max_events=1000,
        max_bytes=1 << 20,
        encode=conn.encoder,
        keep=conn.keep,
        dropped=conn.dropped,
    )


def received(box: Outbox) -> list[str]:
    box.close()
    return trio.run(box.take_all).decode().splitlines()


def one_by_one(conn: IrcServerConnection, events: list[ev.Event]) -> bytes:
    """What ``conn`` sends of ``events`` given one at a time."""
    return b"".join(conn.encoder(e) for e in events if conn.keep(e))


def said(seq: int, nick: str) -> ev.Message:
    return ev.Message(T, ROOM, seq, nick, f"line {seq}")


def line(seq: int, nick: str) -> str:
    return f":{nick}!{nick}@trio-chat PRIVMSG {ROOM} :line {seq}"


def test_in_a_shared_run_a_sender_gets_its_own_lines_back_only_with_echo_message():
    alice, bob, carol = registered("alice", "echo-message"), registered("bob"), registered("carol")
    boxes = [outbox(conn) for conn in (alice, bob, carol)]
    room = tuple(Member(box) for box in boxes)
    run = [said(1, "alice"), said(2, "bob"), said(3, "alice"), said(4, "carol")]
    runs.deliver([Deliver(e, room) for e in run])
    alices, bobs, carols = (received(box) for box in boxes)
    assert alices == [line(1, "alice"), line(2, "bob"), line(3, "alice"), line(4, "carol")]
    assert bobs == [line(1, "alice"), line(3, "alice"), line(4, "carol")]
    assert carols == [line(1, "alice"), line(2, "bob"), line(3, "alice")]


def test_a_run_is_encoded_once_for_its_senders_and_the_rest(monkeypatch):
    calls: list[ev.Event] = []
    encode = IrcEncoder.__call__

    def counted(self: IrcEncoder, event: ev.Event) -> bytes:
        calls.append(event)
        return encode(self, event)

    room = tuple(Member(outbox(registered(nick))) for nick in [*NICKS, "dave"])
    monkeypatch.setattr(IrcEncoder, "__call__", counted)
    run = [said(1, "alice"), said(2, "bob"), said(3, "carol")]
    runs.deliver([Deliver(e, room) for e in run])
    assert calls == run  # once for all four, not once more for each sender in it


def test_a_newcomer_in_the_middle_of_a_run_gets_neither_its_join_nor_its_own_lines():
    alice, bob, dave = registered("alice"), registered("bob"), registered("dave")
    before = (Member(outbox(alice)), Member(outbox(bob)))
    after = (*before, Member(outbox(dave)))
    joined = ev.Joined(T, ROOM, 2, "dave")
    run = [
        Deliver(said(1, "alice"), before),
        Deliver(joined, after),
        Deliver(said(3, "bob"), after),
        Deliver(said(4, "dave"), after),
    ]
    runs.deliver(run)
    alices, bobs, daves = (received(m.mailbox) for m in after)
    join = f":dave!dave@trio-chat JOIN {ROOM}"
    assert alices == [join, line(3, "bob"), line(4, "dave")]
    assert bobs == [line(1, "alice"), join, line(4, "dave")]
    assert daves == [line(3, "bob")]


def test_a_private_message_to_oneself_arrives_once_with_or_without_echo_message():
    for caps in [(), ("echo-message",)]:
        alice = registered("alice", *caps)
        box = outbox(alice)
        to_self = ev.Private(T, "alice", "alice", "note")
        runs.deliver([Deliver(to_self, (Member(box),))])
        assert received(box) == [":alice!alice@trio-chat PRIVMSG alice :note"]


def test_a_private_message_goes_back_to_its_sender_only_with_echo_message():
    for caps, back in [((), []), (("echo-message",), [":alice!alice@trio-chat PRIVMSG bob :psst"])]:
        alice, bob = registered("alice", *caps), registered("bob")
        boxes = outbox(bob), outbox(alice)
        private = ev.Private(T, "alice", "bob", "psst")
        runs.deliver([Deliver(private, tuple(Member(box) for box in boxes))])
        assert received(boxes[0]) == [":alice!alice@trio-chat PRIVMSG bob :psst"]
        assert received(boxes[1]) == back


# Any run of what a room sees, with renames, parts, quits and kicks among a few
# nicknames, all at one time (so that a repeated rename or quit is one line).
nicks = st.sampled_from([*NICKS, "dave"])
seq = st.integers(1, 9)
room_events = st.one_of(
    st.builds(ev.Message, st.just(T), st.just(ROOM), seq, nicks, st.just("hi")),
    st.builds(ev.Action, st.just(T), st.just(ROOM), seq, nicks, st.just("waves")),
    st.builds(notices.NoticeMessage, st.just(T), st.just(ROOM), seq, nicks, st.just("note")),
    st.builds(ev.Joined, st.just(T), st.just(ROOM), seq, nicks),
    st.builds(ev.Private, st.just(T), nicks, nicks, st.just("psst")),
    st.builds(ev.NickChanged, st.just(T), st.just(ROOM), seq, nicks, nicks),
    st.builds(
        ev.Left,
        st.just(T),
        st.sampled_from([ROOM, "#b"]),
        seq,
        nicks,
        st.sampled_from(["part", "part: bye", "quit", "quit: bye", "connection lost"]),
    ),
    st.builds(mod.Kicked, st.just(T), st.just(ROOM), seq, nicks, nicks, st.just("out")),
    st.builds(mod.ModeChanged, st.just(T), st.just(ROOM), seq, nicks, st.just("+o"), nicks),
)
clients = st.lists(
    st.tuples(
        st.sampled_from(NICKS),
        st.sampled_from([(), ("echo-message",), ("server-time", "echo-message")]),
        st.integers(0, 7),  # where in the run it starts (a newcomer)
    ),
    min_size=1,
    max_size=6,
)


@given(st.lists(room_events, min_size=1, max_size=8), clients)
def test_every_client_of_a_shared_run_receives_what_it_would_event_by_event(events, members):
    encoded: dict[object, object] = {}
    for nick, caps, joins_at in members:
        start = min(joins_at, len(events) - 1)
        conn, twin = registered(nick, *caps), registered(nick, *caps)
        box = outbox(conn)
        assert box.put_run(events, encoded, start)
        assert received(box) == one_by_one(twin, events[start:]).decode().splitlines()
        # and it goes on as the other would: renamed, in its rooms, a quit seen once
        assert (conn.nick, conn.joined) == (twin.nick, twin.joined)
        assert one_by_one(conn, events) == one_by_one(twin, events)
