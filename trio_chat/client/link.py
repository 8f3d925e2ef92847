"""One stream to a server: the events read from it, and why one could not be opened."""

from __future__ import annotations

import trio

from trio_chat.protocol import CLOSED, ClientConnection
from trio_chat.protocol import events as ev
from trio_chat.protocol.reading import read_event


class ConnectionLost(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Events:
    """Events from one connection; raises ConnectionLost at its end."""

    def __init__(self, stream: trio.abc.Stream, conn: ClientConnection) -> None:
        self.stream = stream
        self.conn = conn

    async def next(self) -> ev.Event:
        try:  # skips events this client does not know
            event = await read_event(self.conn, self.stream)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise ConnectionLost("connection lost") from None
        if event is CLOSED:
            raise ConnectionLost("the server closed the connection")
        return event


def cannot_connect(exc: BaseException, url: str) -> str:
    """Why connecting to ``url`` failed, naming the server once."""
    why = str(exc) or "refused"
    return why if url in why else f"cannot connect to {url}: {why}"
