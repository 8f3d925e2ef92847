"""Room moderation in the client: its commands, its words, and the marks of operators.

The client reads typed lines and words events through text mode
(``protocol.text``, ``protocol.wording``). Until text mode knows room
moderation, this module stands in for it, with the same commands and the same
words: ``parse`` and ``format_request`` for the commands, ``lines`` for the
events, ``marked`` for ``@`` before an operator and ``+`` before a voiced member
in a list of members. Where text mode has them, its own are used.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from trio_chat.protocol import events as ev
from trio_chat.protocol import moderation as mod
from trio_chat.protocol import wording
from trio_chat.protocol.rules import fold
from trio_chat.protocol.text import CommandError

COMMANDS: tuple[str, ...] = (
    "/topic [#room] [TEXT]        show or (operators) set the room's topic",
    "/notopic [#room]             clear the topic (operators)",
    "/kick [#room] NICK [reason]  remove NICK from the room (operators)",
    "/ban [#room] [NICK|MASK]     ban NICK, nick!user@host or $a:ACCOUNT; alone: list",
    "/unban [#room] NICK|MASK     lift the bans that hold NICK, or that MASK",
    "/op [#room] NICK             make NICK an operator of the room (operators)",
    "/deop [#room] NICK           take NICK's operator status (operators)",
    "/voice [#room] NICK          let NICK speak in a moderated room (operators)",
    "/devoice [#room] NICK        take NICK's voice (operators)",
    "/mode [#room] [+i|-i|+m|-m]  invite-only or moderated; alone: the room's settings",
    "/invite NICK [#room]         let NICK join an invite-only room",
    "/disconnect NICK [reason]    end NICK's connection (server operators)",
)
NAMES: tuple[str, ...] = tuple(c.split()[0] for c in COMMANDS)
_GIVE = {"/op": "+o", "/deop": "-o", "/voice": "+v", "/devoice": "-v", "/unban": "-b"}


def parse(line: str) -> ev.Request | None:
    """The request a moderation command asks for; None if ``line`` is no such command.

    Raises CommandError, with its usage, for one that lacks its arguments.
    The server checks the rest: a mode it does not know, a room that is none.
    """
    name, rest = [*line.split(maxsplit=1), "", ""][:2] if line.startswith("/") else ("", "")
    name = name.lower()
    if name not in NAMES:
        return None
    room = None
    if rest.startswith("#") and name not in ("/invite", "/disconnect"):
        room, rest = [*rest.split(maxsplit=1), ""][:2]
    first, after = [*rest.split(maxsplit=1), "", ""][:2]
    words = rest.split()
    match name:
        case "/topic":
            return mod.SetTopic(rest.strip() or None, room)
        case "/notopic":
            return mod.SetTopic("", room)
        case "/kick" if first:
            return mod.Kick(first, room, after.strip())
        case "/disconnect" if first:
            return mod.Disconnect(first, after.strip())
        case "/ban" if len(words) <= 1:
            return mod.SetMode("+b", first or None, room)
        case "/mode" if len(words) <= 2:
            return mod.SetMode(first or None, words[1] if len(words) == 2 else None, room)
        case "/invite" if 1 <= len(words) <= 2:
            return mod.Invite(first, after.strip() or None)
        case "/unban" | "/op" | "/deop" | "/voice" | "/devoice" if len(words) == 1:
            return mod.SetMode(_GIVE[name], first, room)
    usage = next(c for c in COMMANDS if c.startswith(name + " ")).split("  ")[0]
    raise CommandError(f"usage: {usage}")


def format_request(request: ev.Request) -> str | None:
    """The line a person would type for a moderation request; None for another."""
    match request:
        case mod.SetTopic(text=text, room=room):
            name = "/notopic" if text == "" else "/topic"
            words = [name, room, text]
        case mod.Kick(nick=nick, room=room, reason=reason):
            words = ["/kick", room, nick, reason]
        case mod.SetMode(mode=mode, target=target, room=room):
            names = {change: name for name, change in _GIVE.items()}
            name = names.get(mode or "", "/ban" if mode == "+b" else "/mode")
            words = [name, room, mode if name == "/mode" else None, target]
        case mod.Invite(nick=nick, room=room):
            words = ["/invite", nick, room]
        case mod.Disconnect(nick=nick, reason=reason):
            words = ["/disconnect", nick, reason]
        case _:
            return None
    return " ".join(word for word in words if word)


def marked(nicks: Iterable[str], ops: Collection[str], voiced: Collection[str]) -> list[str]:
    """``nicks`` with ``@`` before operators and ``+`` before the voiced (an
    operator who is voiced too shows ``@``); ``ops`` and ``voiced`` as the server
    spells them, compared ignoring case."""
    op_keys, voiced_keys = {fold(n) for n in ops}, {fold(n) for n in voiced}
    return [
        ("@" if fold(n) in op_keys else "+" if fold(n) in voiced_keys else "") + n for n in nicks
    ]


_CHANGES = {
    "+o": "gives operator status to {} in",
    "-o": "takes operator status from {} in",
    "+v": "gives voice to {} in",
    "-v": "takes voice from {} in",
    "+b": "bans {} in",
    "-b": "lifts the ban on {} in",
}
_ROOM_CHANGED = {
    "+i": "invite-only",
    "-i": "open to all",
    "+m": "moderated",
    "-m": "open to all speakers",
}


def lines(event: ev.Event) -> list[wording.Line]:
    """The lines of a moderation event, worded as text mode words them; none for others."""
    t = wording.clock(event.time)
    return [[t, ("notice", f"* {text}")] for text in _said(event)]


def _said(event: ev.Event) -> list[str]:
    match event:
        case mod.TopicChanged(room=room, nick=nick, topic=""):
            return [f"{nick} cleared the topic of {room}"]
        case mod.TopicChanged(room=room, nick=nick, topic=topic):
            return [f"{nick} set the topic of {room}: {topic}"]
        case mod.Kicked(room=room, nick=nick, target=target, reason=reason):
            why = f" ({reason})" if reason else ""
            return [f"{target} was kicked from {room} by {nick}{why}"]
        case mod.ModeChanged(room=room, nick=nick, mode=mode, target=target):
            who = nick or "the server"
            if mode in _ROOM_CHANGED:
                return [f"{who} made {room} {_ROOM_CHANGED[mode]}"]
            change = _CHANGES.get(mode, f"set mode {mode} on {{}} in").format(target or "")
            return [f"{who} {change} {room}"]
        case mod.Invited(room=room, nick=nick):
            return [f"{nick} invites you to {room}: /join {room}"]
        case mod.RoomState() as state:
            return _state(state)
    return []


def _state(state: mod.RoomState) -> list[str]:
    room = state.room
    if state.topic:
        when = f" at {state.topic_time.astimezone():%Y-%m-%d %H:%M}" if state.topic_time else ""
        by = f" (set by {state.topic_by}{when})" if state.topic_by else ""
        said = [f"topic of {room}: {state.topic}{by}"]
    else:
        said = [f"{room} has no topic"]
    modes = f"+{state.modes}" if state.modes else "none"
    operators = ", ".join(state.ops) or "none"
    said.append(f"{room}: modes {modes}, owner {state.owner or 'none'}, operators: {operators}")
    if state.voiced:
        said.append(f"{room}: voiced: {', '.join(state.voiced)}")
    if state.bans:
        said.append(f"{room}: bans: {', '.join(state.bans)}")
    return said
