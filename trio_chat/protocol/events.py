"""Everything that crosses the wire, as frozen dataclasses.

Requests travel from a client to the server; events travel from the server to
clients. Both modes (text and JSON Lines) encode the same objects, so the
server core deals only in these and never knows which mode a member speaks.
Each class names its JSON ``type`` in ``TYPE``, and that is all it takes:
a subclass of Request or Event with a ``TYPE`` enters ``REQUEST_TYPES`` or
``EVENT_TYPES`` as it is defined, and both codecs know it from then on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from trio_chat.protocol.registering import FieldNames, register


def now() -> datetime:
    """The server's time, as every event carries it."""
    return datetime.now(UTC)


# Each request and event class by its TYPE, filled in as the classes are
# defined (see registering.register).
REQUEST_TYPES: dict[str, type[Request]] = {}
EVENT_TYPES: dict[str, type[Event]] = {}


FIELDS = FieldNames()


# ---------------------------------------------------------------- requests


@dataclass(frozen=True, slots=True)
class Request:
    TYPE: ClassVar[str] = ""

    # No super() call: slots=True leaves a zero-argument super() in this
    # class pointing at the class the decorator replaced.
    def __init_subclass__(cls) -> None:
        register(REQUEST_TYPES, cls)


@dataclass(frozen=True, slots=True)
class RoomSeq:
    """The last sequence number a client saw in a room."""

    room: str
    seq: int


@dataclass(frozen=True, slots=True)
class Hello(Request):
    """Pick a nickname; the first thing every client says.

    ``password`` identifies a registered nickname. ``resume`` lists the rooms
    a reconnecting client was in, each with the last sequence number it saw:
    it is brought back into each and receives what it missed. ``token`` is a
    secret the client chose: a later hello with the same nickname and token
    takes the nickname back from a connection of this client that the server
    has not yet seen end.
    """

    TYPE: ClassVar[str] = "hello"
    nick: str
    password: str | None = None
    resume: tuple[RoomSeq, ...] = ()
    token: str | None = None


@dataclass(frozen=True, slots=True)
class Say(Request):
    """A message to a room: the current one when ``room`` is None."""

    TYPE: ClassVar[str] = "say"
    text: str
    room: str | None = None


@dataclass(frozen=True, slots=True)
class Act(Request):
    """``/me``: an action in a room."""

    TYPE: ClassVar[str] = "act"
    text: str
    room: str | None = None


@dataclass(frozen=True, slots=True)
class Tell(Request):
    """``/msg``: a private message that only ``nick`` and the sender see."""

    TYPE: ClassVar[str] = "msg"
    nick: str
    text: str


@dataclass(frozen=True, slots=True)
class ChangeNick(Request):
    TYPE: ClassVar[str] = "nick"
    nick: str


@dataclass(frozen=True, slots=True)
class Join(Request):
    """Join a room (if not in it yet) and make it the current room."""

    TYPE: ClassVar[str] = "join"
    room: str
    after: int | None = None  # replay everything after this sequence number


@dataclass(frozen=True, slots=True)
class Part(Request):
    """Leave a room: the current one when ``room`` is None; ``reason`` is
    shown to the room."""

    TYPE: ClassVar[str] = "part"
    room: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Who(Request):
    """Who is in a room: the current one when ``room`` is None."""

    TYPE: ClassVar[str] = "who"
    room: str | None = None


@dataclass(frozen=True, slots=True)
class ListRooms(Request):
    TYPE: ClassVar[str] = "rooms"


@dataclass(frozen=True, slots=True)
class GetHistory(Request):
    """A page of a room's history (the current room when None).

    With ``after``, every event after that sequence number (to fill a gap);
    otherwise the last ``limit`` messages, or those before ``before``. With
    ``nick``, the private messages between the asker and ``nick`` instead.
    """

    TYPE: ClassVar[str] = "history"
    room: str | None = None
    limit: int | None = None
    before: int | None = None
    after: int | None = None
    nick: str | None = None


@dataclass(frozen=True, slots=True)
class Register(Request):
    """Protect the current nickname with a password."""

    TYPE: ClassVar[str] = "register"
    password: str


@dataclass(frozen=True, slots=True)
class SetPassword(Request):
    TYPE: ClassVar[str] = "password"
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class GetHelp(Request):
    TYPE: ClassVar[str] = "help"


@dataclass(frozen=True, slots=True)
class Quit(Request):
    TYPE: ClassVar[str] = "quit"
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Ping(Request):
    """Either side may ping; the other answers with a Pong carrying the token.

    Ping and Pong are both requests and events: see ServerPing."""

    TYPE: ClassVar[str] = "ping"
    token: str = ""


@dataclass(frozen=True, slots=True)
class Pong(Request):
    TYPE: ClassVar[str] = "pong"
    token: str = ""


# ------------------------------------------------------------------ events


