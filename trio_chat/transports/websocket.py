"""WebSocket (ws://) and WebSocket over TLS (wss://): one line per text message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import trio

from trio_chat.protocol.flood import TokenBucket
from trio_chat.transports import tcp, tls
from trio_chat.transports.options import ClientOptions, ServerOptions
from trio_chat.transports.urls import ConnectError, ListenURL
from trio_chat.transports.wsstream import HandshakeError, WebSocketStream

# What one frame from the server may hold, for a client: far more than any
# line a server sends, still a bound on what one connection may buffer.
CLIENT_MAX_FRAME = 1 << 20


def max_frame(max_line_bytes: int) -> int:
    """The largest frame a server takes in before closing with 1009 (message too big).

    Above the line limit, so a line a little too long gets the same "line too
    long" answer as on any transport; bounded, so a huge one is not buffered.
    """
    return max(4 * max_line_bytes, 65536)


class WebSocketListener(trio.abc.Listener[WebSocketStream]):
    """Wraps each connection from ``transport_listener`` in a server-side WebSocketStream."""

    def __init__(
        self,
        transport_listener: trio.abc.Listener[Any],
        path: str,
        options: ServerOptions | None = None,
    ) -> None:
        self.transport_listener = transport_listener
        self.path = path
        self.options = options or ServerOptions()
        self.max_frame = max_frame(self.options.max_line_bytes)

    async def accept(self) -> WebSocketStream:
        # The handshake waits for the stream's first use, in the connection's
        # own task, so one slow client never holds up accepting the next.
        stream = await self.transport_listener.accept()
        options = self.options
        # Control frames get a bucket of their own, with the limits on lines.
        bucket = TokenBucket(
            burst=options.flood_burst,
            rate=options.flood_rate,
            kick=options.flood_kick,
            now=trio.current_time(),
        )
        return WebSocketStream.server(
            stream,
            self.path,
            self.max_frame,
            origins=options.ws_origins,
            max_queued=options.max_queued_bytes,
            bucket=bucket,
            web=options.web,
        )

    async def aclose(self) -> None:
        await self.transport_listener.aclose()


def listener_wrapper(
    url: ListenURL, options: ServerOptions
) -> Callable[[trio.abc.Listener[Any]], WebSocketListener]:
    """What puts WebSocket (over TLS for wss://) over a listener's connections."""
    under = tls.listener_wrapper(url, options) if url.scheme == "wss" else None

    def wrap(inner: trio.abc.Listener[Any]) -> WebSocketListener:
        return WebSocketListener(under(inner) if under else inner, url.path, options)

    return wrap


async def open_listeners(url: ListenURL, options: ServerOptions) -> list[WebSocketListener]:
    wrap = listener_wrapper(url, options)  # before any socket is opened
    return [wrap(listener) for listener in await tcp.open_socket_listeners(url, options)]


async def wrap_client(
    stream: trio.abc.Stream, url: ListenURL, options: ClientOptions
) -> WebSocketStream:
    """``stream`` with a finished WebSocket handshake (and TLS under it for wss://)."""
    if url.scheme == "wss":
        stream = await tls.wrap_client(stream, url, options)
    try:
        return await WebSocketStream.client(stream, str(url), CLIENT_MAX_FRAME)
    except HandshakeError as exc:
        raise ConnectError(f"{url}: WebSocket handshake failed: {exc}") from None


async def open_stream(url: ListenURL, options: ClientOptions) -> WebSocketStream:
    return await wrap_client(await tcp.open_stream(url, options), url, options)
