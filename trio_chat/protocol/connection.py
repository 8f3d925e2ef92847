"""The two ends of a chat connection as sans-IO state machines (cf. h11).

Feed received bytes with ``receive_data`` (``b""`` at end of stream), take
what they mean from ``next_event`` until it returns ``NEED_DATA``, and turn
what you want to say into bytes with ``send``. Nothing here does I/O.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from trio_chat.protocol import events as ev
from trio_chat.protocol import jsonl, presence, text
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


class Phase(enum.Enum):
    """Where a server connection is in its conversation."""

    NICK = "nick"  # a plain text line is the nickname wanted
    PASSWORD = "password"  # a plain text line is the password of ``password_for``
    CHATTING = "chatting"  # the nickname was accepted: a plain line is a message


@dataclass(frozen=True, slots=True)
class BadInput:
    """The peer sent something unusable; answer with an error and go on."""

    code: Code
    message: str


class ServerCodec(Protocol):
    """What a session needs of the server's end of a connection: this module's
    ServerConnection, or another wire format's (IRC's)."""

    @property
    def pings(self) -> bool: ...

    @property
    def greets(self) -> bool:
        """Whether the server's greeting is sent before the nickname is chosen."""
        ...

    @property
    def registered(self) -> bool: ...

    @property
    def identity(self) -> tuple[str, str] | None:
        """The username and real name the client gave (IRC's USER); the mode's
        name stands in for the username of a client that gives none."""
        ...

    @property
    def keep(self) -> Callable[[ev.Event], bool] | None:
        """Which events the client receives at all (see Outbox); None: all."""
        ...

    @property
    def dropped(self) -> Callable[[list[ev.Event], dict[object, Any], int], Sequence[int]] | None:
        """``keep`` for a run: the places of the events it leaves out (see
        Outbox.put_run); None: all are received."""
        ...

    @property
    def encoder(self) -> Callable[[ev.Event], bytes]: ...

    def receive_data(self, data: bytes) -> None: ...

    def next_event(self) -> ev.Request | ev.Event | BadInput | Sentinel:
        """A request, an answer the connection makes itself (an Event), BadInput,
        BLANK, NEED_DATA or CLOSED; never raises."""
        ...

    def accept(self) -> None: ...

    def expect_password(
        self, nick: str, now: datetime, *, again: bool = False
    ) -> ev.Event | None: ...


class ServerConnection:
    """The server's end of one connection, in either mode.

    The mode is fixed by the first line: a JSON object means JSON mode,
    anything else text mode. Every text a request carries is sanitized here,
    once, before the server core sees it.

    The connection keeps the conversation's phase: until the nickname is
    accepted (``accept``), whatever names a nickname (a plain text line,
    ``/nick``, a JSON ``nick``) comes out as a Hello; after the server asked
    for a password (``expect_password``), a plain text line is that password,
    as a Hello for the nickname asked about, until a Hello succeeds or the
    user picks another nickname.
    """

    __slots__ = ("_lines", "mode", "password_for", "phase")
    greets = True
    keep = None
    dropped = None

    @property
    def identity(self) -> tuple[str, str]:
        return (self.mode or "text", "")

    def __init__(self, *, max_line_bytes: int = 4096) -> None:
        self._lines = LineBuffer(max_line_bytes)
        self.mode: Mode | None = None
        self.phase = Phase.NICK
        self.password_for: str | None = None

    def expect_password(self, nick: str, now: datetime, *, again: bool = False) -> ev.Event | None:
        """``nick`` is registered, and its password is wanted (``again``:
        after a wrong one): the event that asks for it, if any.

        In text mode the next plain lines are that password, never a
        nickname shown to all; a JSON client is told once, in an error, to
        send its hello again with a password.
        """
        if self.mode == "text":
            self.phase = Phase.PASSWORD
            self.password_for = nick
            text = f'nickname "{nick}" is registered: type its password, or /nick ANOTHER'
            return ev.Notice(now, text)
        if again:
            return None
        message = f'nickname "{nick}" is registered: hello needs its password'
        return ev.Error(now, Code.PASSWORD_REQUIRED, message)

    @property
    def pings(self) -> bool:
        """Whether the peer can answer pings (a person with nc cannot)."""
        return self.mode == "json"

    def accept(self) -> None:
        """The nickname was accepted: from now on, plain lines are messages."""
        self.phase = Phase.CHATTING
        self.password_for = None

    @property
    def registered(self) -> bool:
        return self.phase is Phase.CHATTING

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
                return _sanitized(self._entering(jsonl.decode_request(line)))
            try:
                decoded = line.decode()
            except UnicodeDecodeError:
                return BadInput(Code.BAD_UTF8, "line is not valid UTF-8, discarded")
            request = text.parse_request(decoded, registered=self.registered)
        except ProtocolError as exc:
            return BadInput(exc.code, sanitize(exc.message))
        return BLANK if request is None else _sanitized(self._entering(request))

    def _entering(self, request: ev.Request) -> ev.Request:
        """Before the nickname is accepted, what names one is a Hello."""
        if self.phase is Phase.CHATTING:
            return request
        if isinstance(request, ev.ChangeNick):
            self.phase, self.password_for = Phase.NICK, None
            return ev.Hello(request.nick)
        if self.phase is Phase.PASSWORD and isinstance(request, ev.Hello):
            assert self.password_for is not None
            # A text line loses the spaces around it, so in both modes a
            # password does: the same password works from either.
            return ev.Hello(self.password_for, password=request.nick.strip())
        return request

    @property
    def encoder(self) -> Callable[[ev.Event], bytes]:
        """How an event is written in this mode: one function per mode, so a
        broadcast is encoded once for all the members that share it."""
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
    (kind, name): sanitize_secret if (kind, name) in ev.SECRETS | presence.SECRETS else sanitize
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
