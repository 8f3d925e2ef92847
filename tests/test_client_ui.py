"""The client's pieces without a network: commands, rendering, completion, the prompt."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import ColorDepth, DummyOutput

from trio_chat.client import commands
from trio_chat.client.buffers import Buffers
from trio_chat.client.completion import ChatCompleter
from trio_chat.client.connection import ChatClient, Note
from trio_chat.client.render import NICK_COLOURS, Days, nick_colour, render, to_ansi
from trio_chat.client.ui import make_session, toolbar
from trio_chat.protocol import events as ev

T = datetime(2026, 11, 23, 14, 3, 7, tzinfo=UTC)


def plain(item, me="alice", *, several_rooms=False) -> str:
    return "".join(text for _, text in render(item, me, several_rooms=several_rooms))


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("hello", commands.Send(ev.Say("hello"))),
        ("//etc/passwd", commands.Send(ev.Say("/etc/passwd"))),
        ("/me waves", commands.Send(ev.Act("waves"))),
        ("/msg bob hi there", commands.Send(ev.Tell("bob", "hi there"))),
        ("/join #dev", commands.Send(ev.Join("#dev"))),
        ("/join dev", commands.Send(ev.Join("#dev"))),
        ("/part dev", commands.Send(ev.Part("#dev"))),
        ("/who dev", commands.Send(ev.Who("#dev"))),
        ("/part", commands.Send(ev.Part())),
        ("/quit bye", commands.Send(ev.Quit("bye"))),
        ("/help", commands.ShowHelp()),
        ("/CLEAR", commands.Clear()),
        ("/msg bob", commands.Invalid("usage: /msg NICK TEXT")),
        ("/frobnicate", commands.Invalid("unknown command /frobnicate; /help lists the commands")),
        ("   ", None),
    ],
)
def test_typed_lines_become_commands(line, expected):
    assert commands.parse(line) == expected


def test_help_covers_every_server_command_and_the_keys():
    help_text = "\n".join(commands.HELP)
    for name in ("/who", "/msg", "/me", "/nick", "/join", "/part", "/rooms", "/history", "/quit"):
        assert name in help_text
    assert "/clear" in help_text
    assert "Tab" in help_text
    assert "Ctrl-D" in help_text


def test_each_kind_of_line_reads_as_it_should():
    local = T.astimezone().strftime("[%H:%M:%S]")
    assert plain(ev.Message(T, "#lobby", 1, "bob", "hi")) == f"{local} bob: hi\n"
    assert plain(ev.Action(T, "#lobby", 2, "bob", "waves")) == f"{local} ~ bob waves\n"
    assert plain(ev.Private(T, "bob", "alice", "psst")) == f"{local} [private] bob -> alice: psst\n"
    assert plain(ev.Joined(T, "#lobby", 3, "bob")) == f"{local} * bob joined #lobby\n"
    assert plain(ev.Error(T, "nick_taken", "taken")) == f"{local} ! taken\n"
    assert plain(Note("pending: hi", "pending")) == "- pending: hi\n"
    assert plain(Note("gap", "gap")) == "! gap\n"


def test_in_several_rooms_every_message_names_its_room_the_lobby_too():
    local = T.astimezone().strftime("[%H:%M:%S]")
    lobby, dev = (
        ev.Message(T, "#lobby", 1, "bob", "lobby msg"),
        ev.Message(T, "#dev", 1, "alice", "hi"),
    )
    assert plain(lobby, several_rooms=True) == f"{local} #lobby bob: lobby msg\n"
    assert plain(dev, several_rooms=True) == f"{local} #dev alice: hi\n"
    assert plain(ev.Action(T, "#dev", 2, "bob", "waves"), several_rooms=True) == (
        f"{local} #dev ~ bob waves\n"
    )
    assert plain(lobby) == f"{local} bob: lobby msg\n"  # only in the lobby: as nc reads it
    assert plain(dev) == f"{local} #dev alice: hi\n"
    replay = ev.History(T, "#dev", (dev,))
    assert plain(replay, several_rooms=True).endswith(f"  {local} alice: hi\n")  # under its head


def test_a_replay_with_joins_and_leaves_counts_events_not_messages():
    local = T.astimezone().strftime("[%H:%M:%S]")
    past = (
        ev.Joined(T, "#dev", 1, "bob"),
        ev.Message(T, "#dev", 2, "bob", "hi"),
        ev.Left(T, "#dev", 3, "bob", "quit"),
        ev.Joined(T, "#dev", 4, "carol"),
    )
    shown = plain(ev.History(T, "#dev", past)).splitlines()
    assert shown[0] == f"{local} * history of #dev: 4 earlier event(s)"
    assert len(shown) == 5
    said = plain(ev.History(T, "#dev", past[1:2])).splitlines()
    assert said[0] == f"{local} * history of #dev: 1 earlier message(s)"


def test_a_line_marks_each_change_of_day_in_a_replay_and_live():
    today = datetime(2026, 11, 30, 12, tzinfo=UTC)
    yesterday = datetime(2026, 11, 29, 12, tzinfo=UTC)  # noon: the same day in most zones
    days = Days(today.astimezone().date())

    def shown(item):
        return "".join(text for _, text in render(item, "alice", days=days)).splitlines()

    replay = ev.History(today, "#lobby", (ev.Message(yesterday, "#lobby", 1, "bob", "good night"),))
    lines = shown(replay)
    assert lines[1] == "--- Sunday 29 November 2026 ---"
    assert lines[2].endswith("bob: good night")
    assert lines[0].endswith("history of #lobby: 1 earlier message(s)")  # today, before
    live = shown(ev.Message(today, "#lobby", 2, "bob", "good morning"))
    assert live[0] == "--- Monday 30 November 2026 ---"
    assert shown(ev.Message(today, "#lobby", 3, "bob", "coffee?"))[0].endswith("coffee?")


def test_own_private_action_notice_and_error_lines_are_styled_apart():
    def styles(item):
        return {style for style, text in render(item, "alice") if text.strip()}

    own = styles(ev.Message(T, "#lobby", 1, "alice", "hi"))
    other = styles(ev.Message(T, "#lobby", 1, "bob", "hi"))
    kinds = [
        own,
        other,
        styles(ev.Action(T, "#lobby", 2, "bob", "waves")),
        styles(ev.Private(T, "bob", "alice", "psst")),
        styles(ev.Notice(T, "hello")),
        styles(ev.Error(T, "x", "no")),
    ]
    assert "class:own" in own
    assert "class:own" not in other
    assert len({frozenset(k - {"class:time"}) for k in kinds}) == len(kinds)


def test_nick_colours_are_stable_and_ignore_case():
    assert nick_colour("alice") == nick_colour("ALICE")
    assert nick_colour("alice") in NICK_COLOURS
    spread = {nick_colour(f"user{n}") for n in range(100)}
    assert len(spread) == len(NICK_COLOURS)
    (nick_style,) = [s for s, t in render(ev.Message(T, "#l", 1, "bob", "x"), "me") if t == "bob"]
    assert f"fg:{nick_colour('bob')}" in nick_style


def test_control_characters_never_reach_the_terminal():
    nasty = ev.Message(T, "#lobby", 1, "bob\x1b", "clear \x1b[2J\x07 bell \x9b31m")
    text = plain(nasty)
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "\x9b" not in text
    assert "␛[2J" in text
    ansi = to_ansi(render(nasty, "alice"), ColorDepth.DEPTH_8_BIT)
    assert "\x1b[2J" not in ansi


def test_completion_of_commands_and_nicknames():
    completer = ChatCompleter(lambda: ["alice", "Bob", "bobby"])

    def complete(text):
        document = Document(text, len(text))
        return [c.text for c in completer.get_completions(document, CompleteEvent())]

    assert complete("/jo") == ["/join"]
    assert "/clear" in complete("/")
    assert complete("hi bo") == ["Bob", "bobby"]
    assert complete("/msg al") == ["alice"]
    assert complete("hi ") == ["alice", "Bob", "bobby"]


async def _no_stream():  # pragma: no cover - never called: the prompt runs alone
    raise AssertionError


def _client() -> ChatClient:
    client = ChatClient("alice", _no_stream, show=lambda item: None)
    client.members = {"#lobby": ["alice", "bob"]}
    return client


async def _type_and_complete(session, inp, before_tab: str, completed: str, after: str) -> str:
    """Type, press Tab, wait for the completion to land, then finish the line."""
    changed = asyncio.Event()
    session.default_buffer.on_text_changed += lambda _: changed.set()
    line = asyncio.ensure_future(session.prompt_async())
    inp.send_text(before_tab + "\t")
    async with asyncio.timeout(10):
        while session.default_buffer.text != completed:
            await changed.wait()
            changed.clear()
    inp.send_text(after + "\r")
    return await line


def test_the_prompt_completes_with_tab_and_keeps_history_across_runs(tmp_path):
    history = tmp_path / "data" / "history"

    async def first_run():
        with create_pipe_input() as inp:
            session = make_session(_client(), history, input=inp, output=DummyOutput())
            assert await _type_and_complete(session, inp, "/jo", "/join", " #dev") == "/join #dev"
            assert await _type_and_complete(session, inp, "hi b", "hi bob", "!") == "hi bob!"

    asyncio.run(first_run())
    with create_pipe_input() as inp:  # a new run reads the same file
        session = make_session(_client(), history, input=inp, output=DummyOutput())
        inp.send_text("\x1b[A\x1b[A\r")
        assert session.prompt() == "/join #dev"


def test_a_paste_of_several_lines_is_handed_over_line_by_line_and_one_line_is_typed():
    pasted: list[list[str]] = []

    async def paste_then_type():
        with create_pipe_input() as inp:
            session = make_session(_client(), None, pasted.append, input=inp, output=DummyOutput())
            line = asyncio.ensure_future(session.prompt_async())
            inp.send_text("say: \x1b[200~one\r\ntwo\n\nthree\x1b[201~")
            inp.send_text("\x1b[200~four\x1b[201~\r")
            async with asyncio.timeout(10):
                return await line

    assert asyncio.run(paste_then_type()) == "four"
    assert pasted == [["say: one", "two", "three"]]


def test_alt_digits_alt_arrows_and_ctrl_n_p_change_windows():
    buffers = Buffers()
    for name in ("#dev", "@bob"):
        buffers.open(name)
    seen: list[str] = []

    async def press(keys: str) -> str:
        with create_pipe_input() as inp:
            session = make_session(
                _client(),
                None,
                buffers=buffers,
                moved=lambda: seen.append(buffers.current.name),
                input=inp,
                output=DummyOutput(),
            )
            line = asyncio.ensure_future(session.prompt_async())
            inp.send_text(keys + "typed\r")
            async with asyncio.timeout(10):
                return await line

    # Alt-2, Alt-Right, Alt-Right (round the end), Alt-Left, Ctrl-P, Ctrl-N, Alt-9 (none)
    keys = "\x1b2" + "\x1b[1;3C" * 2 + "\x1b[1;3D" + "\x10" + "\x0e" + "\x1b9"
    assert asyncio.run(press(keys)) == "typed"
    assert seen == ["#dev", "@bob", "#lobby", "@bob", "#dev", "@bob"]


def test_the_toolbar_lists_the_windows_with_unread_and_marked_ones():
    client = _client()
    client.mirror.rooms = {"#lobby": "#lobby", "#dev": "#dev"}
    client.members = {"#lobby": ["alice", "bob"], "#dev": ["alice"]}
    buffers = Buffers()
    buffers.open("#dev")
    buffers.route(ev.Message(T, "#dev", 1, "bob", "one"), "alice")
    buffers.route(ev.Message(T, "#dev", 2, "bob", "two"), "alice")
    buffers.route(ev.Private(T, "bob", "alice", "psst"), "alice")
    bar = toolbar(client, buffers)
    text = "".join(t for _, t in bar)
    assert text.endswith("| alice | #lobby (2 here) | 1:#lobby 2:#dev(2) 3:@bob(1!) ")
    styles = {t: s for s, t in bar}
    assert styles["1:#lobby"] == "class:toolbar.current"
    assert styles["3:@bob(1!)"] == "class:toolbar.marked"
    buffers.switch(2)
    assert "| alice | #dev (1 here) | 1:#lobby 2:#dev 3:@bob(1!) " in "".join(
        t for _, t in toolbar(client, buffers)
    )
    buffers.switch(3)
    assert "| alice | @bob | 1:#lobby 2:#dev 3:@bob " in "".join(
        t for _, t in toolbar(client, buffers)
    )


def test_a_line_in_its_own_window_leaves_out_its_room_and_a_mention_is_highlighted():
    said = ev.Message(T, "#dev", 1, "bob", "alice: look")
    assert "#dev" in plain(said, several_rooms=True)
    bare = render(said, "alice", in_its_window=True, mention=True)
    assert "#dev" not in "".join(t for _, t in bare)
    time, *rest = [(s, t) for s, t in bare if t != "\n"]
    assert "class:mention" not in time[0]
    assert all("class:mention" in s for s, _ in rest)
