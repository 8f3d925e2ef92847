"""Registering on a new connection: hello, until the server welcomes the client.

``Handshake`` does no I/O. It says which hello to send and what each answer
means: the welcome, a refused nickname (the user types another), a password
asked for (the user types it), or the server's goodbye. Everything else the
server says meanwhile is for the screen.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from trio_chat.protocol import Code
from trio_chat.protocol import events as ev
from trio_chat.protocol.rules import LOBBY, fold

NICK_ERRORS = (Code.NICK_TAKEN, Code.NICK_INVALID, Code.TOO_MANY_ATTEMPTS)
PASSWORD_ERRORS = (Code.PASSWORD_REQUIRED, Code.BAD_PASSWORD, Code.NICK_REGISTERED)


@dataclass(frozen=True, slots=True)
class Welcomed:
    welcome: ev.Welcome


@dataclass(frozen=True, slots=True)
class Refused:
    """The nickname was refused; the user types another, or its password."""

    error: ev.Error
    password: bool  # the nickname is registered: its password is asked for

    @property
    def for_people(self) -> bool:
        """The error's words are for a person; a missing password's tell a
        program what its hello lacks, and ``prompt`` says it instead."""
        return self.error.code != Code.PASSWORD_REQUIRED


@dataclass(frozen=True, slots=True)
class Ended:
    reason: str


Outcome = Welcomed | Refused | Ended


class Handshake:
    """The hellos of one connection, with the nickname and password they carry."""

    def __init__(
        self,
        nick: str,
        password: str | None,
        resume: tuple[ev.RoomSeq, ...] = (),
        token: str | None = None,
    ) -> None:
        self.nick = nick
        self.password = password
        self.resume = resume  # each hello asks again to be put back into these rooms
        self.token = token  # the client's reconnect token, the same for each connection

    def hello(self) -> ev.Hello:
        return ev.Hello(self.nick, password=self.password, resume=self.resume, token=self.token)

    def receive(self, event: ev.Event) -> Outcome | None:
        """What ``event`` means for registering; None: only something to show."""
        match event:
            case ev.Welcome():
                return Welcomed(event)
            case ev.Bye(reason=reason):
                return Ended(reason)
            case ev.Error(code=code) if code in PASSWORD_ERRORS:
                return Refused(event, password=True)
            case ev.Error(code=code) if code in NICK_ERRORS:
                return Refused(event, password=False)
        return None

    def prompt(self, refused: Refused) -> str:
        """What the user is asked to type after ``refused``."""
        if refused.error.code == Code.PASSWORD_REQUIRED:  # instead of the server's words
            return f'nickname "{self.nick}" is registered: type its password, or /nick ANOTHER'
        if refused.password:
            return f"type the password of {self.nick}, or /nick ANOTHER"
        return "type another nickname (or /quit)"

    def answer(self, request: ev.Register | ev.ChangeNick) -> ev.Hello:
        """The user's answer to a refusal, and the hello to send with it."""
        match request:
            case ev.Register(password):  # the password asked for
                self.password = password
            case ev.ChangeNick(nick):
                self.nick, self.password = nick, None
        return self.hello()


def answer_to_refusal(request: ev.Request, *, password: bool) -> ev.Register | ev.ChangeNick | None:
    """Read a request typed after a refusal as the answer; None if it is none."""
    match request:
        case ev.Say(text) if password:
            return ev.Register(text.strip())
        case ev.Say(text) | ev.ChangeNick(text):
            return ev.ChangeNick(text.strip())
    return None


def rejoin_requests(rooms: Sequence[str], resumed: Collection[str]) -> list[ev.Request]:
    """After the welcome, what puts the client back as it was in ``rooms`` (the last current).

    The resume put it back into the ``resumed`` rooms (folded names), and the
    server puts everyone into the lobby: leave the lobby if the user had left
    it, join the rooms that could not be resumed, and make the room that was
    current current again.
    """
    requests: list[ev.Request] = []
    if rooms and LOBBY not in rooms:
        requests.append(ev.Part(LOBBY))
    for room in rooms[:-1]:
        if fold(room) not in resumed and fold(room) != fold(LOBBY):
            requests.append(ev.Join(room))
    if len(rooms) > 1:
        requests.append(ev.Join(rooms[-1]))  # current again
    return requests
