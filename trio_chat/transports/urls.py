"""Listen and connect URLs: parsed and checked in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import trio

from trio_chat.transports import tcp

DEFAULT_PORT = 58000
DEFAULT_URL = f"tcp://127.0.0.1:{DEFAULT_PORT}"
SCHEMES = ("tcp",)


class URLError(ValueError):
    """A URL that cannot be listened on or connected to; the text says why."""


@dataclass(frozen=True, slots=True)
class ListenURL:
    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def parse_url(url: str) -> ListenURL:
    """Check ``url`` and take it apart; raises URLError with the reason."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise URLError(f"{url!r}: {exc}") from None
    if parts.scheme not in SCHEMES:
        known = ", ".join(f"{s}://" for s in SCHEMES)
        raise URLError(f"{url!r}: unknown scheme {parts.scheme!r} (this server knows {known})")
    if not parts.hostname:
        raise URLError(f"{url!r}: no host; for example {DEFAULT_URL}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise URLError(f"{url!r}: a {parts.scheme}:// URL has no path")
    return ListenURL(parts.scheme, parts.hostname, DEFAULT_PORT if port is None else port)


async def open_listeners(url: ListenURL, *, keepalive: int = 60) -> list[trio.abc.Listener[Any]]:
    try:
        return list(await tcp.open_tcp_listeners(url.host, url.port, keepalive=keepalive))
    except OSError as exc:
        raise URLError(f"cannot listen on {url}: {exc.strerror or exc}") from None


def bound_url(url: ListenURL, listener: trio.abc.Listener[Any]) -> ListenURL:
    """``url`` with the address a listener really has (say, the port for 0)."""
    sock = getattr(listener, "socket", None)
    if sock is None:
        return url
    host, port = sock.getsockname()[:2]
    return ListenURL(url.scheme, host, port)


async def open_stream(url: ListenURL) -> trio.abc.Stream:
    return await tcp.open_tcp_stream(url.host, url.port)


def peer_address(stream: object) -> str:
    """The address a connection comes from, for per-address limits and logs.

    Looks through wrapping streams (TLS) for a socket; a stream without one
    may say who it is in a ``peer_address`` attribute (the memory transport).
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
