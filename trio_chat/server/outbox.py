"""A client's bounded queue of bytes waiting to be written to it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import accumulate
from typing import Protocol, runtime_checkable

import trio

from trio_chat.chat.rooms import Encoded
from trio_chat.protocol import events as ev
from trio_chat.protocol.text import format_event

# Writes the outboxes given something while their writers were idle, once the
# task that filled them (the broadcast) has finished its batch.
_pending: trio.lowlevel.RunVar[list[Outbox]] = trio.lowlevel.RunVar("outbox_pending")

# The events of a run (from ``start``) a client does not receive, by their
# places in the run, in order; given what the run's members share.
Dropped = Callable[[list[ev.Event], Encoded, int], Sequence[int]]


@runtime_checkable
class DirectWrite(Protocol):
    """A stream that can be written from synchronous code, without waiting.

    The server asks a stream for this by shape, not by type: a transport
    offers it on streams where a partial write is harmless (plain sockets).
    """

    def send_now(self, data: bytes) -> int:
        """Write what fits at once; the count written (0 when nothing fits).

        Never raises for I/O: a broken or closed stream takes 0 bytes, and the
        ``send_all`` that follows reports it.
        """
        ...


class Outbox:
    """Fan-out appends here without awaiting; the client's writer drains it.

    Events are encoded as they are queued (the pump has a broadcast encoded
    once per codec, and shares it: see ``put_run``), which lets the outbox
    bound what it holds in bytes as well as in events: ``put`` refuses what
    would take it past either bound. Bytes the writer has taken count until
    it comes back for more, so a client that stops reading holds at most
    ``max_bytes``, whatever it asked for.

    Given ``send_now``, an outbox whose writer is idle is written without
    waking the writer: once the current batch is in, all of it is written as
    far as the socket takes it at once, and the writer sends the rest first.
    A delivery then costs no task switch.
    """

    __slots__ = (
        "_closed",
        "_count",
        "_idle",
        "_in_flight",
        "_items",
        "_ready",
        "_send_now",
        "_size",
        "_unsent",
        "discarded",
        "dropped",
        "encode",
        "keep",
        "max_bytes",
        "max_events",
        "reason",
    )

    def __init__(
        self,
        *,
        max_events: int,
        max_bytes: int,
        encode: Callable[[ev.Event], bytes] = format_event,
        send_now: Callable[[bytes], int] | None = None,
        keep: Callable[[ev.Event], bool] | None = None,
        dropped: Dropped | None = None,
    ) -> None:
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.encode = encode  # the session switches it once the mode is known
        # Which events this client receives at all, seeing each once in order
        # (an IRC client does not see its own messages): None for all.
        self.keep = keep
        # The same for a run, decided once for all its members where it can be.
        self.dropped = _each(keep) if dropped is None and keep is not None else dropped
        self._items: list[bytes] = []
        self._count = 0  # events in _items
        self._size = 0  # bytes queued, unsent, or taken by the writer
        self._in_flight = 0  # of which the writer is sending now
        self._ready = trio.Event()
        self._closed = False
        self._send_now = send_now
        self._idle = False  # the writer waits in take_all
        self._unsent = b""
        self.reason = ""  # why it was closed
        # The writer sends inside this scope, so that throwing away what is
        # queued also frees a writer stuck on a client that does not read.
        self.discarded = trio.CancelScope()

    def put(self, event: ev.Event) -> bool:
        """Queue ``event``; False when that would overflow the outbox, or it is closed."""
        if self._closed or self._count >= self.max_events:
            return False
        if self.keep is not None and not self.keep(event):
            return True
        return self._queue(self.encode(event), 1)

    def put_run(self, events: list[ev.Event], encoded: Encoded, start: int = 0) -> bool:
        """Queue ``events[start:]`` as one piece: a run that goes to several members.

        ``encoded`` is shared by the members the run goes to: it holds the run
        encoded once per codec, so that each member costs one append however
        long the run is. A client that does not receive some of the run's
        events (``dropped``) takes the rest as slices of those same bytes.
        """
        count = len(events) - start
        if self._closed or self._count + count > self.max_events:
            return False
        # Asked before encoding: deciding follows the client's own changes
        # (a rename), which what it is sent may show.
        dropped = self.dropped(events, encoded, start) if self.dropped is not None else ()
        if dropped and len(dropped) == count:
            return True
        done: tuple[bytes, list[int]] | None = encoded.get(self.encode)
        if done is None:
            parts = list(map(self.encode, events))
            done = encoded[self.encode] = (b"".join(parts), [0, *accumulate(map(len, parts))])
        whole, starts = done
        if not dropped:
            return self._queue(whole[starts[start] :] if start else whole, count)
        pieces = []
        at = start
        for skip in dropped:
            if skip > at:
                pieces.append(whole[starts[at] : starts[skip]])
            at = skip + 1
        pieces.append(whole[starts[at] :])
        return self._queue(b"".join(pieces), count - len(dropped))

    def _queue(self, data: bytes, count: int) -> bool:
        if not data:  # nothing to say in this mode (a ping, in text mode)
            return True
        size = self._size + len(data)
        if size > self.max_bytes:
            return False
        items = self._items
        if not items and not self._unsent:  # else the writer has been woken already
            if self._idle and self._send_now is not None:
                _write_soon(self)
            else:
                self._ready.set()
        items.append(data)
        self._size = size
        self._count += count
        return True

    @property
    def queued_bytes(self) -> int:
        """What this client holds: queued, and taken by its writer but not yet sent."""
        return self._size

    def _write_queued(self) -> None:
        """Write what is queued for an idle writer; wake it for what is left."""
        if self._idle and self._items and not self._unsent and self._send_now is not None:
            data = b"".join(self._items)
            self._items = []
            self._count = 0
            try:
                sent = self._send_now(data)
            except OSError:  # promised not to; this runs outside any task
                sent = 0
            self._size -= sent
            self._unsent = data[sent:]
            if not self._unsent:
                return
        self._ready.set()

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self, reason: str = "", *, discard: bool = False) -> None:
        """Accept nothing more; the writer ends once it has sent what is queued,
        or at once with ``discard``. The first reason given is kept."""
        if not self._closed:
            self.reason = reason
        self._closed = True
        if discard:
            self.discarded.cancel()
            self._items = []
            self._count = 0
            self._unsent = b""
            self._size = self._in_flight
        self._ready.set()

    async def take_all(self) -> bytes:
        """Everything queued, waiting for something; ``b""`` once closed and empty.

        Calling it again says that what it returned last has been sent.
        """
        self._size -= self._in_flight
        self._in_flight = 0
        while not (self._items or self._unsent):
            if self._closed:
                return b""
            self._idle = True
            try:
                await self._ready.wait()
            finally:
                self._idle = False
            self._ready = trio.Event()
        data = self._unsent + b"".join(self._items)
        self._unsent = b""
        self._items = []
        self._count = 0
        self._in_flight = len(data)
        return data


def _each(keep: Callable[[ev.Event], bool]) -> Dropped:
    """``keep`` asked of each event of a run, in order."""

    def dropped(events: list[ev.Event], encoded: Encoded, start: int) -> list[int]:
        return [i for i in range(start, len(events)) if not keep(events[i])]

    return dropped


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
