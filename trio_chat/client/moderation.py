"""Room moderation in the client: its commands, its words, and the marks of operators.

The commands read as text mode reads them (docs/protocol.md); the client
builds the requests itself and sends them in JSON mode. The words are those
of text mode for the same events, for the lines ``protocol.wording`` has none
for. ``marked`` puts ``@`` before an operator and ``+`` before a voiced member,
as IRC clients do.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from trio_chat.protocol import events as ev
from trio_chat.protocol import moderation as mod
from trio_chat.protocol import wording
from trio_chat.protocol.rules import fold
from trio_chat.protocol.text import CommandError

COMMANDS: tuple[str, ...] = (
    "/topic [#room] [TEXT]          set the room's topic (no text: show it)",
    "/notopic [#room]               clear the topic",
    "/kick [#room] NICK [reason]    put NICK out of the room",
    "/ban [#room] [NICK|MASK]       ban from the room (none: list the bans)",
    "/unban [#room] NICK|MASK       lift a ban",
    "/op, /deop [#room] NICK        give or take operator status",
    "/voice, /devoice [#room] NICK  let NICK speak in a +m room, or not",
    "/mode [#room] [+i|-i|+m|-m]    invite-only, moderated (none: show the room)",
    "/invite NICK [#room]           let NICK join an invite-only room",
    "/disconnect NICK [reason]      end NICK's connection (server operators)",
)
NAMES: tuple[str, ...] = (
    "/topic",
    "/notopic",
    "/kick",
    "/ban",
    "/unban",
    "/op",
    "/deop",
    "/voice",
    "/devoice",
    "/mode",
    "/invite",
    "/disconnect",
)
_GIVE = {"/op": "+o", "/deop": "-o", "/voice": "+v", "/devoice": "-v", "/unban": "-b"}
_ROOM_MODES = ("+i", "-i", "+m", "-m")


def parse(line: str) -> mod.SetTopic | mod.Kick | mod.SetMode | mod.Invite | mod.Disconnect | None:
    """The request a moderation command asks for; None if ``line`` is no such command.

    Raises CommandError, with its usage, for one that lacks its arguments.
    """
    name, rest = [*line.split(maxsplit=1), "", ""][:2] if line.startswith("/") else ("", "")
    name = name.lower()
    if name not in NAMES:
        return None
    words = rest.split()
    room = words.pop(0) if words and words[0].startswith("#") and name != "/invite" else None
    match name, words:
        case "/topic", _:
            text = rest.strip()[len(room) :].strip() if room else rest.strip()
            return mod.SetTopic(text or None, room)
        case "/notopic", []:
            return mod.SetTopic("", room)
        case "/kick", [nick, *reason]:
            return mod.Kick(nick, room, " ".join(reason))
        case "/ban", [] | [_]:
            return mod.SetMode("+b", words[0] if words else None, room)
        case (("/unban" | "/op" | "/deop" | "/voice" | "/devoice"), [nick]):
            return mod.SetMode(_GIVE[name], nick, room)
        case "/mode", []:
            return mod.SetMode(None, room=room)
        case "/mode", [change] if change in _ROOM_MODES:
            return mod.SetMode(change, room=room)
        case "/invite", [nick]:
            return mod.Invite(nick)
        case "/invite", [nick, invited_to] if invited_to.startswith("#"):
            return mod.Invite(nick, invited_to)
        case "/disconnect", [nick, *reason]:
            return mod.Disconnect(nick, " ".join(reason))
    raise CommandError(f"usage: {_usage(name)}")


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


def _usage(name: str) -> str:
    names = {"/deop": "/op", "/devoice": "/voice"}
    shown = names.get(name, name)
    return next(c for c in COMMANDS if c.startswith(shown)).split("  ")[0]


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
    "-i": "no longer invite-only",
    "+m": "moderated",
    "-m": "no longer moderated",
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
            change = _CHANGES.get(mode, f"sets {mode} {{}} in").format(target or "")
            return [f"{who} {change} {room}"]
        case mod.Invited(room=room, nick=nick):
            return [f"{nick} invites you to {room}: /join {room}"]
        case mod.RoomState() as state:
            return _state(state)
    return []


def _state(state: mod.RoomState) -> list[str]:
    room = state.room
    if state.topic:
        by = f" (set by {state.topic_by})" if state.topic_by else ""
        said = [f"topic of {room}: {state.topic}{by}"]
    else:
        said = [f"{room} has no topic"]
    modes = f"+{state.modes}" if state.modes else "none"
    owner = state.owner or "none"
    said.append(f"modes of {room}: {modes}; owner: {owner}")
    if state.ops:
        said.append(f"operators of {room}: {', '.join(state.ops)}")
    if state.voiced:
        said.append(f"voiced in {room}: {', '.join(state.voiced)}")
    if state.bans:
        said.append(f"bans in {room}: {', '.join(state.bans)}")
    return said
