"""A WebSocket connection seen as a byte stream of lines.

One text message carries one line: a received message comes out followed by
``\\n``; every ``\\n`` written ends the message being sent. A write that does
not end in ``\\n`` goes out as a fragment of a message still open, so any
bytes round-trip exactly. Built on the sans-IO protocol of ``websockets``, so
the adapter needs no background task and fits wherever a ``trio.abc.Stream``
does.

Control frames are bounded like lines: pings, pongs and empty data frames
take tokens from a flood-control bucket of their own, only the newest of the
pongs not sent yet is kept (RFC 6455 5.5.3 allows it), and the control
replies queued behind a write the peer does not read are bounded in bytes.
"""

from __future__ import annotations

import contextlib
import email.utils
import http
import json
import logging
import math
import operator
from collections.abc import Collection, Iterator, Sequence

import trio
from websockets.client import ClientProtocol
from websockets.datastructures import Headers
from websockets.frames import CloseCode, Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import OPEN, Protocol
from websockets.server import ServerProtocol
from websockets.uri import parse_uri

from trio_chat.protocol.flood import TokenBucket
from trio_chat.transports import origin
from trio_chat.transports.urls import NotChat, peer_address
from trio_chat.web.pages import Pages

RECEIVE_SIZE = 65536
DATA_OPCODES = (Opcode.TEXT, Opcode.BINARY, Opcode.CONT)
FLOODING_OPCODES = (Opcode.PING, Opcode.PONG)  # and data frames with nothing in them
MAX_QUEUED = 1 << 20  # bytes of control replies queued behind a stuck write

log = logging.getLogger("trio_chat.transports")

# The library logs every connection opened and closed at INFO; the server
# already logs each connection once, with its number.
_protocol_log = logging.getLogger(__name__)
_protocol_log.setLevel(logging.WARNING)


class HandshakeError(Exception):
    """The peer did not complete the WebSocket opening handshake."""


