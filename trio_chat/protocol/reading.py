"""Reading the next event from a stream: the one loop around ``NEED_DATA``.

This is the only coroutine in the protocol package, and it imports no I/O
library: it awaits whatever stream it is given (anything with Trio's
``receive_some``), as h11's Trio example does. Whatever the stream raises
passes through unchanged, for the caller to map to its own idea of a lost
connection.
"""

from __future__ import annotations

from typing import Literal, Protocol, overload

from trio_chat.protocol import events as ev
from trio_chat.protocol.connection import (
    NEED_DATA,
    BadInput,
    ClientConnection,
    Sentinel,
    ServerCodec,
    ServerConnection,
)

# Bytes asked of the stream at a time: what trio's sockets read by default.
RECEIVE_SIZE = 65536


class ReceiveStream(Protocol):
    """What ``read_event`` needs of a stream (``trio.abc.ReceiveStream`` has it)."""

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray: ...


@overload
async def read_event(
    conn: ServerConnection, stream: ReceiveStream
) -> ev.Request | BadInput | Literal[Sentinel.BLANK, Sentinel.CLOSED]: ...


@overload
async def read_event(
    conn: ClientConnection, stream: ReceiveStream
) -> ev.Event | Literal[Sentinel.CLOSED]: ...


@overload
async def read_event(
    conn: ServerCodec, stream: ReceiveStream
) -> ev.Request | ev.Event | BadInput | Literal[Sentinel.BLANK, Sentinel.CLOSED]: ...


async def read_event(
    conn: ServerCodec | ClientConnection, stream: ReceiveStream
) -> ev.Request | ev.Event | BadInput | Sentinel:
    """``conn``'s next event, reading from ``stream`` as often as it takes.

    Never ``NEED_DATA``: at the end of the stream it is ``CLOSED``.
    """
    while (event := conn.next_event()) is NEED_DATA:
        conn.receive_data(bytes(await stream.receive_some(RECEIVE_SIZE)))
    return event
