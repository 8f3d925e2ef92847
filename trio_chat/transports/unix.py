"""Unix domain sockets: a file with owner-only permissions by default."""

from __future__ import annotations

import os
import socket
import stat
from typing import Any

import trio

from trio_chat.transports import direct
from trio_chat.transports.options import ClientOptions, ServerOptions
from trio_chat.transports.urls import ConnectError, ListenURL, URLError


class UnixListener(trio.abc.Listener[trio.SocketStream]):
    """Accepts on a socket file, and removes that file when closed."""

    def __init__(self, inner: trio.SocketListener, path: str) -> None:
        self.inner = inner
        self.path = path
        self._inode = os.stat(path).st_ino

    @property
    def socket(self) -> trio.socket.SocketType:
        return self.inner.socket

    async def accept(self) -> trio.SocketStream:
        return await self.inner.accept()

    async def aclose(self) -> None:
        try:
            # Only our own file: another server may have taken the path since.
            if os.stat(self.path).st_ino == self._inode:
                os.unlink(self.path)
        except FileNotFoundError:
            pass
        finally:
            await self.inner.aclose()


async def _remove_stale(url: ListenURL) -> None:
    """Remove a socket file left by a server that crashed; refuse a live one."""
    try:
        mode = os.lstat(url.path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise URLError(f"cannot listen on {url}: {url.path} exists and is not a socket")
    probe = trio.socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with probe:
        try:
            await probe.connect(url.path)
        except ConnectionRefusedError:
            os.unlink(url.path)  # nobody listens: stale
            return
        except OSError as exc:
            raise URLError(f"cannot listen on {url}: {exc.strerror or exc}") from None
    raise URLError(f"cannot listen on {url}: another server is listening there")


async def open_listeners(url: ListenURL, options: ServerOptions) -> list[trio.abc.Listener[Any]]:
    """Listeners whose streams offer ``send_now`` unless ``options.direct_write`` is off."""
    await _remove_stale(url)
    sock = trio.socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    bound = False
    try:
        await sock.bind(url.path)
        bound = True
        # Before listen() nobody can connect, so the file is never reachable
        # with wider permissions than asked for.
        os.chmod(url.path, options.unix_mode)
        sock.listen(socket.SOMAXCONN)
    except OSError as exc:
        sock.close()
        if bound:
            os.unlink(url.path)
        raise URLError(f"cannot listen on {url}: {exc.strerror or exc}") from None
    return direct.listeners(
        [UnixListener(trio.SocketListener(sock), url.path)], options.direct_write
    )


async def open_stream(url: ListenURL, options: ClientOptions) -> trio.SocketStream:
    try:
        return await trio.open_unix_socket(url.path)
    except OSError as exc:
        raise ConnectError(f"cannot connect to {url}: {exc.strerror or exc}") from None
