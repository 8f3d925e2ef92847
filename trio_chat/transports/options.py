"""What a transport may need beyond its URL, gathered from the command line."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field

from trio_chat.web.pages import Pages

# The server's default line limit, as a plain number: transports import
# nothing from the server, and the command line always passes its own.
DEFAULT_MAX_LINE_BYTES = 4096


@dataclass(frozen=True, slots=True)
class ServerOptions:
    keepalive: int = 60
    """Idle seconds before TCP keepalive probes start; 0 turns them off."""
    certfile: str | None = None
    """PEM certificate chain for tls://, wss:// and ircs://."""
    keyfile: str | None = None
    """PEM private key for tls://, wss:// and ircs://."""
    unix_mode: int = 0o600
    """Permissions of a unix:// socket file; the default admits its owner only."""
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    """The server's line limit; bounds what a WebSocket frame may hold."""
    ws_origins: tuple[str, ...] = ()
    """Web page origins, besides the Host asked for, whose browsers may open a
    WebSocket (``https://chat.example.org``); ``*`` admits every site."""
    max_queued_bytes: int = 1 << 20
    """The most bytes queued for one connection; the server sets it from --outbox-bytes.
    Bounds the WebSocket control replies (pongs, close) a peer leaves unread."""
    flood_burst: int = 10
    """WebSocket control frames (pings, pongs, empty data frames) taken at once..."""
    flood_rate: float = 5.0
    """...then per second (0: no flood control); a faster peer is read more slowly..."""
    flood_kick: int = 50
    """...and dropped after this many slowed frames, forgiven at one a second."""
    direct_write: bool = True
    """tcp:// and unix:// streams offer ``send_now`` (see direct.py); off to compare."""
    web: Pages | None = None
    """The browser client, answered to plain HTTP requests on ws:// and wss://
    listeners; None refuses them (426 Upgrade Required)."""
    tls_contexts: list[ssl.SSLContext] = field(default_factory=list)
    """The contexts of the TLS listeners opened with these options, added as
    they open: a reload renews their certificate (see tls.renew)."""


@dataclass(frozen=True, slots=True)
class ClientOptions:
    cafile: str | None = None
    """PEM file of CA certificates to trust for tls:// and wss:// (default: the system's)."""
