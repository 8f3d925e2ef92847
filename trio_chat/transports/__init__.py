"""Transports turn a URL into listeners (server) or a stream (client).

The chat core sees only ``trio.abc.Listener`` and ``trio.abc.Stream``; which
transport carries the bytes is decided here and nowhere else.
"""

from __future__ import annotations

from trio_chat.transports.options import ClientOptions as ClientOptions
from trio_chat.transports.options import ServerOptions as ServerOptions
from trio_chat.transports.registry import open_listeners as open_listeners
from trio_chat.transports.registry import open_stream as open_stream
from trio_chat.transports.urls import ConnectError as ConnectError
from trio_chat.transports.urls import ListenURL as ListenURL
from trio_chat.transports.urls import URLError as URLError
from trio_chat.transports.urls import bound_url as bound_url
from trio_chat.transports.urls import parse_url as parse_url
from trio_chat.transports.urls import peer_address as peer_address
