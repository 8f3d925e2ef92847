"""Room moderation in the terminal client, fed the server's events: commands, the
topic, operators' marks, kicks, and the words of each event; last, against the
server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from test_client import connected

from trio_chat.client import commands
from trio_chat.client.buffers import Buffers
from trio_chat.client.completion import ChatCompleter
from trio_chat.client.connection import ChatClient, Note, Shown
from trio_chat.client.render import render
from trio_chat.client.ui import toolbar
from trio_chat.protocol import events as ev
from trio_chat.protocol import moderation as mod

T = datetime(2026, 11, 23, 14, 3, 7, tzinfo=UTC)


def plain(item: ev.Event, me: str = "alice") -> str:
    return "".join(text for _, text in render(item, me))


def in_dev(shown: list[Shown] | None = None) -> tuple[ChatClient, Buffers]:
    """alice in #lobby and #dev (with bob, an operator, and carol, voiced), #dev in view."""
    buffers = Buffers()
    client = ChatClient(
        "alice",
        lambda: None,  # type: ignore[arg-type, return-value]
        show=(shown if shown is not None else []).append,
        aim=buffers.aim,
    )
    receive(client, buffers, ev.Welcome(T, "alice", "#lobby", ("alice",), 3))
    client.mirror.sent(ev.Join("#dev"))
    receive(client, buffers, ev.Joined(T, "#dev", 1, "alice"))
    here = ev.Members(T, "#dev", ("bob", "carol", "alice"), "release friday", ("bob",), ("carol",))
    receive(client, buffers, here)
    return client, buffers


def receive(client: ChatClient, buffers: Buffers, event: ev.Event) -> str:
    """Hand ``event`` to the client as the terminal does; the window it went to."""
    client._receive(event)
    return buffers.route(event, client.nick, client.rooms).buffer.name


@pytest.mark.parametrize(
    ("line", "request_"),
    [
        ("/topic", mod.SetTopic()),
        ("/topic release friday", mod.SetTopic("release friday")),
        ("/topic #dev  release  friday ", mod.SetTopic("release  friday", "#dev")),
        ("/notopic #dev", mod.SetTopic("", "#dev")),
        ("/kick bob", mod.Kick("bob")),
        ("/kick #dev bob spam,  again ", mod.Kick("bob", "#dev", "spam,  again")),
        ("/ban", mod.SetMode("+b")),
        ("/ban #dev mallory", mod.SetMode("+b", "mallory", "#dev")),
        ("/ban $a:mallory", mod.SetMode("+b", "$a:mallory")),
        ("/unban *!*@cloak", mod.SetMode("-b", "*!*@cloak")),
        ("/op carol", mod.SetMode("+o", "carol")),
        ("/DEOP #dev carol", mod.SetMode("-o", "carol", "#dev")),
        ("/voice carol", mod.SetMode("+v", "carol")),
        ("/devoice carol", mod.SetMode("-v", "carol")),
        ("/mode", mod.SetMode()),
        ("/mode #dev +i", mod.SetMode("+i", room="#dev")),
        ("/mode -m", mod.SetMode("-m")),
        ("/invite dave", mod.Invite("dave")),
        ("/invite dave #dev", mod.Invite("dave", "#dev")),
        ("/disconnect mallory flooding the lobby", mod.Disconnect("mallory", "flooding the lobby")),
    ],
)
def test_moderation_commands_become_their_requests(line, request_):
    assert commands.parse(line) == commands.Send(request_)


@pytest.mark.parametrize(
    ("line", "usage"),
    [
        ("/kick", "usage: /kick [#room] NICK [reason]"),
        ("/op", "usage: /op [#room] NICK"),
        ("/devoice a b", "usage: /devoice [#room] NICK"),
        ("/mode +o bob now", "usage: /mode [#room] [+i|-i|+m|-m|+t|-t]"),
        ("/invite", "usage: /invite NICK [#room]"),
        ("/disconnect", "usage: /disconnect NICK [reason]"),
        ("/ban a b", "usage: /ban [#room] [NICK|MASK]"),
    ],
)
def test_a_moderation_command_lacking_its_arguments_shows_how_to_use_it(line, usage):
    assert commands.parse(line) == commands.Invalid(usage)


def test_a_moderation_command_typed_offline_is_shown_pending_as_typed():
    shown: list[Shown] = []
    client, _ = in_dev(shown)
    client.submit("/kick #dev bob spam")
    client.submit("/deop carol")
    pending = [item.text for item in shown if isinstance(item, Note)]
    assert pending == [
        "pending: /kick #dev bob spam (sent when connected)",
        "pending: /deop #dev carol (sent when connected)",
    ]


def test_help_and_completion_know_every_moderation_command():
    help_text = "\n".join(commands.HELP)
    completer = ChatCompleter(lambda: ["bob"], lambda: ["#dev"])

    def complete(text: str) -> list[str]:
        document = Document(text, len(text))
        return [c.text for c in completer.get_completions(document, CompleteEvent())]

    names = "/topic /notopic /kick /ban /unban /op /deop /voice /devoice /mode /invite /disconnect"
    for name in names.split():
        assert name in help_text
        assert name in complete(name[:2])
    assert complete("/dis") == ["/disconnect"]
    assert complete("/kick b") == ["bob"]
    assert complete("/op #d") == ["#dev"]