class WebSocketStream(trio.abc.Stream):
    """``transport_stream`` speaking WebSocket, read and written as lines."""

    carrier = "ws"  # see urls.carrier

    def __init__(
        self,
        transport_stream: trio.abc.Stream,
        protocol: Protocol,
        path: str = "",
        *,
        origins: Collection[str] = (),
        max_queued: int = MAX_QUEUED,
        bucket: TokenBucket | None = None,
        web: Pages | None = None,
    ) -> None:
        self.transport_stream = transport_stream
        self.protocol = protocol
        self._path = path
        self._origins = origins
        self._web = web
        self._max_queued = max_queued
        self._bucket = bucket
        self._resume_at = -math.inf  # flood control: read nothing more before then
        self._inbox = bytearray()
        self._in_message = False  # a message is open on our side (no "\n" yet)
        self._open = protocol.state is OPEN
        self._peer_closed = False
        self._closed = False
        self._busy: set[str] = set()
        self._send_lock = trio.Lock()
        self._handshake_lock = trio.Lock()
        self._request: Request | None = None

    @classmethod
    def server(
        cls,
        transport_stream: trio.abc.Stream,
        path: str,
        max_frame: int,
        *,
        origins: Collection[str] = (),
        max_queued: int = MAX_QUEUED,
        bucket: TokenBucket | None = None,
        web: Pages | None = None,
    ) -> WebSocketStream:
        """The server's side; the handshake happens on first use (or ``do_handshake``).

        Requests for any other HTTP path than ``path`` are answered 404, and
        browsers on a page of another site than the Host asked for (unless
        listed in ``origins``, see ``origin.refusal``) 403. A plain HTTP
        request (no ``Upgrade: websocket``) gets ``web``'s answer, then the
        connection closes like a refused handshake. Past ``max_queued``
        bytes of control replies the peer does not read, or when ``bucket``
        finds its control frames abusive, the connection fails.
        """
        protocol = ServerProtocol(max_size=(None, max_frame), logger=_protocol_log)
        return cls(
            transport_stream,
            protocol,
            path,
            origins=origins,
            max_queued=max_queued,
            bucket=bucket,
            web=web,
        )

    @classmethod
    async def client(
        cls, transport_stream: trio.abc.Stream, uri: str, max_frame: int
    ) -> WebSocketStream:
        """The client's side, after a successful opening handshake to ``uri``.

        Raises HandshakeError (and closes the transport) when the server refuses.
        """
        protocol = ClientProtocol(parse_uri(uri), max_size=(None, max_frame), logger=_protocol_log)
        self = cls(transport_stream, protocol)
        try:
            protocol.send_request(protocol.connect())
            await self._flush()
            while protocol.state is not OPEN and protocol.handshake_exc is None:
                await self._pump()
        except trio.BrokenResourceError as exc:
            await trio.aclose_forcefully(transport_stream)
            raise HandshakeError(str(exc) or "connection lost") from None
        if protocol.handshake_exc is not None:
            await trio.aclose_forcefully(transport_stream)
            raise HandshakeError(str(protocol.handshake_exc))
        self._open = True
        return self

    # ----------------------------------------------------------- trio.abc.Stream

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        if max_bytes is not None and operator.index(max_bytes) < 1:
            raise ValueError("max_bytes must be at least 1")
        with self._claim("receiving"):
            await self.do_handshake()
            while not self._inbox:
                if self._peer_closed:
                    await trio.lowlevel.checkpoint()
                    return b""
                await self._pump()
            size = len(self._inbox) if max_bytes is None else max_bytes
            data = bytes(self._inbox[:size])
            del self._inbox[:size]
        await trio.lowlevel.checkpoint()
        return data

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        with self._claim("sending"):
            await self.do_handshake()
            if self.protocol.state is not OPEN:
                raise trio.BrokenResourceError("the WebSocket connection is closing")
            *lines, rest = bytes(data).split(b"\n")
            for line in lines:
                self._send_frame(line, fin=True)
            if rest:
                self._send_frame(rest, fin=False)
            await self._flush()

    async def wait_send_all_might_not_block(self) -> None:
        with self._claim("sending"):
            await self.transport_stream.wait_send_all_might_not_block()

    async def aclose(self) -> None:
        if self._closed:
            await trio.lowlevel.checkpoint()
            return
        self._closed = True
        try:
            # Say goodbye unless a write is under way (it would interleave),
            # or pass on the close of a failure (flood, message too big).
            if not self._send_lock.locked():
                if self.protocol.state is OPEN:
                    self.protocol.send_close(CloseCode.NORMAL_CLOSURE)
                await self._flush()
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            await self.transport_stream.aclose()

    async def do_handshake(self) -> None:
        """Answer the client's opening handshake, once; the first read or write calls this."""
        if self._open:
            return
        async with self._handshake_lock:
            if not self._open:
                await self._accept()

    # ------------------------------------------------------------------ private

    @contextlib.contextmanager
    def _claim(self, what: str) -> Iterator[None]:
        if self._closed:
            raise trio.ClosedResourceError("this stream was closed")
        if what in self._busy:
            raise trio.BusyResourceError(f"another task is already {what}")
        self._busy.add(what)
        try:
            yield
        finally:
            self._busy.discard(what)

    async def _accept(self) -> None:
        assert isinstance(self.protocol, ServerProtocol)
        request = None
        while request is None:
            await self._pump()
            if self.protocol.handshake_exc is not None:
                break
            request = self._request
        plain = request is not None and self._web is not None and not _asks_for_websocket(request)
        if request is None:
            response = None
        elif plain:
            response = self._page(request)
        elif request.path.split("?")[0] != self._path:
            response = self.protocol.reject(404, f"no WebSocket chat at {request.path}\n")
        elif refused := self._cross_site(request):
            peer = peer_address(self.transport_stream)
            log.warning(
                "WebSocket from %s refused: %s (see --ws-origin)",
                peer,
                refused,
                extra={"event": "origin_refused", "fields": {"address": peer, "refused": refused}},
            )
            response = self.protocol.reject(403, f"{refused}\n")
        else:
            response = self.protocol.accept(request)
        if response is not None:
            self.protocol.send_response(response)
            await self._flush()
        if self.protocol.state is not OPEN:
            await trio.aclose_forcefully(self.transport_stream)
            if plain and response is not None:
                assert request is not None
                path = json.dumps(request.path)  # the client's, in a log line
                raise NotChat(f"HTTP {request.method} {path}: {response.status_code}")
            reason = self.protocol.handshake_exc or (response and response.reason_phrase)
            raise trio.BrokenResourceError(f"WebSocket handshake failed: {reason}")
        self._open = True

    def _page(self, request: Request) -> Response:
        """``web``'s answer to a plain HTTP request, framed by the library like its refusals."""
        assert self._web is not None
        status, headers, body = self._web.answer(request.method, request.path, self._path)
        date = email.utils.formatdate(usegmt=True)
        return Response(
            status,
            http.HTTPStatus(status).phrase,
            Headers([("Date", date), ("Connection", "close"), *headers]),
            body,
        )

    def _cross_site(self, request: Request) -> str | None:
        """Why a browser on another site may not open this connection, or None."""
        origins = request.headers.get_all("Origin")
        if len(origins) > 1:
            return "more than one Origin header"
        hosts = request.headers.get_all("Host")
        host = hosts[0] if len(hosts) == 1 else None
        return origin.refusal(origins[0] if origins else None, host, self._origins)

    def _send_frame(self, data: bytes, *, fin: bool) -> None:
        if self._in_message:
            self.protocol.send_continuation(data, fin=fin)
        else:
            self.protocol.send_text(data, fin=fin)
        self._in_message = not fin

    async def _pump(self) -> None:
        """Read once from the transport and take in what it brought."""
        if self._resume_at > trio.current_time():
            await trio.sleep_until(self._resume_at)  # flooding: the peer waits its turn
        data = await self.transport_stream.receive_some(RECEIVE_SIZE)
        if data:
            self.protocol.receive_data(data)
        else:
            self.protocol.receive_eof()
        self._keep_newest_pong()
        if self._send_lock.locked():
            queued = sum(map(len, self.protocol.writes))
            if queued > self._max_queued:
                raise trio.BrokenResourceError(
                    f"the peer is not reading ({queued} bytes of control replies queued)"
                )
        # Pongs, the close reply, handshake answers. Never wait behind a write
        # under way: it may be stuck until this very read drains the peer, and
        # it sends what is queued here before it lets go. A peer gone away
        # still leaves what it sent to be read.
        with contextlib.suppress(trio.BrokenResourceError):
            await self._flush(wait=not self._open)
        events = self.protocol.events_received()
        for event in events:
            if isinstance(event, Request):
                self._request = event
            elif isinstance(event, Frame) and event.opcode in DATA_OPCODES:
                self._inbox += event.data
                if event.fin:
                    self._inbox += b"\n"
        self._flood_control(events)
        # Checked on the protocol rather than by event: a close in the middle
        # of a message (a last line with no "\n") is a protocol error to the
        # library, but the peer plainly closed.
        self._peer_closed = self.protocol.close_rcvd is not None
        if self._peer_closed:
            return
        if self.protocol.parser_exc is not None:
            raise trio.BrokenResourceError(
                f"WebSocket connection failed: {self.protocol.parser_exc}"
            )
        if not data:
            raise trio.BrokenResourceError(
                "connection lost without a WebSocket close"
                if self._open
                else "connection closed during the WebSocket handshake"
            )

    def _keep_newest_pong(self) -> None:
        """Of the pongs not sent yet, keep only the last: it answers every ping before it."""
        writes = self.protocol.writes  # one serialized frame each
        pongs = [i for i, frame in enumerate(writes) if frame and frame[0] & 0x0F == Opcode.PONG]
        for i in reversed(pongs[:-1]):
            del writes[i]

    def _flood_control(self, events: Sequence[object]) -> None:
        """Count the frames that carry no line; a peer over the rate waits, an abuser goes."""
        if self._bucket is None:
            return
        now = trio.current_time()
        for event in events:
            if isinstance(event, Frame) and (
                event.opcode in FLOODING_OPCODES
                or (event.opcode in DATA_OPCODES and not event.data)
            ):
                self._resume_at = now + self._bucket.delay(now)
                if self._bucket.abused:
                    self.protocol.fail(CloseCode.POLICY_VIOLATION, "excess flood")
                    raise trio.BrokenResourceError("excess flood")

    async def _flush(self, *, wait: bool = True) -> None:
        if not wait and self._send_lock.locked():
            await trio.lowlevel.checkpoint()
            return
        async with self._send_lock:
            while chunks := self.protocol.data_to_send():
                for chunk in chunks:
                    if chunk:  # b"" asks to half-close; closing follows soon anyway
                        await self.transport_stream.send_all(chunk)


def _asks_for_websocket(request: Request) -> bool:
    """Whether ``request`` tries a WebSocket handshake, however badly: the rest is plain HTTP."""
    tokens = (t.strip().lower() for v in request.headers.get_all("Upgrade") for t in v.split(","))
    return "websocket" in tokens
