"""Where room events are kept: the interface, and the in-memory version."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Protocol

from trio_chat.protocol import events as ev
from trio_chat.protocol.rules import fold


class Store(Protocol):
    """The hub calls ``append`` with each batch before anyone sees it.

    A durable store commits the whole batch at once (group commit), so the
    hub pays one commit per batch rather than one per message.
    """

    def last_seq(self, room: str) -> int:
        """The highest sequence number ``room`` has used (0 for none)."""
        ...

    async def append(self, events: Sequence[ev.RoomEvent]) -> None: ...

    def recent(self, room: str, limit: int) -> list[ev.RoomEvent]:
        """The last ``limit`` messages and actions of ``room``, oldest first."""
        ...


class MemoryStore:
    """Keeps the last ``keep`` events of each room; forgets all on exit."""

    def __init__(self, keep: int = 1000) -> None:
        self.keep = keep
        self._rooms: dict[str, deque[ev.RoomEvent]] = {}

    def last_seq(self, room: str) -> int:
        kept = self._rooms.get(fold(room))
        return kept[-1].seq if kept else 0

    async def append(self, events: Sequence[ev.RoomEvent]) -> None:
        for event in events:
            key = fold(event.room)
            kept = self._rooms.get(key)
            if kept is None:
                kept = self._rooms[key] = deque(maxlen=self.keep)
            kept.append(event)

    def recent(self, room: str, limit: int) -> list[ev.RoomEvent]:
        said: list[ev.RoomEvent] = [
            e
            for e in reversed(self._rooms.get(fold(room), ()))
            if isinstance(e, ev.Message | ev.Action)
        ]
        return said[:limit][::-1]
