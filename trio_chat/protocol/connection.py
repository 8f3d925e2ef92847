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
from trio_chat.protocol.errors import Code, ProtocolError
from trio_chat.protocol.framing import LineBuffer, LineTooLong
from trio_chat.protocol.rules import sanitize, sanitize_secret


class Sentinel(enum.Enum):
    NEED_DATA = "NEED_DATA"
    CLOSED = "CLOSED"
    BLANK = "BLANK"


NEED_DATA: Literal[Sentinel.NEED_DATA] = Sentinel.NEED_DATA
CLOSED: Literal[Sentinel.CLOSED] = Sentinel.CLOSED
# A line that carries nothing (whitespace only). It is handed out rather than
# skipped, so that a flood of empty lines costs its sender like any other.
BLANK: Literal[Sentinel.BLANK] = Sentinel.BLANK

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
        """The next request, BadInput, BLANK, NEED_DATA or CLOSED; never raises."""
        line = self._lines.next_line()
        if line is None:
            return CLOSED if self._lines.at_eof else NEED_DATA
        if isinstance(line, LineTooLong):
            return BadInput(
                Code.LINE_TOO_LONG,
                f"line longer than {line.limit} bytes, discarded",
            )
        return self._parse(line)

    def _parse(self, line: bytes) -> ev.Request | BadInput | Sentinel:
        if self.mode is None:
            self.mode = "json" if line.lstrip().startswith(b"{") else "text"
        try:
            if self.mode == "json":
                if not line.strip():
                    return BLANK
                return _sanitized(jsonl.decode_request(line))
            try:
                decoded = line.decode()
            except UnicodeDecodeError:
                return BadInput(Code.BAD_UTF8, "line is not valid UTF-8, discarded")
            request = text.parse_request(decoded, registered=self.registered)
        except ProtocolError as exc:
            return BadInput(exc.code, sanitize(exc.message))
        return BLANK if request is None else _sanitized(request)

    def send(self, event: ev.Event) -> bytes:
        return self.encoder(event)

    @property
    def encoder(self) -> Callable[[ev.Event], bytes]:
        """What ``send`` calls in this mode; a writer may call it directly."""
        return jsonl.encode if self.mode == "json" else text.format_event


def _sanitized(request: ev.Request) -> ev.Request:
    kind = type(request)
    changes = {
        name: clean
        for name in ev.FIELDS[kind]
        if isinstance(value := getattr(request, name), str)
        and (clean := _CLEANERS[kind, name](value)) is not value
    }
    return dataclasses.replace(request, **changes) if changes else request


# Secrets go to the account code nearly as typed; everything else is shown.
_CLEANERS = {
    (kind, name): sanitize_secret if (kind, name) in ev.SECRETS else sanitize
    for kind in ev.REQUEST_TYPES.values()
    for name in ev.FIELDS[kind]
}


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

    def next_event(self) -> ev.Event | Literal[Sentinel.NEED_DATA, Sentinel.CLOSED]:
        """The next event, NEED_DATA or CLOSED; never raises.

        A line that is no event this client knows (a newer server's, or a
        broken one) is skipped, as is a line over the limit.
        """
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
            try:
                event = jsonl.decode_event(line)
            except jsonl.DecodeError:
                continue
            if isinstance(event, ev.Welcome):
                self._welcomed = True
            return event

    def send(self, request: ev.Request) -> bytes:
        return jsonl.encode(request)
