"""Each event is worded once: text mode and the terminal client read the same."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from wire_strategies import events

from trio_chat.client.render import nick_colour, render
from trio_chat.protocol import events as ev
from trio_chat.protocol import lookups, notices, presence, text, wording
from trio_chat.protocol import moderation as mod

T = datetime(2026, 11, 23, 14, 3, 7, tzinfo=UTC)
AT = T.astimezone().strftime("[%H:%M:%S]")

# Every kind of event, in a room other than the lobby where it has one, and
# the line text mode sends for it.
WORDED = [
    (ev.Message(T, "#dev", 1, "bob", "hi"), f"{AT} #dev bob: hi"),
    (ev.Action(T, "#dev", 2, "bob", "waves"), f"{AT} #dev ~ bob waves"),
    (ev.Private(T, "bob", "alice", "psst"), f"{AT} [private] bob -> alice: psst"),
    (ev.Joined(T, "#dev", 3, "bob"), f"{AT} * bob joined #dev"),
    (ev.Left(T, "#dev", 4, "bob", "quit"), f"{AT} * bob left #dev (quit)"),
    (ev.NickChanged(T, "#dev", 5, "bob", "rob"), f"{AT} * bob is now known as rob (#dev)"),
    (
        ev.Welcome(T, "alice", "#lobby", ("alice", "bob"), 2),
        f"{AT} * welcome, alice! you are in #lobby with bob (2 online); /help lists the commands",
    ),
    (ev.Members(T, "#dev", ("alice", "bob")), f"{AT} * in #dev (2): alice, bob"),
    (
        ev.Members(T, "#dev", ("alice", "bob", "carol"), "hi", ("bob",), ("carol",)),
        f"{AT} * in #dev (3): alice, @bob, +carol\n{AT} * topic of #dev: hi",
    ),
    (
        mod.TopicChanged(T, "#dev", 6, "bob", "release friday"),
        f"{AT} * bob set the topic of #dev: release friday",
    ),
    (mod.TopicChanged(T, "#dev", 7, "bob", ""), f"{AT} * bob cleared the topic of #dev"),
    (
        mod.Kicked(T, "#dev", 8, "bob", "carol", "spam"),
        f"{AT} * carol was kicked from #dev by bob (spam)",
    ),
    (
        mod.ModeChanged(T, "#dev", 9, "bob", "+o", "carol"),
        f"{AT} * bob gives operator status to carol in #dev",
    ),
    (
        mod.ModeChanged(T, "#dev", 10, "bob", "+b", "$a:mallory"),
        f"{AT} * bob bans $a:mallory in #dev",
    ),
    (mod.ModeChanged(T, "#dev", 11, "bob", "+i"), f"{AT} * bob made #dev invite-only"),
    (
        mod.ModeChanged(T, "#dev", 12, "", "+o", "alice"),
        f"{AT} * the server gives operator status to alice in #dev",
    ),
    (mod.Invited(T, "#dev", "bob"), f"{AT} * bob invites you to #dev: /join #dev"),
    (
        mod.RoomState(T, "#dev", "", None, None, "im", "alice", ("bob",), (), ("x!*@*",)),
        f"{AT} * #dev has no topic\n{AT} * #dev: modes +im, owner alice, operators: bob\n"
        f"{AT} * #dev: bans: x!*@*",
    ),
    (ev.Rooms(T, (ev.RoomInfo("#dev", 2),)), f"{AT} * rooms: #dev (2)"),
    (ev.Help(T, ("/who", "/quit")), f"{AT} * commands:\n{AT} *   /who\n{AT} *   /quit"),
    (ev.Notice(T, "server restarting"), f"{AT} * server restarting"),
    (ev.Error(T, "nick_taken", "taken"), "! taken"),
    (ev.Bye(T, "quit"), f"{AT} * disconnected: quit"),
    (
        ev.History(T, "#dev", (ev.Message(T, "#dev", 1, "bob", "hi"),)),
        f"{AT} * history of #dev: 1 earlier message(s)\n{AT} #dev bob: hi",
    ),
    (
        ev.PrivateHistory(T, "bob", (ev.Private(T, "bob", "alice", "psst"),)),
        f"{AT} * private messages with bob: 1 earlier message(s)\n"
        f"{AT} [private] bob -> alice: psst",
    ),
    (
        lookups.WhoisReply(T, "bob", "bob", ("#dev",), "b", "Bob B"),
        f"{AT} * bob (registered) is in #dev",
    ),
    (lookups.Online(T, ("bob",)), f"{AT} * online: bob"),
    (
        lookups.Found(T, "b*", ("bob",), ("bob",), ("Bob B",), ("#dev",)),
        f"{AT} * b*: bob (Bob B) in #dev",
    ),
    (lookups.UserCount(T, 2, 3), f"{AT} * 2 online in 3 rooms"),
    (presence.Away(T, "bob", "lunch"), f"{AT} * bob is away: lunch"),
    (
        ev.Welcome(T, "bob", "", (), 3),
        f"{AT} * welcome, bob! you are in no room (3 online); /help lists the commands",
    ),
    (presence.AwayStatus(T, "lunch"), f"{AT} * you are marked as away: lunch"),
    (presence.OperatorStatus(T, "alice"), f"{AT} * you are now a server operator, as alice"),
    (notices.NoticeMessage(T, "#dev", 1, "bot", "built"), f"{AT} #dev bot: built"),
    (notices.PrivateNotice(T, "bot", "alice", "done"), f"{AT} [private] bot -> alice: done"),
]


def on_screen(item: ev.Event, me: str = "alice") -> str:
    return "".join(t for _, t in render(item, me)).removesuffix("\n")


@pytest.mark.parametrize(("event", "line"), WORDED, ids=lambda x: type(x).__name__)
def test_text_mode_sends_the_words(event, line):
    assert text.format_event(event) == f"{line}\n".encode()


@pytest.mark.parametrize(("event", "line"), WORDED, ids=lambda x: type(x).__name__)
def test_the_client_shows_the_same_words(event, line):
    shown = on_screen(event)
    if isinstance(event, ev.Error):  # on the screen every line has its time
        assert shown == f"{AT} {line}"
    elif isinstance(event, ev.History):  # replayed lines indented, under their room
        assert shown == f"{AT} * history of #dev: 1 earlier message(s)\n  {AT} bob: hi"
    elif isinstance(event, ev.PrivateHistory):
        head, replayed = line.split("\n")
        assert shown == f"{head}\n  {replayed}"
    else:
        assert shown == line


def test_every_event_but_pings_and_away_changes_has_words():
    worded = {type(event) for event, _ in WORDED}
    unworded = {ev.ServerPing, ev.ServerPong, presence.AwayChanged}
    assert worded == set(ev.EVENT_TYPES.values()) - unworded
    assert wording.lines(ev.ServerPing(T, "t")) == []
    assert wording.lines(presence.AwayChanged(T, "bob", "lunch")) == []
    assert text.format_event(ev.ServerPong(T, "t")) == b""


@given(events)
def test_text_mode_is_the_words_joined(event):
    lines = wording.lines(event)
    joined = "".join("".join(t for _, t in line) + "\n" for line in lines)
    assert text.format_event(event) == joined.encode()
    for line in lines:
        first = line[0][0]
        assert first in ("time", "error", "history")
        assert all(isinstance(style, str) and isinstance(t, str) for style, t in line)


def test_styles_name_what_the_client_colours():
    (line,) = wording.lines(ev.Message(T, "#dev", 1, "bob", "hi"))
    assert [style for style, _ in line] == [
        "time",
        "message room",
        "message nick",
        "message",
        "message",
    ]
    (line,) = wording.lines(ev.Error(T, "x", "no"))
    assert line == [("error", "! no")]


def test_own_messages_are_bold_in_history_too():
    mine = ev.Message(T, "#dev", 1, "Alice", "hi")
    for item in (mine, ev.History(T, "#dev", (mine,))):
        styles = [style for style, t in render(item, "alice") if t in ("Alice", "hi")]
        assert styles == [f"fg:{nick_colour('alice')} bold class:own", "class:own"]
    theirs = [s for s, t in render(ev.Message(T, "#dev", 1, "bob", "hi"), "alice") if t == "hi"]
    assert theirs == [""]


def test_the_client_makes_what_a_server_sends_safe_to_show():
    shown = on_screen(ev.Joined(T, "#dev\x1b[2J", 1, "bob\x07"))
    assert "\x1b" not in shown
    assert "\x07" not in shown


@pytest.mark.parametrize(
    ("past", "count"),
    [
        (
            (ev.Message(T, "#dev", 1, "bob", "hi"), ev.Action(T, "#dev", 2, "bob", "waves")),
            "2 earlier message(s)",
        ),
        (
            (ev.Message(T, "#dev", 1, "bob", "hi"), ev.Joined(T, "#dev", 2, "ann")),
            "2 earlier event(s)",
        ),
    ],
)
def test_a_replay_counts_messages_or_else_events(past, count):
    head = text.format_event(ev.History(T, "#dev", past)).decode().split("\n")[0]
    assert head.endswith(f"* history of #dev: {count}")


def test_marks_of_operators_and_the_voiced_ignore_case():
    who = ev.Members(T, "#dev", ("Bob", "carol", "dave"), "", ("bob", "dave"), ("CAROL", "Dave"))
    assert text.format_event(who) == f"{AT} * in #dev (3): @Bob, +carol, @dave\n".encode()
