"""Listen and connect URLs: parsed and checked in one place."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import trio

DEFAULT_PORT = 58000
DEFAULT_URL = f"tcp://127.0.0.1:{DEFAULT_PORT}"


@dataclass(frozen=True, slots=True)
class Shape:
    """What a scheme's URLs hold: a host and port (with a default), a path, or both."""

    default_port: int | None  # None: no host or port, only a path (unix://)
    path: bool = False


SCHEMES: dict[str, Shape] = {
    "tcp": Shape(DEFAULT_PORT),
    "tls": Shape(58443),
    "unix": Shape(None, path=True),
    "ws": Shape(80, path=True),
    "wss": Shape(443, path=True),
    "irc": Shape(6667),
    "ircs": Shape(6697),
}


class URLError(ValueError):
    """A URL that cannot be listened on or connected to; the text says why."""


class NotChat(trio.BrokenResourceError):
    """The connection asked for something besides the chat (a web page), got
    its answer, and is over; says what it asked and got."""


class ConnectError(OSError):
    """Connecting failed (refused, untrusted certificate, handshake refused): says why.

    ``lasting``: trying again will fail the same way (an unknown host, a
    certificate not trusted) until the user changes something.
    """

    def __init__(self, message: str, *, lasting: bool = False) -> None:
        super().__init__(message)
        self.lasting = lasting


@dataclass(frozen=True, slots=True)
class ListenURL:
    """A checked URL; ``path`` is the socket file (unix) or the HTTP path (ws, wss)."""

    scheme: str
    host: str = ""
    port: int = 0
    path: str = ""

    def __str__(self) -> str:
        if SCHEMES[self.scheme].default_port is None:
            return f"{self.scheme}://{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.path}"


def parse_url(url: str) -> ListenURL:
    """Check ``url`` and take it apart; raises URLError with the reason."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise URLError(f"{url!r}: {exc}") from None
    shape = SCHEMES.get(parts.scheme)
    if shape is None:
        known = ", ".join(f"{s}://" for s in SCHEMES)
        raise URLError(f"{url!r}: unknown scheme {parts.scheme!r} (known: {known})")
    if parts.query or parts.fragment:
        raise URLError(f"{url!r}: a URL here has no ?query or #fragment")
    if shape.default_port is None:
        if parts.netloc:
            raise URLError(
                f"{url!r}: a {parts.scheme}:// URL has no host; for example unix:///tmp/chat.sock"
            )
        if not parts.path.startswith("/") or parts.path.endswith("/"):
            raise URLError(f"{url!r}: needs an absolute socket path, as in unix:///tmp/chat.sock")
        return ListenURL(parts.scheme, path=unquote(parts.path))
    if not parts.hostname:
        raise URLError(
            f"{url!r}: no host; for example {parts.scheme}://127.0.0.1:{shape.default_port}"
        )
    path = ""
    if shape.path:
        path = parts.path or "/"
    elif parts.path not in ("", "/"):
        raise URLError(f"{url!r}: a {parts.scheme}:// URL has no path")
    return ListenURL(
        parts.scheme, parts.hostname, shape.default_port if port is None else port, path
    )


def bound_url(url: ListenURL, listener: trio.abc.Listener[Any]) -> ListenURL:
    """``url`` with the address a listener really has (say, the port for 0)."""
    inner: object = listener
    while (sock := getattr(inner, "socket", None)) is None:
        inner = getattr(inner, "transport_listener", None)
        if inner is None:
            return url
    name = sock.getsockname()
    if not isinstance(name, tuple):  # a unix socket: the path is already known
        return url
    return ListenURL(url.scheme, name[0], name[1], url.path)


def carrier(stream: object) -> str:
    """What carries a connection, for the server's metrics: tcp, tls, unix, ws,
    wss (irc:// and ircs:// are tcp and tls), or memory (tests)."""
    websocket = tls = False
    while stream is not None:
        websocket |= getattr(stream, "carrier", None) == "ws"
        tls |= isinstance(stream, trio.SSLStream)
        if (sock := getattr(stream, "socket", None)) is not None:
            if websocket:
                return "wss" if tls else "ws"
            if tls:
                return "tls"
            return "unix" if sock.family == getattr(socket, "AF_UNIX", None) else "tcp"
        stream = getattr(stream, "transport_stream", None)
    return "memory"


def peer_address(stream: object) -> str:
    """The address a connection comes from, for per-address limits and logs.

    Looks through wrapping streams (TLS, WebSocket) for a socket; a stream
    without one may say who it is in a ``peer_address`` attribute (the memory
    transport). Every unix socket connection counts as "local".
    """
    while stream is not None:
        if (sock := getattr(stream, "socket", None)) is not None:
            try:
                name = sock.getpeername()
            except OSError:  # already reset by the peer
                return "unknown"
            return str(name[0]) if isinstance(name, tuple) else "local"
        if (address := getattr(stream, "peer_address", None)) is not None:
            return str(address)
        stream = getattr(stream, "transport_stream", None)
    return "unknown"