@dataclass(frozen=True, slots=True)
class Event:
    """Base of what the server sends. ``time`` is the server's clock, in UTC."""

    TYPE: ClassVar[str] = ""
    time: datetime

    def __init_subclass__(cls) -> None:  # no super(): see Request
        register(EVENT_TYPES, cls)


@dataclass(frozen=True, slots=True)
class RoomEvent(Event):
    """An event in a room's timeline: ``seq`` grows by one per room."""

    room: str
    seq: int


@dataclass(frozen=True, slots=True)
class Message(RoomEvent):
    TYPE: ClassVar[str] = "message"
    nick: str
    text: str


@dataclass(frozen=True, slots=True)
class Action(RoomEvent):
    TYPE: ClassVar[str] = "action"
    nick: str
    text: str


@dataclass(frozen=True, slots=True)
class Joined(RoomEvent):
    TYPE: ClassVar[str] = "joined"
    nick: str


@dataclass(frozen=True, slots=True)
class Left(RoomEvent):
    TYPE: ClassVar[str] = "left"
    nick: str
    reason: str


@dataclass(frozen=True, slots=True)
class NickChanged(RoomEvent):
    TYPE: ClassVar[str] = "nick_changed"
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class Private(Event):
    """A private message, delivered to its target and echoed to its sender."""

    TYPE: ClassVar[str] = "private"
    sender: str
    target: str
    text: str


@dataclass(frozen=True, slots=True)
class Welcome(Event):
    """The nickname was accepted; ``members`` are in ``room`` now."""

    TYPE: ClassVar[str] = "welcome"
    nick: str
    room: str
    members: tuple[str, ...]
    online: int
    topic: str = ""
    ops: tuple[str, ...] = ()
    voiced: tuple[str, ...] = ()
    topic_by: str | None = None
    topic_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class Members(Event):
    """Who is in a room (the answer to Who, and sent on joining a room),
    with its topic (who set it, when), and which of them are operators or voiced."""

    TYPE: ClassVar[str] = "members"
    room: str
    nicks: tuple[str, ...]
    topic: str = ""
    ops: tuple[str, ...] = ()
    voiced: tuple[str, ...] = ()
    topic_by: str | None = None
    topic_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class RoomInfo:
    name: str
    members: int


@dataclass(frozen=True, slots=True)
class Rooms(Event):
    TYPE: ClassVar[str] = "rooms"
    rooms: tuple[RoomInfo, ...]


@dataclass(frozen=True, slots=True)
class History(Event):
    """Earlier events of a room, oldest first, replayed rather than live."""

    TYPE: ClassVar[str] = "history"
    room: str
    events: tuple[RoomEvent, ...]


@dataclass(frozen=True, slots=True)
class PrivateHistory(Event):
    """Earlier private messages between the asker and ``nick``, oldest first."""

    TYPE: ClassVar[str] = "private_history"
    nick: str
    events: tuple[Private, ...]


@dataclass(frozen=True, slots=True)
class Help(Event):
    TYPE: ClassVar[str] = "help"
    commands: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Notice(Event):
    """A line from the server itself, about no room in particular."""

    TYPE: ClassVar[str] = "notice"
    text: str


@dataclass(frozen=True, slots=True)
class Error(Event):
    """A request failed; ``code`` is stable, ``message`` is for people."""

    TYPE: ClassVar[str] = "error"
    code: str
    message: str
    subject: str | None = None  # the room or nickname it is about, when there is one


@dataclass(frozen=True, slots=True)
class Bye(Event):
    """The server is closing this connection, and why."""

    TYPE: ClassVar[str] = "bye"
    reason: str


# A ping or pong from the server is its own class, with the request's TYPE,
# because it is an event and every event carries the server's time:
#     server: {"type":"ping","time":"2026-11-23T21:30:19.925393Z","token":"05a5"}
#     client: {"type":"ping","token":"05a5"}
# One class for both would hold a time that is missing when a client sends
# it, which every reader of Event.time would have to allow for, and the JSON
# codec would need a rule for leaving it out. Two small classes keep the
# rule that a request has no time and an event always has one.


@dataclass(frozen=True, slots=True)
class ServerPing(Event):
    TYPE: ClassVar[str] = Ping.TYPE
    token: str


@dataclass(frozen=True, slots=True)
class ServerPong(Event):
    TYPE: ClassVar[str] = Pong.TYPE
    token: str


# Every class above, ready for iterating FIELDS.
FIELDS.update(
    {
        cls: FIELDS[cls]
        for cls in (*REQUEST_TYPES.values(), *EVENT_TYPES.values(), RoomInfo, RoomSeq)
    }
)

# The fields that hold passwords: never shown to anyone, so they are spared
# the changes made to text for display (see rules.sanitize_secret).
SECRETS: frozenset[tuple[type[object], str]] = frozenset(
    {(Hello, "password"), (Register, "password"), (SetPassword, "old"), (SetPassword, "new")}
)
