"""What a typed line asks the client to do."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from trio_chat.protocol import events as ev
from trio_chat.protocol import text

# Commands the client answers itself, without asking the server.
CLIENT_COMMANDS: tuple[str, ...] = (
    "/help                 this list, and the keys",
    "/clear                clear the screen",
    "/window N             show window N (also /win N)",
    "/close                close this private conversation's window",
)
KEYS: tuple[str, ...] = (
    "Tab                   complete a /command, a #room or a nickname",
    "Up, Down              walk through earlier lines (kept between runs)",
    "Alt-1..9              show window 1..9",
    "Alt-Left, Alt-Right   the window before, the one after (also Ctrl-P, Ctrl-N)",
    "Ctrl-D, Ctrl-C        leave, like /quit",
    "paste                 several lines: each is sent as a message of its own",
)
HELP: tuple[str, ...] = (
    "commands:",
    *(c for c in text.COMMANDS if not c.startswith("/help")),
    *CLIENT_COMMANDS,
    "keys:",
    *KEYS,
)
COMMAND_NAMES: tuple[str, ...] = tuple(
    sorted({c.split()[0] for c in (*text.COMMANDS, *CLIENT_COMMANDS) if not c.startswith("//")})
)


@dataclass(frozen=True, slots=True)
class Send:
    """A request for the server."""

    request: ev.Request


@dataclass(frozen=True, slots=True)
class ShowHelp:
    pass


@dataclass(frozen=True, slots=True)
class Clear:
    pass


@dataclass(frozen=True, slots=True)
class Invalid:
    """A line that is no valid command; ``message`` says why."""

    message: str


Command = Send | ShowHelp | Clear | Invalid


def parse(line: str) -> Command | None:
    """What ``line`` asks for, or None for a blank line."""
    name = line.split(maxsplit=1)[0].lower() if line.strip() else ""
    if name == "/help":
        return ShowHelp()
    if name == "/clear":
        return Clear()
    try:
        request = text.parse_request(line, registered=True)
    except text.CommandError as exc:
        return Invalid(exc.message)
    if request is None:
        return None
    match request:  # irssi and weechat users leave out the # of a room
        case ev.Join(room=room) | ev.Part(room=room) | ev.Who(room=room) if room and room[0] != "#":
            request = dataclasses.replace(request, room=f"#{room}")
    return Send(request)
