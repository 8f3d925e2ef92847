"""Windows, one per room and per private conversation, as irssi and weechat keep them.

``Buffers`` does no I/O and knows nothing of the terminal: it is told each
item the client shows, and says which buffer it belongs to, whether it names
the user, and whether the bell should ring; it keeps each buffer's scrollback
and unread counts, and which one is in view. The terminal only draws.
"""

from __future__ import annotations

import dataclasses
import re
from collections import deque
from collections.abc import Collection
from dataclasses import dataclass

from trio_chat.client.mirror import room_left
from trio_chat.client.shown import Note, Shown
from trio_chat.protocol import events as ev
from trio_chat.protocol import moderation as mod
from trio_chat.protocol.rules import fold

MAX_LINES = 1000  # scrollback kept per buffer
# Private windows kept (rooms are bounded by the server's --max-rooms): anyone
# may write to you, so opening one more closes the oldest out of view.
MAX_PRIVATE = 50
LOBBY = "#lobby"


def mentions(text: str, nick: str) -> bool:
    """Whether ``text`` names ``nick`` as a whole word, ignoring case.

    A nickname is letters, digits, ``_ - .``; it is named when no such
    character touches it (a full stop may end the sentence after it).
    """
    escaped = re.escape(nick)
    return re.search(rf"(^|[^\w.\-]){escaped}(?![\w\-]|\.[\w\-])", text, re.IGNORECASE) is not None


@dataclass(eq=False)
class Buffer:
    """One window: a room (``#dev``) or a private conversation (``@bob``)."""

    name: str
    lines: deque[str] = dataclasses.field(default_factory=lambda: deque(maxlen=MAX_LINES))
    unread: int = 0  # messages that came while it was not in view
    marked: bool = False  # one of them named the user, or was private

    @property
    def room(self) -> str | None:
        return self.name if self.name.startswith("#") else None

    @property
    def nick(self) -> str | None:
        """The other person, in a private buffer."""
        return self.name[1:] if self.name.startswith("@") else None


@dataclass(frozen=True, slots=True)
class Routed:
    """Where a shown item goes, and what it asks of the screen."""

    buffer: Buffer
    mention: bool = False  # highlight it
    ring: bool = False  # ring the bell


@dataclass(frozen=True, slots=True)
class Done:
    """A typed line was a window command; ``error`` says what was wrong with it."""

    error: str | None = None


