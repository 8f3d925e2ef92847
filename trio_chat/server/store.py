"""Where messages are kept: the interface, and the in-memory version.

The SQLite version is in ``sqlite.py``. The hub appends each batch before
anyone sees it, and reads history only from its broadcast task, at the point
in the order where the reader joins, so a replay and the live events that
follow it neither overlap nor leave a gap.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from trio_chat.protocol import events as ev
from trio_chat.protocol.rules import fold


@dataclass(frozen=True, slots=True)
class PrivateRecord:
    """A private message and the registered nicknames (accounts) of its
    parties, None for a guest: only an account can read its private history,
    so a later holder of a guest's nickname never sees that guest's."""

    event: ev.Private
    sender_account: str | None
    target_account: str | None

    def seen_by(self, account: str, other: str) -> bool:
        e = self.event
        return (self.sender_account == account and fold(e.target) == fold(other)) or (
            self.target_account == account and fold(e.sender) == fold(other)
        )


Stored = ev.RoomEvent | PrivateRecord
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
    """Keeps the last ``keep`` events of each room, and forgets all on exit."""

    def __init__(self, keep: int = 1000) -> None:
        self.keep = keep
        self._rooms: dict[str, deque[ev.RoomEvent]] = {}
        self._private: deque[PrivateRecord] = deque(maxlen=keep)

    def last_seq(self, room: str) -> int:
        kept = self._rooms.get(fold(room))
        return kept[-1].seq if kept else 0

    async def append(self, events: Sequence[Stored]) -> None:
        for event in events:
            if isinstance(event, PrivateRecord):
                self._private.append(event)
                continue
            kept = self._rooms.get(fold(event.room))
            if kept is None:
                kept = self._rooms[fold(event.room)] = deque(maxlen=self.keep)
            kept.append(event)

    async def room_history(
        self, room: str, *, limit: int, before: int | None = None, after: int | None = None
    ) -> list[ev.RoomEvent]:
        kept = reversed(self._rooms.get(fold(room), ()))
        return select_room_events(kept, limit=limit, before=before, after=after)

    async def private_history(self, account: str, other: str, *, limit: int) -> list[ev.Private]:
        seen = (r.event for r in reversed(self._private) if r.seen_by(account, other))
        return list(itertools.islice(seen, limit))[::-1]
