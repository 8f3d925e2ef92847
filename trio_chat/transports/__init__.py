"""Transports turn a URL into listeners (server) or a stream (client).

The chat core sees only ``trio.abc.Listener`` and ``trio.abc.Stream``; which
transport carries the bytes is decided here and nowhere else.

``open_listeners`` and ``open_stream`` load every transport (WebSocket among
them) on first use, so that what only needs URLs or a peer's address (the
server's edge) does not load them all.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from trio_chat.transports.options import ClientOptions as ClientOptions
from trio_chat.transports.options import ServerOptions as ServerOptions
from trio_chat.transports.urls import ConnectError as ConnectError
from trio_chat.transports.urls import ListenURL as ListenURL
from trio_chat.transports.urls import NotChat as NotChat
from trio_chat.transports.urls import URLError as URLError
from trio_chat.transports.urls import bound_url as bound_url
from trio_chat.transports.urls import carrier as carrier
from trio_chat.transports.urls import parse_url as parse_url
from trio_chat.transports.urls import peer_address as peer_address

if TYPE_CHECKING:
    from trio_chat.transports.registry import open_listeners as open_listeners
    from trio_chat.transports.registry import open_stream as open_stream
else:

    def __getattr__(name: str) -> object:
        if name in ("open_listeners", "open_stream"):
            return getattr(importlib.import_module("trio_chat.transports.registry"), name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