def test_a_bare_moderation_command_is_for_the_room_in_view():
    client, buffers = in_dev()
    assert buffers.aim(mod.Kick("bob", reason="spam")) == mod.Kick("bob", "#dev", "spam")
    assert buffers.aim(mod.SetTopic("hi")) == mod.SetTopic("hi", "#dev")
    assert buffers.aim(mod.SetMode("+i")) == mod.SetMode("+i", room="#dev")
    assert buffers.aim(mod.Invite("dave")) == mod.Invite("dave", "#dev")
    assert buffers.aim(mod.Kick("bob", "#lobby")) == mod.Kick("bob", "#lobby")
    client.submit("/kick carol")
    assert client.pending.next() == mod.Kick("carol", "#dev")


def test_the_toolbar_shows_the_topic_of_the_room_in_view_as_it_changes():
    client, buffers = in_dev()
    lines = "".join(t for _, t in toolbar(client, buffers)).split("\n")
    assert lines[0] == " release friday "
    assert "| alice | #dev (3 here) |" in lines[1]
    receive(client, buffers, mod.TopicChanged(T, "#dev", 2, "bob", "ship it\x1b[2J"))
    assert "".join(t for _, t in toolbar(client, buffers)).startswith(" ship it␛[2J \n")
    buffers.switch(1)  # the lobby has no topic: the toolbar is one line
    assert "\n" not in "".join(t for _, t in toolbar(client, buffers))
    buffers.switch(2)
    receive(client, buffers, mod.TopicChanged(T, "#dev", 3, "bob", ""))
    assert "\n" not in "".join(t for _, t in toolbar(client, buffers))


def test_a_member_list_marks_operators_and_voiced_members():
    client, _ = in_dev()
    assert client.mirror.marked("#dev") == ["@bob", "+carol", "alice"]
    who = ev.Members(T, "#dev", ("bob", "carol", "alice"), "", ("bob",), ("carol",))
    assert plain(who).endswith("* in #dev (3): @bob, +carol, alice\n")
    assert plain(ev.Members(T, "#x", ("bob",))).endswith("* in #x (1): bob\n")


def test_mode_changes_nick_changes_and_leaving_keep_the_marks_in_step():
    client, buffers = in_dev()
    receive(client, buffers, mod.ModeChanged(T, "#dev", 2, "bob", "+o", "Alice"))
    receive(client, buffers, mod.ModeChanged(T, "#dev", 3, "bob", "-v", "carol"))
    receive(client, buffers, mod.ModeChanged(T, "#dev", 4, "bob", "+i"))
    assert client.mirror.marked("#dev") == ["@bob", "carol", "@alice"]
    receive(client, buffers, ev.NickChanged(T, "#dev", 5, "bob", "robert"))
    receive(client, buffers, mod.ModeChanged(T, "#dev", 6, "alice", "+v", "carol"))
    assert client.mirror.marked("#dev") == ["@robert", "+carol", "@alice"]
    receive(client, buffers, ev.Left(T, "#dev", 7, "robert", "quit"))
    receive(client, buffers, ev.Joined(T, "#dev", 8, "robert"))
    assert client.mirror.marked("#dev") == ["+carol", "@alice", "robert"]


def test_a_kick_of_someone_else_is_shown_in_the_room_and_removes_them():
    client, buffers = in_dev()
    kick = mod.Kicked(T, "#dev", 2, "bob", "carol", "spam")
    assert receive(client, buffers, kick) == "#dev"
    assert client.members["#dev"] == ["bob", "alice"]
    assert client.mirror.marked("#dev") == ["@bob", "alice"]
    assert plain(kick).endswith("* carol was kicked from #dev by bob (spam)\n")


def test_being_kicked_closes_the_rooms_window_and_forgets_it_as_parting_does():
    client, buffers = in_dev()
    client._receive(ev.Message(T, "#dev", 2, "bob", "bye"))
    assert client.gaps.seq["#dev"] == 2
    kick = mod.Kicked(T, "#dev", 3, "bob", "ALICE", "")
    assert receive(client, buffers, kick) == "#lobby"  # shown where the user now is
    assert [b.name for b in buffers.buffers] == ["#lobby"]
    assert client.rooms == {"#lobby": "#lobby"}
    assert "#dev" not in client.members
    assert "#dev" not in client.topics
    assert "#dev" not in client.gaps.seq  # not resumed after a reconnection
    assert client.room_names() == ["#lobby"]
    assert "\n" not in "".join(t for _, t in toolbar(client, buffers))
    assert plain(kick).endswith("* ALICE was kicked from #dev by bob\n")


