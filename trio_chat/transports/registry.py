"""Which module serves which URL scheme; the one place that dispatches on it."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import trio

from trio_chat.transports import irc, tcp, tls, unix, websocket
from trio_chat.transports.options import ClientOptions, ServerOptions
from trio_chat.transports.urls import ListenURL

Listeners = Sequence[trio.abc.Listener[Any]]


@dataclass(frozen=True, slots=True)
class Transport:
    open_listeners: Callable[[ListenURL, ServerOptions], Awaitable[Listeners]]
    open_stream: Callable[[ListenURL, ClientOptions], Awaitable[trio.abc.Stream]]


TRANSPORTS: dict[str, Transport] = {
    "tcp": Transport(tcp.open_listeners, tcp.open_stream),
    "tls": Transport(tls.open_listeners, tls.open_stream),
    "unix": Transport(unix.open_listeners, unix.open_stream),
    "ws": Transport(websocket.open_listeners, websocket.open_stream),
    "wss": Transport(websocket.open_listeners, websocket.open_stream),
    "irc": Transport(irc.open_listeners, irc.open_stream),
    "ircs": Transport(irc.open_listeners, irc.open_stream),
}


async def open_listeners(
    url: ListenURL,
    options: ServerOptions | None = None,
    *,
    keepalive: int | None = None,
) -> list[trio.abc.Listener[Any]]:
    """Listeners for ``url``; raises URLError (cannot listen, bad certificate...)."""
    options = options or ServerOptions()
    if keepalive is not None:
        options = dataclasses.replace(options, keepalive=keepalive)
    return list(await TRANSPORTS[url.scheme].open_listeners(url, options))


async def open_stream(url: ListenURL, *, cafile: str | None = None) -> trio.abc.Stream:
    """A connected stream to ``url``; raises ConnectError (an OSError) saying why not."""
    return await TRANSPORTS[url.scheme].open_stream(url, ClientOptions(cafile=cafile))
