"""Events and the client's own notes, as styled lines for the terminal.

Everything that came from the network passes through ``sanitize`` here, so a
control character can never act on the terminal, whatever the server sent.
"""

from __future__ import annotations

import io
import zlib

from prompt_toolkit.data_structures import Size
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.output import ColorDepth
from prompt_toolkit.output.vt100 import Vt100_Output
from prompt_toolkit.renderer import print_formatted_text
from prompt_toolkit.styles import Style

from trio_chat.client.connection import Note
from trio_chat.protocol import events as ev
from trio_chat.protocol.rules import fold, sanitize

# Sixteen-colour names, so nicknames are told apart on any terminal.
NICK_COLOURS: tuple[str, ...] = (
    "ansired",
    "ansigreen",
    "ansiyellow",
    "ansiblue",
    "ansimagenta",
    "ansicyan",
    "ansibrightred",
    "ansibrightgreen",
    "ansibrightyellow",
    "ansibrightblue",
    "ansibrightmagenta",
    "ansibrightcyan",
)

STYLE = Style.from_dict(
    {
        "time": "ansibrightblack",
        "own": "bold",
        "action": "italic",
        "private": "ansimagenta",
        "notice": "ansibrightblack",
        "error": "ansired bold",
        "pending": "ansiyellow",
        "gap": "ansiyellow bold",
        "history": "ansibrightblack",
        "bottom-toolbar": "noreverse bg:ansiblue fg:ansiwhite",
        "toolbar.offline": "bg:ansired fg:ansiwhite bold",
        "toolbar.reconnecting": "bg:ansiyellow fg:ansiblack bold",
    }
)

Fragments = list[tuple[str, str]]


def nick_colour(nick: str) -> str:
    """A colour that is the same for ``nick`` on every run and every machine."""
    return NICK_COLOURS[zlib.crc32(fold(nick).encode()) % len(NICK_COLOURS)]


def render(item: ev.Event | Note, me: str) -> FormattedText:
    """The lines for ``item``, as seen by the user whose nickname is ``me``."""
    fragments: Fragments = []
    for line in _lines(item, me):
        fragments += [*line, ("", "\n")]
    return FormattedText(fragments)


def _lines(item: ev.Event | Note, me: str) -> list[Fragments]:
    if isinstance(item, Note):
        mark = "!" if item.kind in ("error", "gap") else "-"
        return [[("class:" + item.kind, f"{mark} {sanitize(item.text)}")]]
    t = ("class:time", item.time.astimezone().strftime("[%H:%M:%S] "))
    match item:
        case ev.Message(nick=nick, text=text):
            own = fold(nick) == fold(me)
            style = "class:own" if own else ""
            return [[t, _nick(nick, style), (style, f": {sanitize(text)}")]]
        case ev.Action(nick=nick, text=text):
            return [
                [
                    t,
                    ("class:action", "~ "),
                    _nick(nick, "class:action"),
                    ("class:action", " " + sanitize(text)),
                ]
            ]
        case ev.Private(sender=sender, target=target, text=text):
            return [
                [
                    t,
                    ("class:private", "[private] "),
                    _nick(sender),
                    ("class:private", " -> "),
                    _nick(target),
                    ("class:private", f": {sanitize(text)}"),
                ]
            ]
        case ev.Error(message=message):
            return [[t, ("class:error", f"! {sanitize(message)}")]]
        case ev.History(room=room, events=past):
            head = f"* history of {sanitize(room)}: {len(past)} earlier message(s)"
            lines = [[t, ("class:notice", head)]]
            for event in past:
                lines += [[("class:history", "  "), *line] for line in _lines(event, me)]
            return lines
        case ev.Help(commands=commands):
            return [[t, ("class:notice", "* " + sanitize(line))] for line in commands]
    return [[t, ("class:notice", f"* {sanitize(line)}")] for line in _notice(item, me)]


def _nick(nick: str, style: str = "") -> tuple[str, str]:
    return (f"fg:{nick_colour(nick)} bold {style}".strip(), sanitize(nick))


def _notice(event: ev.Event, me: str) -> list[str]:
    match event:
        case ev.Joined(room=room, nick=nick):
            return [f"{nick} joined {room}"]
        case ev.Left(room=room, nick=nick, reason=reason):
            return [f"{nick} left {room} ({reason})"]
        case ev.NickChanged(old=old, new=new):
            return [f"{old} is now known as {new}"]
        case ev.Welcome(nick=nick, room=room, members=members, online=online):
            others = [m for m in members if fold(m) != fold(me)]
            company = f"with {', '.join(others)}" if others else "alone"
            return [f"welcome, {nick}! you are in {room} {company} ({online} online)"]
        case ev.Members(room=room, nicks=nicks):
            return [f"in {room} ({len(nicks)}): {', '.join(nicks)}"]
        case ev.Rooms(rooms=rooms):
            listing = ", ".join(f"{r.name} ({r.members})" for r in rooms)
            return [f"rooms: {listing or 'none'}"]
        case ev.Notice(text=text):
            return [text]
        case ev.Bye(reason=reason):
            return [f"disconnected: {reason}"]
    return []


def to_ansi(text: FormattedText, color_depth: ColorDepth) -> str:
    """``text`` as the escape sequences a terminal needs to show it."""
    buffer = io.StringIO()
    output = Vt100_Output(buffer, lambda: Size(24, 80), default_color_depth=color_depth)
    print_formatted_text(output, text, STYLE, color_depth=color_depth)
    output.flush()
    return buffer.getvalue()
