"""Requests waiting for the writer: lines typed offline, and the client's own replies."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from trio_chat.client.shown import Note
from trio_chat.protocol import events as ev
from trio_chat.protocol.text import format_request

# Lines typed while offline that are kept for sending; more are refused. Few
# enough that sending them all at once stays within the server's flood burst
# plus a few slowed lines, so flood control never drops the client for it.
MAX_PENDING = 20


class Pending:
    """The queue the writer empties, oldest first, while connected.

    What the user sends while offline waits here, at most ``limit`` lines.
    While connected the writer drains it at once, so it stays short; the
    client's own requests (a pong, a request to fill a gap) jump the queue.
    """

    def __init__(self, limit: int = MAX_PENDING) -> None:
        self.limit = limit
        self._queue: deque[ev.Request] = deque()

    def __len__(self) -> int:
        return len(self._queue)

    def __iter__(self) -> Iterator[ev.Request]:
        return iter(self._queue)

    def typed(self, request: ev.Request, *, connected: bool) -> Note | None:
        """Queue what the user sent; return what to tell them, if anything."""
        if not connected:
            if len(self._queue) >= self.limit:
                return Note(f"offline with {self.limit} lines waiting: not kept", "error")
            self._queue.append(request)
            return Note(f"pending: {format_request(request)} (sent when connected)", "pending")
        self._queue.append(request)
        return None

    def first(self, request: ev.Request) -> None:
        """Queue a request of the client's own, ahead of the user's lines."""
        self._queue.appendleft(request)

    def last(self, request: ev.Request) -> None:
        """Queue a request that comes after everything, whatever the limit (the goodbye)."""
        self._queue.append(request)

    def next(self) -> ev.Request | None:
        """The request to send now; it stays queued until ``sent``."""
        return self._queue[0] if self._queue else None

    def sent(self) -> ev.Request:
        return self._queue.popleft()

    def on_connect(self) -> Note | None:
        """What to say when a connection is up with lines waiting."""
        if self._queue:
            return Note(f"sending {len(self._queue)} pending line(s)", "pending")
        return None