class Buffers:
    """The windows in order (numbered from 1), and which one is in view."""

    def __init__(self) -> None:
        self.buffers: list[Buffer] = [Buffer(LOBBY)]
        self.current = self.buffers[0]

    def find(self, name: str) -> Buffer | None:
        return next((b for b in self.buffers if fold(b.name) == fold(name)), None)

    def open(self, name: str) -> Buffer:
        """The buffer called ``name``, made (last in order) if there is none."""
        buffer = self.find(name)
        if buffer is None:
            buffer = Buffer(name)
            private = [b for b in self.buffers if b.nick is not None and b is not self.current]
            if buffer.nick is not None and len(private) >= MAX_PRIVATE:
                self.buffers.remove(private[0])
            self.buffers.append(buffer)
        return buffer

    def show(self, buffer: Buffer) -> bool:
        """Put ``buffer`` in view, its marks read; whether the view changed."""
        buffer.unread, buffer.marked = 0, False
        changed = buffer is not self.current
        self.current = buffer
        return changed

    def switch(self, number: int) -> bool:
        """Show the buffer numbered ``number`` (from 1); False if there is none."""
        if not 1 <= number <= len(self.buffers):
            return False
        return self.show(self.buffers[number - 1])

    def next(self, step: int = 1) -> bool:
        """Show the next buffer (``step=-1``: the one before), round the end."""
        at = self.buffers.index(self.current)
        return self.show(self.buffers[(at + step) % len(self.buffers)])

    def close(self, buffer: Buffer) -> None:
        """Close ``buffer``; the one before it comes into view if it was. The
        last buffer is never closed: there is always one in view."""
        if len(self.buffers) == 1:
            return
        at = self.buffers.index(buffer)
        self.buffers.remove(buffer)
        if buffer is self.current:
            self.show(self.buffers[max(at - 1, 0)])

    def number(self, buffer: Buffer) -> int:
        return self.buffers.index(buffer) + 1

    # ------------------------------------------------------------ routing

    def route(self, item: Shown, me: str, rooms: Collection[str] = ()) -> Routed:
        """Which buffer ``item`` goes to (opening or closing one as it says),
        counting it as unread there if it is out of view. ``rooms``: the
        folded names of the rooms the user is in, once the client has taken
        ``item`` into account."""
        match item:
            case ev.Joined(room=room, nick=nick) if fold(nick) == fold(me):
                return Routed(self._joined(room))
            case ev.Members(room=room) if fold(room) in rooms:  # the answer to a join
                return Routed(self._joined(room))
            case ev.Left() | mod.Kicked() if (gone := room_left(item, me)) is not None:
                if (left := self.find(gone)) is not None:  # parted or kicked
                    self.close(left)
                return Routed(self.current)
            case (
                ev.Message(room=room, nick=nick, text=text)
                | ev.Action(room=room, nick=nick, text=text)
            ):
                own = fold(nick) == fold(me)
                named = not own and mentions(text, me)
                return self._said(self.open(room), own=own, mark=named, mention=named)
            case ev.RoomEvent(room=room) | ev.History(room=room) | ev.Welcome(room=room):
                return Routed(self.open(room))
            case ev.Private(sender=sender, target=target):
                own = fold(sender) == fold(me)
                buffer = self.open("@" + (target if own else sender))
                if own:  # the user wrote to them: the conversation comes into view
                    self.show(buffer)
                return self._said(buffer, own=own, mark=not own, mention=False)
            case ev.PrivateHistory(nick=nick):
                return Routed(self.open("@" + nick))
        return Routed(self.current)

    def _joined(self, room: str) -> Buffer:
        new = self.find(room) is None
        buffer = self.open(room)
        if new:  # a room joined now, not one rejoined after a reconnection
            self.show(buffer)
        return buffer

    def _said(self, buffer: Buffer, *, own: bool, mark: bool, mention: bool) -> Routed:
        if own or buffer is self.current:
            return Routed(buffer, mention=mention)
        buffer.unread += 1
        buffer.marked = buffer.marked or mark
        return Routed(buffer, mention=mention, ring=mark)

    # ------------------------------------------------------- typed lines

    def command(self, line: str) -> Done | None:
        """Carry out ``line`` if it is a window command (``/window N``, ``/win N``,
        ``/close``, ``/part`` in a private buffer); None if it is not one."""
        words = line.split()
        name = words[0].lower() if words else ""
        if name in ("/window", "/win"):
            if len(words) != 2 or not words[1].isdigit():
                return Done(f"usage: {name} N")
            number = int(words[1])
            if not 1 <= number <= len(self.buffers):
                return Done(f"no window {number}; there are {len(self.buffers)}")
            self.switch(number)
            return Done()
        if name == "/close" or (name == "/part" and len(words) == 1 and self.current.nick):
            if self.current.room:
                return None if name == "/part" else Done("/part leaves a room")
            self.close(self.current)
            return Done()
        return None

    def aim(self, request: ev.Request) -> ev.Request | Note:
        """``request`` aimed at the buffer in view: a plain line is said in its
        room, or written to its person; a bare /part, /who, /history or moderation
        command (/topic, /kick, /op ...) is for it."""
        room, nick = self.current.room, self.current.nick
        match request:
            case ev.Say(text=text, room=None) if nick:
                return ev.Tell(nick, text)
            case ev.Act(room=None) if nick:
                return Note("/me is for rooms; this window is a private conversation", "error")
            case ev.GetHistory(room=None, nick=None) if nick:
                return dataclasses.replace(request, nick=nick)
            case (
                ev.Say(room=None)
                | ev.Act(room=None)
                | ev.Part(room=None)
                | ev.Who(room=None)
                | ev.GetHistory(room=None, nick=None)
                | mod.SetTopic(room=None)
                | mod.Kick(room=None)
                | mod.SetMode(room=None)
                | mod.Invite(room=None)
            ) if room:
                return dataclasses.replace(request, room=room)
            case ev.Join(room=joined) if (known := self.find(joined)) is not None:
                self.show(known)  # a room already joined: its window comes into view
        return request
