"""irc:// and ircs://: TCP and TLS whose connections speak IRC.

The bytes travel as on tcp:// and tls://; the listener only says which wire
format its connections speak (``codec``), for the server to choose the
protocol connection that reads them.
"""

from __future__ import annotations

from typing import Any

import trio

from trio_chat.transports import tcp, tls
from trio_chat.transports.options import ClientOptions, ServerOptions
from trio_chat.transports.urls import ListenURL

CODEC = "irc"


class IrcListener(trio.abc.Listener[Any]):
    """Another listener's connections, marked as IRC ones."""

    codec = CODEC

    def __init__(self, inner: trio.abc.Listener[Any]) -> None:
        self.transport_listener = inner

    async def accept(self) -> trio.abc.Stream:
        stream: trio.abc.Stream = await self.transport_listener.accept()
        return stream

    async def aclose(self) -> None:
        await self.transport_listener.aclose()


async def open_listeners(url: ListenURL, options: ServerOptions) -> list[trio.abc.Listener[Any]]:
    below = tls if url.scheme == "ircs" else tcp
    return [IrcListener(inner) for inner in await below.open_listeners(url, options)]


async def open_stream(url: ListenURL, options: ClientOptions) -> trio.abc.Stream:
    below = tls if url.scheme == "ircs" else tcp
    stream: trio.abc.Stream = await below.open_stream(url, options)
    return stream
