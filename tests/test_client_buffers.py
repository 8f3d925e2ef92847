"""Windows per room and per private conversation, without a terminal."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trio_chat.client.buffers import MAX_LINES, MAX_PRIVATE, Buffers, Done, mentions
from trio_chat.client.connection import Note
from trio_chat.protocol import events as ev

T = datetime(2026, 11, 23, 14, 3, 7, tzinfo=UTC)


def names(buffers: Buffers) -> list[str]:
    return [b.name for b in buffers.buffers]


def joined_dev() -> Buffers:
    buffers = Buffers()
    buffers.route(ev.Welcome(T, "alice", "#lobby", ("alice",), 1), "alice")
    assert buffers.route(ev.Joined(T, "#dev", 1, "alice"), "alice").buffer.name == "#dev"
    return buffers


def test_joining_opens_a_window_and_shows_it_parting_closes_it():
    buffers = joined_dev()
    assert names(buffers) == ["#lobby", "#dev"]
    assert buffers.current.name == "#dev"
    left = buffers.route(ev.Left(T, "#dev", 2, "alice", "parted"), "alice")
    assert names(buffers) == ["#lobby"]
    assert left.buffer is buffers.current
    assert buffers.current.name == "#lobby"


def test_a_rejoin_after_a_reconnection_leaves_the_view_alone():
    buffers = joined_dev()
    buffers.switch(1)
    buffers.route(ev.Joined(T, "#dev", 5, "alice"), "alice")
    assert buffers.current.name == "#lobby"


def test_messages_out_of_view_count_as_unread_and_a_mention_marks_and_rings():
    buffers = joined_dev()
    buffers.switch(1)
    quiet = buffers.route(ev.Message(T, "#dev", 3, "bob", "the build is green"), "alice")
    assert (quiet.buffer.name, quiet.mention, quiet.ring) == ("#dev", False, False)
    buffers.route(ev.Joined(T, "#dev", 4, "carol"), "alice")  # not a message: not counted
    named = buffers.route(ev.Action(T, "#dev", 5, "bob", "pings ALICE."), "alice")
    assert (named.mention, named.ring) == (True, True)
    dev = buffers.buffers[1]
    assert (dev.unread, dev.marked) == (2, True)
    buffers.route(ev.Message(T, "#dev", 6, "alice", "alice is here"), "alice")  # own
    assert dev.unread == 2
    assert buffers.switch(2)
    assert (dev.unread, dev.marked) == (0, False)


def test_a_mention_in_view_is_highlighted_but_does_not_ring():
    buffers = joined_dev()
    routed = buffers.route(ev.Message(T, "#dev", 3, "bob", "alice: look"), "alice")
    assert (routed.mention, routed.ring, routed.buffer.unread) == (True, False, 0)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("hi alice", True),
        ("Alice, look", True),
        ("(alice)", True),
        ("thanks alice.", True),
        ("malice", False),
        ("alice_2 is here", False),
        ("alice.bob", False),
        ("alice-x", False),
    ],
)
def test_a_mention_names_the_nickname_as_a_whole_word(text, named):
    assert mentions(text, "alice") is named


def test_a_private_message_opens_its_window_marks_and_rings():
    buffers = Buffers()
    routed = buffers.route(ev.Private(T, "bob", "alice", "lunch?"), "alice")
    assert routed.buffer.name == "@bob"
    assert routed.ring
    assert buffers.current.name == "#lobby"
    assert (routed.buffer.unread, routed.buffer.marked) == (1, True)
    # the user's own private message brings the conversation into view
    own = buffers.route(ev.Private(T, "alice", "Bob", "yes"), "alice")
    assert own.buffer is routed.buffer
    assert not own.ring
    assert buffers.current is routed.buffer


def test_private_windows_from_many_people_keep_only_the_newest_ones():
    buffers = Buffers()
    for n in range(MAX_PRIVATE + 5):
        buffers.route(ev.Private(T, f"p{n}", "alice", "hi"), "alice")
    private = [name for name in names(buffers) if name.startswith("@")]
    assert len(private) == MAX_PRIVATE
    assert private[0] == "@p5"  # the oldest went first
    assert names(buffers)[0] == "#lobby"


def test_history_replays_go_to_their_windows_and_never_ring():
    buffers = Buffers()
    replay = ev.History(T, "#dev", (ev.Message(T, "#dev", 1, "bob", "alice?"),))
    assert buffers.route(replay, "alice") == buffers.route(replay, "alice")
    assert not buffers.route(replay, "alice").ring
    private = ev.PrivateHistory(T, "bob", (ev.Private(T, "bob", "alice", "hi"),))
    assert buffers.route(private, "alice").buffer.name == "@bob"
    assert [b.unread for b in buffers.buffers] == [0, 0, 0]


def test_notes_and_notices_go_to_the_window_in_view():
    buffers = joined_dev()
    assert buffers.route(Note("hello"), "alice").buffer.name == "#dev"
    assert buffers.route(ev.Notice(T, "restart soon"), "alice").buffer.name == "#dev"


def test_switching_by_number_round_the_ends_and_with_window_commands():
    buffers = joined_dev()
    buffers.route(ev.Private(T, "bob", "alice", "hi"), "alice")
    assert buffers.switch(1)
    assert not buffers.switch(1)  # already in view
    assert not buffers.switch(9)
    assert buffers.next(-1)
    assert buffers.current.name == "@bob"
    assert buffers.next()
    assert buffers.current.name == "#lobby"
    assert buffers.command("/window 2") == Done()
    assert buffers.current.name == "#dev"
    assert buffers.command("/WIN 3") == Done()
    assert buffers.current.name == "@bob"
    assert buffers.command("/win 7") == Done("no window 7; there are 3")
    assert buffers.command("/window") == Done("usage: /window N")
    assert buffers.command("hello") is None


def test_a_private_window_closes_with_close_or_part_a_room_only_with_part():
    buffers = joined_dev()
    buffers.route(ev.Private(T, "alice", "bob", "hi"), "alice")
    assert buffers.command("/part") == Done()
    assert names(buffers) == ["#lobby", "#dev"]
    assert buffers.current.name == "#dev"
    assert buffers.command("/part") is None  # for the server
    assert buffers.command("/close") == Done("/part leaves a room")
    buffers.route(ev.Private(T, "alice", "bob", "again"), "alice")
    assert buffers.command("/close") == Done()
    assert names(buffers) == ["#lobby", "#dev"]


def test_typed_requests_are_aimed_at_the_window_in_view():
    buffers = joined_dev()
    assert buffers.aim(ev.Say("hi")) == ev.Say("hi", room="#dev")
    assert buffers.aim(ev.Act("waves")) == ev.Act("waves", room="#dev")
    assert buffers.aim(ev.Part()) == ev.Part("#dev")
    assert buffers.aim(ev.Who()) == ev.Who("#dev")
    assert buffers.aim(ev.GetHistory(limit=5)) == ev.GetHistory(room="#dev", limit=5)
    assert buffers.aim(ev.Tell("carol", "x")) == ev.Tell("carol", "x")
    buffers.route(ev.Private(T, "alice", "bob", "hi"), "alice")
    assert buffers.aim(ev.Say("lunch?")) == ev.Tell("bob", "lunch?")
    assert buffers.aim(ev.GetHistory()) == ev.GetHistory(nick="bob")
    assert isinstance(buffers.aim(ev.Act("waves")), Note)
    assert buffers.aim(ev.Join("#DEV")) == ev.Join("#DEV")
    assert buffers.current.name == "#dev"  # a room already joined comes into view


def test_scrollback_is_bounded():
    buffers = Buffers()
    buffers.current.lines.extend(str(n) for n in range(MAX_LINES + 5))
    assert len(buffers.current.lines) == MAX_LINES
    assert buffers.current.lines[0] == "5"


def test_the_answer_to_a_join_opens_the_window_and_a_who_of_another_room_does_not():
    buffers = Buffers()
    who = buffers.route(ev.Members(T, "#ops", ("carol",)), "alice", {"#lobby"})
    assert who.buffer.name == "#lobby"
    joined = buffers.route(ev.Members(T, "#dev", ("alice",)), "alice", {"#lobby", "#dev"})
    assert joined.buffer.name == "#dev"
    assert buffers.current is joined.buffer
    buffers.route(ev.Joined(T, "#dev", 1, "alice"), "alice", {"#lobby", "#dev"})
    assert names(buffers) == ["#lobby", "#dev"]
