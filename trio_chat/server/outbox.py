"""A client's bounded queue of events waiting to be written to it."""

from __future__ import annotations

import trio

from trio_chat.protocol import events as ev


class Outbox:
    """Fan-out appends here without awaiting; the client's writer drains it.

    Cheaper than a memory channel per client: ``put`` is a list append and
    ``take_all`` hands the writer the whole list, to send in one write. (A
    deque would cost an idle client over a kilobyte for its first block.)
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: list[ev.Event] = []
        self._ready = trio.Event()
        self._closed = False

    def put(self, event: ev.Event) -> bool:
        """Queue ``event``; False when the outbox is full or closed."""
        items = self._items
        if self._closed or len(items) >= self.capacity:
            return False
        if not items:  # else the writer has been woken already
            self._ready.set()
        items.append(event)
        return True

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self, *, discard: bool = False) -> None:
        """Accept nothing more; the writer ends once it has sent what is queued."""
        self._closed = True
        if discard:
            self._items = []
        self._ready.set()

    async def take_all(self) -> list[ev.Event]:
        """Everything queued, waiting for at least one; [] once closed and empty."""
        while not self._items:
            if self._closed:
                return []
            await self._ready.wait()
            self._ready = trio.Event()
        items, self._items = self._items, []
        return items
