"""The entries of the shared log: what servers ask of the one chat, as bytes.

In broker mode every server appends what its members ask to one Redis
Stream, and every server applies the whole stream, in its order, to its own
copy of the chat. An entry names who asked (``origin``: the server's id and
the connection's number there) and what. Its time is the one Redis gave it
(the stream ID's milliseconds), so every copy stamps its events alike.

Sans-IO: the fields of an XADD in, an ``Entry`` out; ``decode`` raises only
``BadEntry``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from trio_chat.protocol import events as ev
from trio_chat.protocol import jsonl
from trio_chat.protocol.errors import ProtocolError

FIELD = b"c"


class BadEntry(ValueError):
    """A log entry that no server wrote (or a newer version did)."""


@dataclass(frozen=True, slots=True)
class Enter:
    """Take ``nick``; ``identified``: its password was checked by the origin;
    ``key``: of the client's reconnect token; ``user`` and ``host``: what ban
    masks see of the member (``host`` is the origin's cloak of its address);
    ``lobby``: False enters it in no room."""

    nick: str
    identified: bool = False
    resume: tuple[ev.RoomSeq, ...] = ()
    key: str | None = None
    user: str = "user"
    host: str = "unknown"
    lobby: bool = True


@dataclass(frozen=True, slots=True)
class Ask:
    request: ev.Request


@dataclass(frozen=True, slots=True)
class Leave:
    reason: str


@dataclass(frozen=True, slots=True)
class Operate:
    """The origin checked its member's password for the server operator ``name``."""

    name: str


@dataclass(frozen=True, slots=True)
class Lost:
    """The server ``instance`` stopped renewing its lease: its members are gone."""

    instance: str


@dataclass(frozen=True, slots=True)
class Account:
    """``nick`` is registered with this credential (an scrypt hash and its cost)."""

    nick: str
    salt: bytes
    hash: bytes
    n: int
    r: int
    p: int


Command = Enter | Ask | Leave | Lost | Account | Operate


@dataclass(frozen=True, slots=True)
class Entry:
    id: bytes
    origin: str  # "instance/connection"
    time: datetime
    command: Command

    @property
    def instance(self) -> str:
        return self.origin.partition("/")[0]


def origin(instance: str, connection: int) -> str:
    return f"{instance}/{connection}"


def encode(origin: str, command: Command) -> dict[bytes, bytes]:
    """The fields of the XADD that appends ``command``."""
    body: dict[str, object] = {"o": origin}
    match command:
        case Enter(nick, identified, resume, key, user, host, lobby):
            body |= {"k": "enter", "hello": jsonl.to_json(ev.Hello(nick, None, resume))}
            body |= {"identified": identified, "key": key, "user": user, "host": host}
            body |= {} if lobby else {"lobby": False}
        case Ask(request):
            body |= {"k": "ask", "request": jsonl.to_json(request)}
        case Leave(reason):
            body |= {"k": "leave", "reason": reason}
        case Operate(name):
            body |= {"k": "oper", "name": name}
        case Lost(instance):
            body |= {"k": "lost", "instance": instance}
        case Account(nick, salt, hash, n, r, p):
            body |= {"k": "account", "nick": nick, "salt": salt.hex(), "hash": hash.hex()}
            body |= {"n": n, "r": r, "p": p}
    return {FIELD: json.dumps(body, ensure_ascii=False).encode()}


def decode(entry_id: bytes, fields: dict[bytes, bytes]) -> Entry:
    try:
        body = json.loads(fields[FIELD])
        return Entry(entry_id, str(body["o"]), _time(entry_id), _command(body))
    except (KeyError, TypeError, ValueError, ProtocolError) as exc:
        raise BadEntry(f"log entry {entry_id!r}: {exc!r}") from None


def _command(body: dict[str, object]) -> Command:
    match body["k"]:
        case "enter":
            hello = jsonl.from_json(body["hello"], ev.REQUEST_TYPES)
            if not isinstance(hello, ev.Hello):
                raise BadEntry("enter without a hello")
            key = body.get("key")
            user, host = str(body.get("user", "user")), str(body.get("host", "unknown"))
            lobby = body.get("lobby") is not False
            identified = body["identified"] is True
            return Enter(hello.nick, identified, hello.resume, _text(key), user, host, lobby)
        case "ask":
            return Ask(jsonl.from_json(body["request"], ev.REQUEST_TYPES))
        case "leave":
            return Leave(str(body["reason"]))
        case "oper":
            return Operate(str(body["name"]))
        case "lost":
            return Lost(str(body["instance"]))
        case "account":
            salt, hash = bytes.fromhex(str(body["salt"])), bytes.fromhex(str(body["hash"]))
            n, r, p = (body[k] for k in "nrp")
            if not (isinstance(n, int) and isinstance(r, int) and isinstance(p, int)):
                raise BadEntry("account without its cost")
            return Account(str(body["nick"]), salt, hash, n, r, p)
    raise BadEntry(f"unknown kind {body['k']!r}")


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _time(entry_id: bytes) -> datetime:
    """The time Redis gave the entry: its ID is ``milliseconds-counter``."""
    milliseconds = int(entry_id.partition(b"-")[0])
    return datetime.fromtimestamp(milliseconds / 1000, UTC)
