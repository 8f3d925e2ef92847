"""Plain TCP, with keepalive so a peer that vanished is noticed."""

from __future__ import annotations

import socket
from typing import Any

import trio

from trio_chat.transports import direct
from trio_chat.transports.options import ClientOptions, ServerOptions
from trio_chat.transports.urls import ConnectError, ListenURL, URLError

# After the idle time, the kernel probes this often, this many times, before
# it declares the connection dead (and our read fails with "connection lost").
KEEPALIVE_INTERVAL = 10
KEEPALIVE_PROBES = 3


class KeepaliveListener(trio.abc.Listener[trio.SocketStream]):
    """A TCP listener whose connections send keepalive probes when idle."""

    def __init__(self, inner: trio.SocketListener, idle: int) -> None:
        self.inner = inner
        self.idle = idle

    @property
    def socket(self) -> trio.socket.SocketType:
        return self.inner.socket

    async def accept(self) -> trio.SocketStream:
        stream = await self.inner.accept()
        if self.idle > 0:
            enable_keepalive(stream, self.idle)
        return stream

    async def aclose(self) -> None:
        await self.inner.aclose()


def enable_keepalive(stream: trio.SocketStream, idle: int) -> None:
    stream.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (
        ("TCP_KEEPIDLE", idle),
        ("TCP_KEEPINTVL", KEEPALIVE_INTERVAL),
        ("TCP_KEEPCNT", KEEPALIVE_PROBES),
    ):
        if hasattr(socket, name):  # not every platform has every knob
            stream.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)


async def open_listeners(url: ListenURL, options: ServerOptions) -> list[trio.abc.Listener[Any]]:
    """Listeners whose streams offer ``send_now`` unless ``options.direct_write`` is off."""
    return direct.listeners(await open_socket_listeners(url, options), options.direct_write)


async def open_socket_listeners(url: ListenURL, options: ServerOptions) -> list[KeepaliveListener]:
    """Listeners of plain socket streams, for the layers that wrap them (TLS, WebSocket)."""
    try:
        listeners = await trio.open_tcp_listeners(url.port, host=url.host)
    except OSError as exc:
        raise URLError(f"cannot listen on {url}: {exc.strerror or exc}") from None
    return [KeepaliveListener(listener, options.keepalive) for listener in listeners]


async def open_stream(url: ListenURL, options: ClientOptions) -> trio.SocketStream:
    try:
        return await trio.open_tcp_stream(url.host, url.port)
    except socket.gaierror as exc:  # no such host: a typo, not a network hiccup
        raise ConnectError(
            f"cannot connect to {url}: {exc.strerror or exc}", lasting=True
        ) from None
    except OSError as exc:
        raise ConnectError(f"cannot connect to {url}: {exc.strerror or exc}") from None
