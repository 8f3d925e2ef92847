"""The two ends of a chat connection as sans-IO state machines (cf. h11).

Feed received bytes with ``receive_data`` (``b""`` at end of stream), take
what they mean from ``next_event`` until it returns ``NEED_DATA``, and turn
what you want to say into bytes with ``send``. Nothing here does I/O.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from trio_chat.protocol import events as ev
from trio_chat.protocol import jsonl, text
from trio_chat.protocol.errors import Code
from trio_chat.protocol.framing import LineBuffer, LineTooLong
from trio_chat.protocol.rules import sanitize


class Sentinel(enum.Enum):
    NEED_DATA = "NEED_DATA"
    CLOSED = "CLOSED"


NEED_DATA: Literal[Sentinel.NEED_DATA] = Sentinel.NEED_DATA
CLOSED: Literal[Sentinel.CLOSED] = Sentinel.CLOSED

Mode = Literal["text", "json"]


@dataclass(frozen=True, slots=True)
class BadInput:
    """The peer sent something unusable; answer with an error and go on."""

    code: Code
    message: str


class ServerConnection:
    """The server's end of one connection, in either mode.

    The mode is fixed by the first line: a JSON object means JSON mode,
    anything else text mode. Every text a request carries is sanitized here,
    once, before the server core sees it.
    """

    __slots__ = ("_lines", "mode", "registered")

    def __init__(self, *, max_line_bytes: int = 4096) -> None:
        self._lines = LineBuffer(max_line_bytes)
        self.mode: Mode | None = None
        # Set by the server once the nickname is accepted: before that, a
        # plain line in text mode is a nickname, after it a message.
        self.registered = False

    def receive_data(self, data: bytes) -> None:
        self._lines.feed(data)

    def next_event(self) -> ev.Request | BadInput | Sentinel:
        while True:
            line = self._lines.next_line()
            if line is None:
                return CLOSED if self._lines.at_eof else NEED_DATA
            if isinstance(line, LineTooLong):
                return BadInput(
                    Code.LINE_TOO_LONG,
                    f"line longer than {line.limit} bytes, discarded",
                )
            request = self._parse(line)
            if request is not None:
                return request

    def _parse(self, line: bytes) -> ev.Request | BadInput | None:
        if self.mode is None:
            self.mode = "json" if line.lstrip().startswith(b"{") else "text"
        if self.mode == "json":
            if not line.strip():
                return None
            try:
                return _sanitized(jsonl.decode_request(line))
            except jsonl.DecodeError as exc:
                code = Code.BAD_JSON if "JSON" in str(exc) else Code.BAD_REQUEST
                return BadInput(code, sanitize(str(exc)))
        try:
            decoded = line.decode()
        except UnicodeDecodeError:
            return BadInput(Code.BAD_UTF8, "line is not valid UTF-8, discarded")
        try:
            request = text.parse_request(decoded, registered=self.registered)
        except text.CommandError as exc:
            return BadInput(exc.code, sanitize(exc.message))
        return None if request is None else _sanitized(request)

    def send(self, event: ev.Event) -> bytes:
        return self.encoder(event)

    @property
    def encoder(self) -> Callable[[ev.Event], bytes]:
        """What ``send`` calls in this mode; a writer may call it directly."""
        return jsonl.encode if self.mode == "json" else text.format_event


def _sanitized(request: ev.Request) -> ev.Request:
    changes = {
        name: clean
        for name in ev.FIELDS[type(request)]
        if isinstance(value := getattr(request, name), str)
        and (clean := sanitize(value)) is not value
    }
    return dataclasses.replace(request, **changes) if changes else request


class ClientConnection:
    """A JSON-mode client's end: requests out, events in.

    Before its hello is answered, a client may receive the server's text
    greeting (the server cannot know the mode yet); lines that are not JSON
    objects are skipped until then, except that ``!`` lines become errors.
    """

    def __init__(self, *, max_line_bytes: int = 1 << 20) -> None:
        self._lines = LineBuffer(max_line_bytes)
        self._welcomed = False

    def receive_data(self, data: bytes) -> None:
        self._lines.feed(data)

    def next_event(self) -> ev.Event | Sentinel:
        while True:
            line = self._lines.next_line()
            if line is None:
                return CLOSED if self._lines.at_eof else NEED_DATA
            if isinstance(line, LineTooLong):
                continue
            if not self._welcomed and not line.startswith(b"{"):
                if line.startswith(b"! "):
                    message = sanitize(line[2:].decode(errors="replace"))
                    return ev.Error(ev.now(), "refused", message)
                continue
            event = jsonl.decode_event(line)
            if isinstance(event, ev.Welcome):
                self._welcomed = True
            return event

    def send(self, request: ev.Request) -> bytes:
        return jsonl.encode(request)