@pytest.mark.parametrize(
    ("event", "line"),
    [
        (mod.TopicChanged(T, "#dev", 2, "bob", "release friday"),
         "* bob set the topic of #dev: release friday"),
        (mod.TopicChanged(T, "#dev", 2, "bob", ""), "* bob cleared the topic of #dev"),
        (mod.Kicked(T, "#dev", 2, "bob", "carol", "spam"),
         "* carol was kicked from #dev by bob (spam)"),
        (mod.ModeChanged(T, "#dev", 2, "bob", "+o", "carol"),
         "* bob gives operator status to carol in #dev"),
        (mod.ModeChanged(T, "#dev", 2, "bob", "-o", "carol"),
         "* bob takes operator status from carol in #dev"),
        (mod.ModeChanged(T, "#dev", 2, "", "+o", "alice"),
         "* the server gives operator status to alice in #dev"),
        (mod.ModeChanged(T, "#dev", 2, "bob", "+v", "carol"), "* bob gives voice to carol in #dev"),
        (mod.ModeChanged(T, "#dev", 2, "bob", "-v", "carol"),
         "* bob takes voice from carol in #dev"),
        (mod.ModeChanged(T, "#dev", 2, "bob", "+b", "$a:mallory"),
         "* bob bans $a:mallory in #dev"),
        (mod.ModeChanged(T, "#dev", 2, "bob", "-b", "$a:mallory"),
         "* bob lifts the ban on $a:mallory in #dev"),
        (mod.ModeChanged(T, "#dev", 2, "bob", "+i"), "* bob made #dev invite-only"),
        (mod.ModeChanged(T, "#dev", 2, "bob", "-i"), "* bob made #dev open to all"),
        (mod.ModeChanged(T, "#dev", 2, "bob", "+m"), "* bob made #dev moderated"),
        (mod.ModeChanged(T, "#dev", 2, "bob", "-m"), "* bob made #dev open to all speakers"),
        (mod.Invited(T, "#dev", "bob"), "* bob invites you to #dev: /join #dev"),
    ],
)  # fmt: skip
def test_each_moderation_event_reads_as_text_mode_words_it(event, line):
    assert plain(event) == f"[{T.astimezone():%H:%M:%S}] {line}\n"


def test_the_state_of_a_room_is_shown_line_by_line():
    state = mod.RoomState(T, "#dev", "release friday", "bob", T, "im", "bob",
                          ("bob",), ("carol",), ("$a:mallory", "*!*@cloak"))  # fmt: skip
    shown = [line.split("] ", 1)[1] for line in plain(state).splitlines()]
    assert shown == [
        f"* topic of #dev: release friday (set by bob at {T.astimezone():%Y-%m-%d %H:%M})",
        "* #dev: modes +im, owner bob, operators: bob",
        "* #dev: voiced: carol",
        "* #dev: bans: $a:mallory, *!*@cloak",
    ]
    bare = mod.RoomState(T, "#x", "", None, None, "", None, (), (), ())
    shown = [line.split("] ", 1)[1] for line in plain(bare).splitlines()]
    assert shown == ["* #x has no topic", "* #x: modes none, owner none, operators: none"]


def test_an_invitation_and_a_rooms_state_go_to_the_window_in_view():
    client, buffers = in_dev()
    buffers.switch(1)
    assert receive(client, buffers, mod.Invited(T, "#secret", "bob")) == "#lobby"
    state = mod.RoomState(T, "#dev", "", None, None, "", None, (), (), ())
    assert receive(client, buffers, state) == "#lobby"
    assert [b.name for b in buffers.buffers] == ["#lobby", "#dev"]


def test_moderation_events_replayed_from_history_read_as_they_did_live():
    past = (
        mod.TopicChanged(T, "#dev", 1, "bob", "hi"),
        mod.Kicked(T, "#dev", 2, "bob", "carol", ""),
    )
    shown = plain(ev.History(T, "#dev", past)).splitlines()
    assert shown[0].endswith("* history of #dev: 2 earlier event(s)")
    assert shown[1].endswith("* bob set the topic of #dev: hi")
    assert shown[2].endswith("* carol was kicked from #dev by bob")


async def test_an_operator_sets_the_topic_and_kicks_another_client(start_chat, nursery):
    _, listener = await start_chat()
    bob, bob_screen, _ = await connected(nursery, listener, "bob")
    bob.submit("/join #dev")  # the first in the room: its operator
    await bob_screen.expect(r"\* bob joined #dev$")
    alice, alice_screen, _ = await connected(nursery, listener, "alice")
    alice.submit("/join #dev")
    await bob_screen.expect(r"\* alice joined #dev$")

    bob.submit("/topic release friday")
    await alice_screen.expect(r"\* bob set the topic of #dev: release friday$")
    assert alice.topics["#dev"] == "release friday"
    bob.submit("/voice alice")
    await alice_screen.expect(r"\* bob gives voice to alice in #dev$")
    assert alice.mirror.marked("#dev") == ["@bob", "+alice"]
    bob.submit("/kick alice spam")
    await alice_screen.expect(r"\* alice was kicked from #dev by bob \(spam\)$")
    assert alice.rooms == {"#lobby": "#lobby"}
