"""The client's copy of where it is: its rooms, who is in them, its nickname,
and each room's topic, operators and voiced members.

``RoomMirror`` does no I/O: it is told what the client sent and what the
server said, and keeps its copy in step, for the toolbar, completion and
rejoining.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from trio_chat.protocol import Code
from trio_chat.protocol import events as ev
from trio_chat.protocol import moderation as mod
from trio_chat.protocol.rules import MAX_RESUME, fold
from trio_chat.protocol.wording import marked

JOIN_ERRORS = (Code.ROOM_INVALID, Code.TOO_MANY_ROOMS, Code.BANNED, Code.INVITE_ONLY)
# Joins sent and not answered yet. The server answers each at once, so this
# only bounds a server that never does; the oldest are forgotten first.
MAX_JOINS_WAITING = MAX_RESUME
# The mode changes that mark a member, and where the mirror keeps each.
_MARKS = {"+o": "ops", "-o": "ops", "+v": "voiced", "-v": "voiced"}


def room_left(event: ev.Event, me: str) -> str | None:
    """The room ``event`` takes the user ``me`` out of: parted, or kicked."""
    match event:
        case ev.Left(room=room, nick=nick) | mod.Kicked(room=room, target=nick):
            return room if fold(nick) == fold(me) else None
    return None


class RoomMirror:
    """Rooms (the last one is current), their members, their topics and who
    among them are operators or voiced, and the nickname."""

    def __init__(self, nick: str) -> None:
        self.nick = nick
        self.rooms: dict[str, str] = {}  # folded name -> name; the last is current
        self.members: dict[str, list[str]] = {}  # folded room -> nicknames
        self.topics: dict[str, str] = {}  # folded room -> its topic, if it has one
        self.ops: dict[str, set[str]] = {}  # folded room -> folded nicknames
        self.voiced: dict[str, set[str]] = {}  # folded room -> folded nicknames
        self._joins: deque[str] = deque(maxlen=MAX_JOINS_WAITING)  # folded, unanswered
        self._rejoining: set[str] = set()  # rooms the server is to put the client back into

    @property
    def room(self) -> str | None:
        """The current room: where a plain line goes."""
        return next(reversed(self.rooms.values()), None)

    def nicknames(self) -> list[str]:
        """Everyone in the rooms the user is in, for completion."""
        return sorted({n for nicks in self.members.values() for n in nicks}, key=fold)

    def marked(self, room: str) -> list[str]:
        """The members of ``room``, ``@`` before an operator and ``+`` before the voiced."""
        key = fold(room)
        return marked(self.members.get(key, []), self.ops.get(key, ()), self.voiced.get(key, ()))

    def sent(self, request: ev.Request) -> None:
        """Note a request that went to the server: a join's answer makes its room current."""
        if isinstance(request, ev.Join):
            self._joins.append(fold(request.room))

    def reconnecting(self) -> None:
        """A new connection answers none of the joins sent on the old one, and
        puts the client back into its rooms, each one's members first."""
        self._joins.clear()
        self._rejoining = set(self.rooms)

    def track(self, event: ev.Event) -> None:
        """Keep rooms, members and the nickname in step with the server."""
        me = fold(self.nick)
        match event:
            case ev.Welcome(nick=nick, room=room, members=members):
                self.nick = nick
                self.rooms = {fold(room): room}
                self.members, self.topics, self.ops, self.voiced = {}, {}, {}, {}
                self._take_room(room, members, event.topic, event.ops, event.voiced)
            case ev.Members(room=room, nicks=nicks):
                key = fold(room)
                if key in self._joins:  # joined, or switched to a room already joined
                    self._joins.remove(key)
                    self.rooms.pop(key, None)
                    self.rooms[key] = room
                if key in self.rooms or key in self._rejoining:  # else /who of another room
                    self._take_room(room, nicks, event.topic, event.ops, event.voiced)
            case ev.Joined(room=room, nick=nick):
                key = fold(room)
                if fold(nick) == me and key not in self.rooms:
                    self.rooms[key] = room
                if fold(nick) == me:
                    self._rejoining.discard(key)
                here = self.members.setdefault(key, [])
                if fold(nick) not in map(fold, here):
                    here.append(nick)
            case ev.Left(room=room, nick=nick) | mod.Kicked(room=room, target=nick):
                self._gone(fold(room), fold(nick))
            case ev.NickChanged(old=old, new=new):
                if fold(old) == me:
                    self.nick = new
                for here in self.members.values():
                    here[:] = [new if fold(n) == fold(old) else n for n in here]
                for marks in (*self.ops.values(), *self.voiced.values()):
                    if fold(old) in marks:
                        marks.discard(fold(old))
                        marks.add(fold(new))
            case ev.Error(code=code) if code in JOIN_ERRORS:
                self._joins.clear()
            case _:
                self._moderated(event)

    def _gone(self, key: str, nick: str) -> None:
        """``nick`` (folded) is no longer in the room ``key``."""
        if nick == fold(self.nick):
            self.rooms.pop(key, None)
            for known in (self.members, self.topics, self.ops, self.voiced):
                known.pop(key, None)
        elif key in self.members:
            self.members[key] = [n for n in self.members[key] if fold(n) != nick]
            self.ops.get(key, set()).discard(nick)
            self.voiced.get(key, set()).discard(nick)

    def _moderated(self, event: ev.Event) -> None:
        """Keep the topics and the marks of members in step."""
        match event:
            case mod.TopicChanged(room=room, topic=topic) if fold(room) in self.rooms:
                self.topics[fold(room)] = topic
            case mod.ModeChanged(room=room, mode=mode, target=str(target)) if (
                fold(room) in self.rooms and mode in _MARKS
            ):
                marks = getattr(self, _MARKS[mode]).setdefault(fold(room), set())
                if mode[0] == "+":
                    marks.add(fold(target))
                else:
                    marks.discard(fold(target))

    def _take_room(
        self, room: str, nicks: Iterable[str], topic: str, ops: Iterable[str], voiced: Iterable[str]
    ) -> None:
        """Take in a room's members, topic, operators and voiced members at once."""
        key = fold(room)
        self.members[key] = list(nicks)
        self.topics[key] = topic
        self.ops[key] = {fold(n) for n in ops}
        self.voiced[key] = {fold(n) for n in voiced}
