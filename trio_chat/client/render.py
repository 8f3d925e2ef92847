"""Events and the client's own notes, as styled lines for the terminal.

The words are ``protocol.wording``'s, the same that text mode sends; this
module adds only the terminal's part: colours, a colour per nickname, the
user's own messages in bold, replayed lines indented, and a time on every
line. Everything that came from the network passes through ``sanitize`` here, so a
control character can never act on the terminal, whatever the server sent.
"""

from __future__ import annotations

import io
import zlib
from datetime import date, datetime

from prompt_toolkit.data_structures import Size
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.output import ColorDepth
from prompt_toolkit.output.vt100 import Vt100_Output
from prompt_toolkit.renderer import print_formatted_text
from prompt_toolkit.styles import Style

from trio_chat.client.connection import Note
from trio_chat.protocol import events as ev
from trio_chat.protocol import wording
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
        "day": "ansibrightblack bold",
        "mention": "reverse",
        "bottom-toolbar": "noreverse bg:ansiblue fg:ansiwhite",
        "toolbar.current": "bold reverse",
        "toolbar.topic": "bg:ansibrightblack fg:ansiwhite",
        "toolbar.marked": "bg:ansired fg:ansiwhite bold",
        "toolbar.offline": "bg:ansired fg:ansiwhite bold",
        "toolbar.reconnecting": "bg:ansiyellow fg:ansiblack bold",
    }
)

Fragments = list[tuple[str, str]]


def nick_colour(nick: str) -> str:
    """A colour that is the same for ``nick`` on every run and every machine."""
    return NICK_COLOURS[zlib.crc32(fold(nick).encode()) % len(NICK_COLOURS)]


class Days:
    """The day of the last line shown (local time), to mark where another begins.

    It starts as today, so a replay from yesterday is marked as such, and
    today's lines after it are marked again.
    """

    def __init__(self, today: date | None = None) -> None:
        self.day = today or date.today()

    def change(self, time: datetime) -> str | None:
        """The line that goes before a line of ``time``, if its day is another."""
        day = time.astimezone().date()
        if day == self.day:
            return None
        self.day = day
        return f"--- {day:%A} {day.day} {day:%B %Y} ---"


def render(
    item: ev.Event | Note,
    me: str,
    *,
    several_rooms: bool = False,
    days: Days | None = None,
    in_its_window: bool = False,
    mention: bool = False,
) -> FormattedText:
    """The lines for ``item``, as seen by the user whose nickname is ``me``.

    A message or action names its room, as text mode words it, except in
    the lobby; when the user is in ``several_rooms``, the lobby's name theirs too.
    ``in_its_window``: it is shown in its room's own window, which names the
    room already. With ``days``, a line marks each change of day. A ``mention``
    of the user is highlighted.
    """
    fragments: Fragments = []
    for line in _lines(item, me, several_rooms and not in_its_window, days, in_its_window):
        if mention:  # all but the time
            fragments += [line[0], *((f"{s} class:mention", text) for s, text in line[1:])]
        else:
            fragments += line
        fragments.append(("", "\n"))
    return FormattedText(fragments)


def _lines(
    item: ev.Event | Note, me: str, several_rooms: bool, days: Days | None, bare: bool
) -> list[Fragments]:
    if isinstance(item, Note):
        mark = "!" if item.kind in ("error", "gap") else "-"
        return [[("class:" + item.kind, f"{mark} {sanitize(item.text)}")]]
    lines = []
    for time, words in _timed(item):
        if days is not None and (day := days.change(time)) is not None:
            lines.append([("class:day", day)])
        line = _on_screen(words, time)
        if bare and _said(item):
            line = [(style, text) for style, text in line if "room" not in style.split()]
        if several_rooms and isinstance(item, ev.Message | ev.Action):
            line = _room_named(line, item)
        own = any(style == "message nick" and fold(text) == fold(me) for style, text in line)
        lines.append([_styled(style, text, own) for style, text in line])
    return lines


def _timed(item: ev.Event) -> list[tuple[datetime, wording.Line]]:
    """``item``'s lines, each with the time of the event it words (a replay holds many)."""
    worded = wording.lines(item)
    if not isinstance(item, ev.History | ev.PrivateHistory):
        return [(item.time, line) for line in worded]
    past = [(e.time, [("history", ""), *line]) for e in item.events for line in wording.lines(e)]
    return [(item.time, worded[0]), *past]


def _said(event: ev.Event) -> bool:
    return isinstance(event, ev.Message | ev.Action)


def _on_screen(line: wording.Line, time: datetime) -> wording.Line:
    if line[0][0] == "history":  # the line above names the room
        return [(style, text) for style, text in line if "room" not in style.split()]
    if line[0][0] != "time":  # an error; on the screen every line has a time
        return [wording.clock(time), *line]
    return line


def _room_named(line: wording.Line, said: ev.Message | ev.Action) -> wording.Line:
    """``line`` with its room after the time, whatever the room."""
    time, *rest = [(style, text) for style, text in line if "room" not in style.split()]
    kind = "message" if isinstance(said, ev.Message) else "action"
    return [time, (f"{kind} room", f"{said.room} "), *rest]


def _styled(style: str, text: str, own: bool) -> tuple[str, str]:
    """A fragment as the terminal shows it: style names become classes, a
    nickname its colour, and the user's own message is bold."""
    if style == "history":  # replayed lines are indented
        return ("class:history", "  ")
    names = style.split()
    classes = [f"class:{name}" for name in names if name not in ("nick", "message")]
    if own and "message" in names:
        classes.append("class:own")
    if "nick" in names:
        classes.insert(0, f"fg:{nick_colour(text)} bold")
    return (" ".join(classes), sanitize(text))


def split_lines(text: FormattedText) -> list[FormattedText]:
    """``text`` line by line, each line ending in its newline."""
    lines: list[FormattedText] = []
    line: Fragments = []
    for fragment in text:
        line.append((fragment[0], fragment[1]))
        if fragment[1] == "\n":
            lines.append(FormattedText(line))
            line = []
    return [*lines, FormattedText(line)] if line else lines


def to_ansi(text: FormattedText, color_depth: ColorDepth) -> str:
    """``text`` as the escape sequences a terminal needs to show it."""
    buffer = io.StringIO()
    output = Vt100_Output(buffer, lambda: Size(24, 80), default_color_depth=color_depth)
    print_formatted_text(output, text, STYLE, color_depth=color_depth)
    output.flush()
    return buffer.getvalue()
