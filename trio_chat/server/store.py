"""Where messages are kept: the interface, and the in-memory version.

The SQLite version is in ``sqlite.py``. The pump appends each batch before
anyone sees it, and reads history only from its delivering stage, at the point
in the order where the reader joins, so a replay and the live events that
follow it neither overlap nor leave a gap.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from trio_chat.chat.effects import PrivateRecord, RoomSettings, Stored
from trio_chat.chat.numbering import RoomIndex
from trio_chat.protocol import events as ev
from trio_chat.protocol.rules import fold
from trio_chat.server.config import Limits

CHAT = (ev.Message, ev.Action)


class Store(Protocol):
    def last_seq(self, room: str) -> int:
        """The highest sequence number ``room`` has used (0 for none)."""
        ...

    async def append(self, events: Sequence[Stored]) -> None:
        """Keep ``events``; a durable store commits them as one transaction."""
        ...

    async def room_history(
        self, room: str, *, limit: int, before: int | None = None, after: int | None = None
    ) -> list[ev.RoomEvent]:
        """Oldest first, all below ``before`` when given: with ``after``, the
        first ``limit`` events after it; else the last ``limit`` messages."""
        ...

    def room_settings(self) -> dict[str, RoomSettings]:
        """The settings of the owned rooms (by folded name), as they were
        when the store was opened: what the chat starts from."""
        ...

    async def save_rooms(self, rooms: Mapping[str, RoomSettings]) -> None:
        """Keep each room's settings (by folded name) in place of its last."""
        ...

    async def private_history(self, account: str, other: str, *, limit: int) -> list[ev.Private]:
        """The last ``limit`` private messages between ``account`` (while
        identified as it) and the nick ``other``, oldest first."""
        ...


def select_room_events(
    newest_first: Iterable[ev.RoomEvent], *, limit: int, before: int | None, after: int | None
) -> list[ev.RoomEvent]:
    """The Store.room_history rule, over events newest first."""
    below = [e for e in newest_first if before is None or e.seq < before]
    if after is not None:
        return sorted((e for e in below if e.seq > after), key=lambda e: e.seq)[:limit]
    chat: list[ev.RoomEvent] = [e for e in below if isinstance(e, CHAT)]
    return chat[:limit][::-1]


class MemoryStore:
    """Keeps the last ``keep`` events of each of at most ``rooms`` rooms, and
    the last ``private`` private messages of each account (0: no cap); forgets
    all on exit."""

    def __init__(self, keep: int = 1000, *, rooms: int = 10_000, private: int = 10_000) -> None:
        self.keep = keep
        self.private_max = private
        self._index = RoomIndex(rooms)
        self._rooms: dict[str, deque[ev.RoomEvent]] = {}
        self._private: dict[str, deque[PrivateRecord]] = {}
        self._settings: dict[str, RoomSettings] = {}

    @classmethod
    def for_limits(cls, limits: Limits) -> MemoryStore:
        return cls(limits.history_keep, rooms=limits.history_rooms, private=limits.private_max)

    def last_seq(self, room: str) -> int:
        return self._index.last_seq(fold(room))

    async def append(self, events: Sequence[Stored]) -> None:
        for event in events:
            if isinstance(event, PrivateRecord):
                for account in event.accounts:
                    kept = self._private.get(account)
                    if kept is None:
                        kept = self._private[account] = deque(maxlen=self.private_max or None)
                    kept.append(event)
                continue
            room = fold(event.room)
            self._index.touch(room, event.seq, isinstance(event, CHAT))
            if self.keep:
                self._rooms.setdefault(room, deque(maxlen=self.keep)).append(event)
        for room, _ in self._index.overflow():
            self._rooms.pop(room, None)

    def room_settings(self) -> dict[str, RoomSettings]:
        return dict(self._settings)

    async def save_rooms(self, rooms: Mapping[str, RoomSettings]) -> None:
        self._settings.update(rooms)

    async def room_history(
        self, room: str, *, limit: int, before: int | None = None, after: int | None = None
    ) -> list[ev.RoomEvent]:
        kept = reversed(self._rooms.get(fold(room), ()))
        return select_room_events(kept, limit=limit, before=before, after=after)

    async def private_history(self, account: str, other: str, *, limit: int) -> list[ev.Private]:
        kept = reversed(self._private.get(account, ()))
        seen = (r.event for r in kept if r.seen_by(account, other))
        return list(itertools.islice(seen, limit))[::-1]
