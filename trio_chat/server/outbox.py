"""A client's bounded queue of events waiting to be written to it."""

from __future__ import annotations

import logging
from collections.abc import Callable

import trio

from trio_chat.protocol import events as ev

log = logging.getLogger(__name__)


# Writes the outboxes given something while their writers were idle, once the
# task that filled them (the broadcast) has finished its batch.
_pending: trio.lowlevel.RunVar[list[Outbox]] = trio.lowlevel.RunVar("outbox_pending")


class Outbox:
    """Fan-out appends here without awaiting; the client's writer drains it.

    Cheaper than a memory channel per client: ``put`` is a list append and
    ``take_all`` hands the writer the whole list, to send in one write. (A
    deque would cost an idle client over a kilobyte for its first block.)

    Given ``write_now``, an outbox whose writer is idle is written without
    waking the writer: once the current batch is in, ``write_now`` writes
    all of it as far as the socket takes it at once and returns the rest,
    which the writer then sends first. A delivery then costs no task switch.
    """

    __slots__ = ("_closed", "_idle", "_items", "_ready", "_unsent", "_write_now", "capacity")

    def __init__(
        self, capacity: int, write_now: Callable[[list[ev.Event]], bytes] | None = None
    ) -> None:
        self.capacity = capacity
        self._items: list[ev.Event] = []
        self._ready = trio.Event()
        self._closed = False
        self._write_now = write_now
        self._idle = False  # the writer waits in take_all
        self._unsent = b""

    def put(self, event: ev.Event) -> bool:
        """Queue ``event``; False when the outbox is full or closed."""
        items = self._items
        if self._closed or len(items) >= self.capacity:
            return False
        if not items and not self._unsent:  # else the writer has been woken already
            if self._idle and self._write_now is not None:
                _write_soon(self)
            else:
                self._ready.set()
        items.append(event)
        return True

    def _write_queued(self) -> None:
        """Write what is queued for an idle writer; wake it for what is left."""
        if self._idle and self._items and not self._unsent and self._write_now is not None:
            items, self._items = self._items, []
            try:
                self._unsent = self._write_now(items)
            except Exception:  # raised here, it would end the whole server
                log.exception("writing to a client failed")
                self._items = items
            if not self._unsent and not self._items:
                return
        self._ready.set()

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self, *, discard: bool = False) -> None:
        """Accept nothing more; the writer ends once it has sent what is queued."""
        self._closed = True
        if discard:
            self._items = []
            self._unsent = b""
        self._ready.set()

    async def take_all(self) -> tuple[bytes, list[ev.Event]]:
        """What is left of a write, and every event queued, waiting for either.

        ``(b"", [])`` once closed and empty.
        """
        while not (self._items or self._unsent):
            if self._closed:
                return b"", []
            self._idle = True
            try:
                await self._ready.wait()
            finally:
                self._idle = False
            self._ready = trio.Event()
        unsent, self._unsent = self._unsent, b""
        items, self._items = self._items, []
        return unsent, items


def _write_soon(outbox: Outbox) -> None:
    """Have ``outbox`` written once the running task yields (its batch is in)."""
    try:
        pending = _pending.get()
    except LookupError:
        pending = []
        _pending.set(pending)
    if not pending:
        trio.lowlevel.current_trio_token().run_sync_soon(_write_pending, pending)
    pending.append(outbox)


def _write_pending(pending: list[Outbox]) -> None:
    outboxes = pending[:]
    pending.clear()
    for outbox in outboxes:
        outbox._write_queued()
