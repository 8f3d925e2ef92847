"""What each event says to a person: the one place its words are written.

``lines(event)`` gives the lines a person reads for ``event``, each a list of
``(style, text)`` fragments. Text mode joins the texts into the lines an
``nc`` user reads (``text.format_event``); the terminal client turns the
styles into colours (``client/render.py``). A style is a space-separated set
of these names, or ``""`` for plain text:

``time``     the time at the start of a line
``nick``     a nickname (the client gives each its own colour)
``room``     the room a message or action went to, outside the lobby
``message``  a line of someone's message (the client marks the user's own)
``action``   a ``/me`` line
``private``  a private message
``notice``   a line from the server about the chat
``error``    a request failed
``history``  an empty fragment that starts a line replayed from history, for
             a reader that sets such lines apart

The texts are shown as they are: the server sanitized what clients sent,
and a client sanitizes what it receives before showing it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Collection, Iterable
from datetime import datetime

from trio_chat.protocol import events as ev
from trio_chat.protocol import lookups, presence
from trio_chat.protocol import moderation as mod
from trio_chat.protocol.moderation_wording import moderation_lines
from trio_chat.protocol.rules import LOBBY, fold

Fragment = tuple[str, str]
Line = list[Fragment]


def clock(time: datetime) -> Fragment:
    """The fragment that starts a line: ``time`` in local time, and a space."""
    return _clock_at(math.floor(time.timestamp()))


@functools.lru_cache(maxsize=64)
def _clock_at(second: int) -> Fragment:
    # Converting to local time is the dearest part of wording a line, and a
    # busy room has many events in each second.
    return ("time", datetime.fromtimestamp(second).strftime("[%H:%M:%S] "))


def _in(room: str, style: str) -> list[Fragment]:
    """Lines of the lobby read as they are; elsewhere they name their room."""
    return [] if room.lower() == LOBBY else [(f"{style} room", f"{room} ")]


def lines(event: ev.Event) -> list[Line]:
    """The lines ``event`` reads as, oldest first; none for pings and pongs."""
    t = clock(event.time)
    match event:  # the commonest first: a failed case costs a little
        case ev.Message(room=room, nick=nick, text=text):
            return [
                [
                    t,
                    *_in(room, "message"),
                    ("message nick", nick),
                    ("message", ": "),
                    ("message", text),
                ]
            ]
        case ev.Action(room=room, nick=nick, text=text):
            return [
                [
                    t,
                    *_in(room, "action"),
                    ("action", "~ "),
                    ("action nick", nick),
                    ("action", " "),
                    ("action", text),
                ]
            ]
        case ev.Private(sender=sender, target=target, text=text):
            return [
                [
                    t,
                    ("private", "[private] "),
                    ("nick", sender),
                    ("private", " -> "),
                    ("nick", target),
                    ("private", ": "),
                    ("private", text),
                ]
            ]
        case ev.Joined(room=room, nick=nick):
            return [[t, ("notice", f"* {nick} joined {room}")]]
        case ev.Left(room=room, nick=nick, reason=reason):
            return [[t, ("notice", f"* {nick} left {room} ({reason})")]]
        case ev.NickChanged(room=room, old=old, new=new):
            return [[t, ("notice", f"* {old} is now known as {new} ({room})")]]
        case ev.Welcome(nick=nick, room=room, members=members, online=online, topic=topic):
            others = [m for m in members if m != nick]
            company = f"with {', '.join(others)}" if others else "alone"
            where = f"you are in {room} {company}" if room else "you are in no room"
            welcome = f"* welcome, {nick}! {where} ({online} online)"
            return [
                [t, ("notice", f"{welcome}; /help lists the commands")],
                *_topic(t, room, topic),
            ]
        case ev.Members(room=room, nicks=nicks, topic=topic, ops=ops, voiced=voiced):
            listing = ", ".join(marked(nicks, ops, voiced))
            return [
                [t, ("notice", f"* in {room} ({len(nicks)}): {listing}")],
                *_topic(t, room, topic),
            ]
        case ev.Rooms(rooms=rooms):
            listing = ", ".join(f"{r.name} ({r.members})" for r in rooms)
            return [[t, ("notice", f"* rooms: {listing or 'none'}")]]
        case ev.History(room=room, events=past):
            # joins and leaves are no messages: then they are all counted as events
            said = all(isinstance(e, ev.Message | ev.Action) for e in past)
            head = f"* history of {room}: {len(past)} earlier {'message' if said else 'event'}(s)"
            return [[t, ("notice", head)], *_replayed(past)]
        case ev.PrivateHistory(nick=nick, events=past):
            head = f"* private messages with {nick}: {len(past)} earlier message(s)"
            return [[t, ("notice", head)], *_replayed(past)]
        case ev.Help(commands=commands):
            return [
                [t, ("notice", "* commands:")],
                *([t, ("notice", f"*   {c}")] for c in commands),
            ]
        case ev.Notice(text=text):
            return [[t, ("notice", f"* {text}")]]
        case ev.Error(message=message):
            # No time: a text-mode program knows an error by its leading "! ".
            return [[("error", f"! {message}")]]
        case ev.Bye(reason=reason):
            return [[t, ("notice", f"* disconnected: {reason}")]]
        case (
            mod.TopicChanged() | mod.Kicked() | mod.ModeChanged() | mod.Invited() | mod.RoomState()
        ):
            return [[t, ("notice", f"* {line}")] for line in moderation_lines(event)]
        case lookups.WhoisReply(nick=nick, account=account, rooms=rooms, away=gone):
            who = f"* {nick}{' (registered)' if account else ''}"
            where = f"{who} is in {', '.join(rooms) or 'no room'}"
            return [[t, ("notice", f"{where}; away: {gone}" if gone else where)]]
        case presence.Away(nick=nick, text=text):
            return [[t, ("notice", f"* {nick} is away: {text}")]]
        case presence.AwayStatus(text=text):
            marked_as = f"you are marked as away: {text}" if text else "you are back"
            return [[t, ("notice", f"* {marked_as}")]]
        case presence.OperatorStatus(name=name):
            return [[t, ("notice", f"* you are now a server operator, as {name}")]]
        case lookups.Found(mask=mask, nicks=nicks, realnames=realnames, rooms=rooms):
            found = zip(nicks, realnames, rooms, strict=False)  # as long as the shortest
            listed = ", ".join(f"{nick} ({realname}) in {room}" for nick, realname, room in found)
            return [[t, ("notice", f"* {mask}: {listed or 'no one'}")]]
        case lookups.Online(nicks=nicks):
            return [[t, ("notice", f"* online: {', '.join(nicks) or 'none of them'}")]]
        case lookups.UserCount(users=users, rooms=rooms):
            return [[t, ("notice", f"* {users} online in {rooms} rooms")]]
    # Pings are for programs (text mode relies on TCP keepalive). Who goes away
    # or comes back is not shown: in busy rooms it would bury the talk, and a
    # private message or /whois tells what matters when it matters.
    return []


def marked(nicks: Iterable[str], ops: Collection[str], voiced: Collection[str]) -> list[str]:
    """Nicknames as IRC shows them: ``@`` before an operator, ``+`` before the
    voiced (an operator who is voiced too shows ``@``), ignoring case."""
    if not (ops or voiced):  # most rooms: no nickname to fold
        return list(nicks)
    op_keys, voiced_keys = {fold(n) for n in ops}, {fold(n) for n in voiced}
    return [
        ("@" if fold(n) in op_keys else "+" if fold(n) in voiced_keys else "") + n for n in nicks
    ]


def _topic(t: Fragment, room: str, topic: str) -> list[Line]:
    return [[t, ("notice", f"* topic of {room}: {topic}")]] if topic else []


def _replayed(past: tuple[ev.Event, ...]) -> list[Line]:
    return [[("history", ""), *line] for event in past for line in lines(event)]
