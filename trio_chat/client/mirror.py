"""The client's copy of where it is: its rooms, who is in them, its nickname.

``RoomMirror`` does no I/O: it is told what the client sent and what the
server said, and keeps its copy in step, for the toolbar, completion and
rejoining.
"""

from __future__ import annotations

from collections import deque

from trio_chat.protocol import Code
from trio_chat.protocol import events as ev
from trio_chat.protocol.rules import MAX_RESUME, fold

JOIN_ERRORS = (Code.ROOM_INVALID, Code.TOO_MANY_ROOMS)
# Joins sent and not answered yet. The server answers each at once, so this
# only bounds a server that never does; the oldest are forgotten first.
MAX_JOINS_WAITING = MAX_RESUME


class RoomMirror:
    """Rooms (the last one is current), their members, and the nickname."""

    def __init__(self, nick: str) -> None:
        self.nick = nick
        self.rooms: dict[str, str] = {}  # folded name -> name; the last is current
        self.members: dict[str, list[str]] = {}  # folded room -> nicknames
        self._joins: deque[str] = deque(maxlen=MAX_JOINS_WAITING)  # folded, unanswered
        self._rejoining: set[str] = set()  # rooms the server is to put the client back into

    @property
    def room(self) -> str | None:
        """The current room: where a plain line goes."""
        return next(reversed(self.rooms.values()), None)

    def nicknames(self) -> list[str]:
        """Everyone in the rooms the user is in, for completion."""
        return sorted({n for nicks in self.members.values() for n in nicks}, key=fold)

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
                self.members = {fold(room): list(members)}
            case ev.Members(room=room, nicks=nicks):
                key = fold(room)
                if key in self._joins:  # joined, or switched to a room already joined
                    self._joins.remove(key)
                    self.rooms.pop(key, None)
                    self.rooms[key] = room
                if key in self.rooms or key in self._rejoining:  # else /who of another room
                    self.members[key] = list(nicks)
            case ev.Joined(room=room, nick=nick):
                key = fold(room)
                if fold(nick) == me and key not in self.rooms:
                    self.rooms[key] = room
                if fold(nick) == me:
                    self._rejoining.discard(key)
                here = self.members.setdefault(key, [])
                if fold(nick) not in map(fold, here):
                    here.append(nick)
            case ev.Left(room=room, nick=nick):
                key = fold(room)
                if fold(nick) == me:
                    self.rooms.pop(key, None)
                    self.members.pop(key, None)
                elif key in self.members:
                    self.members[key] = [n for n in self.members[key] if fold(n) != fold(nick)]
            case ev.NickChanged(old=old, new=new):
                if fold(old) == me:
                    self.nick = new
                for here in self.members.values():
                    here[:] = [new if fold(n) == fold(old) else n for n in here]
            case ev.Error(code=code) if code in JOIN_ERRORS:
                self._joins.clear()
