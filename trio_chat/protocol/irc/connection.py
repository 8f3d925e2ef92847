"""The server's end of an IRC connection, without I/O (the shape of ServerConnection).

Registration (CAP, PASS, NICK, USER, AUTHENTICATE) ends in one Hello to the
chat; after it, each command becomes the chat's request (``ev``,
``moderation``, ``lookups``), or is answered here when the chat has nothing
to say (CAP, PING, MOTD, user modes). Answers made here come out of
``next_event`` as ``Lines`` events, for the session to send in order with the
rest. ``encoder`` writes the chat's events as IRC lines for this client, and
``keep`` (``dropped`` for a run) says which events this client does not
receive at all.
"""

from __future__ import annotations

import base64
import binascii
import collections
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from trio_chat.protocol import events as ev
from trio_chat.protocol import moderation as mod
from trio_chat.protocol.connection import CLOSED, NEED_DATA, Sentinel, _sanitized
from trio_chat.protocol.framing import LineBuffer, LineTooLong
from trio_chat.protocol.irc import numerics as rpl
from trio_chat.protocol.irc import whose
from trio_chat.protocol.irc.commands import HANDLERS, IN_ROOM, NEEDS, quick_say
from trio_chat.protocol.irc.encoder import IrcEncoder, Lines, parted
from trio_chat.protocol.irc.message import MAX_LINE, InputError, Message, line, number, parse
from trio_chat.protocol.rules import fold, sanitize_secret

# What the server offers (CAP LS), with the value CAP LS 302 shows.
CAPS: dict[str, str] = {
    "server-time": "",
    "message-tags": "",
    "echo-message": "",
    "batch": "",
    "sasl": "PLAIN",
    "draft/chathistory": "",
    "account-tag": "",
    "away-notify": "",
}
MAX_ASKED = 64  # questions remembered at once, all subjects together
SASL_CHUNK = 400
SASL_MAX = 4 * 1024  # base64 bytes of one AUTHENTICATE exchange
# Commands that may come before registration is complete.
_BEFORE = frozenset({"CAP", "PASS", "NICK", "USER", "AUTHENTICATE", "PING", "PONG", "QUIT"})


@dataclass(frozen=True, slots=True)
class SaslPlain(ev.Request):
    """AUTHENTICATE PLAIN's credentials, for the server to check (with its
    limits on guessing) before it tells the connection (``logged_in``).
    It has no TYPE: it never travels on the chat's own wire."""

    account: str
    password: str


class IrcServerConnection:
    """One IRC client: registration, commands to requests, events to lines."""

    pings = True
    greets = False  # IRC clients get the welcome burst, not a greeting line

    def __init__(
        self,
        *,
        server: str = rpl.SERVER,
        history_page: int = 500,
        identities: rpl.Identities = rpl.nobody,
    ) -> None:
        self.server = server  # its name in the replies it sends itself
        self.history_page = history_page  # the most messages one CHATHISTORY returns
        self.identities = identities  # the chat's members, for nick!user@host and account-tag
        self._lines = LineBuffer(MAX_LINE)
        self._queue: collections.deque[ev.Request | ev.Event] = collections.deque()
        self.nick = ""  # the nickname the chat knows this client by, or the one wanted
        self.user: str | None = None
        self.realname = ""
        self._password: str | None = None  # from PASS
        self._pass_account: str | None = None
        self.caps: set[str] = set()
        self._cap_open = False  # CAP LS or REQ holds registration until CAP END
        self._cap_302 = False
        self._sasl: str | None = None  # the base64 received of an exchange under way
        self.sasl_busy = False  # a SaslPlain is being checked
        self.account: str | None = None
        self._account_password: str | None = None
        self._registered = False
        self.joined: set[str] = set()  # rooms this client is in, folded
        self.hidden = False  # user mode +i (see lookups.Hide)
        # What this client asked, for answers that depend on the question (a
        # JOIN and NAMES both get Members) or that end with a numeric naming
        # it: by folded room or nickname, oldest first (see IrcEncoder._asked).
        self.asked: collections.defaultdict[str, collections.deque[str]] = collections.defaultdict(
            collections.deque
        )
        self.quiet: set[str] = set()  # folded nicknames NOTICEd lately: no error about them
        self._seen: tuple[object, ...] = ()  # the last rename or quit kept, sent once
        self.encoder = IrcEncoder(self)

    # ------------------------------------------------------- the session's side

    @property
    def target(self) -> str:
        """The nickname numerics are addressed to ("*" until registered)."""
        return self.nick if self._registered else "*"

    @property
    def registered(self) -> bool:
        return self._registered

    @property
    def identity(self) -> tuple[str, str] | None:
        """The username and real name USER gave."""
        return None if self.user is None else (self.user, self.realname)

    def accept(self) -> None:
        self._registered = True

    def expect_password(self, nick: str, now: datetime, *, again: bool = False) -> ev.Event:
        """``nick`` is registered and no (right) password came: it is in use,
        as IRC clients understand, so they pick their alternative nickname."""
        self._password = self._pass_account = None
        self.account = self._account_password = None
        text = (
            "Nickname is registered: authenticate with SASL PLAIN or PASS nick:password,"
            " or choose another"
        )
        return self._numeric(now, rpl.ERR_NICKNAMEINUSE, nick, text)

    def logged_in(self, account: str, password: str, now: datetime) -> ev.Event:
        """SaslPlain's credentials are right: the account becomes the nickname."""
        self.sasl_busy = False
        self.account, self._account_password = account, password
        # not in the chat yet: whoever holds the nickname there is someone else
        mask = rpl.hostmask(self.nick or account, None)
        answer = Lines(
            now,
            self._line(rpl.RPL_LOGGEDIN, mask, account, f"You are now logged in as {account}")
            + self._line(rpl.RPL_SASLSUCCESS, "SASL authentication successful"),
        )
        self._register(now)  # if CAP END came meanwhile
        return answer

    def keep(self, event: ev.Event) -> bool:
        """Whether this client receives ``event`` at all; follows its own changes.

        Called once for each event it is given, in order: an IRC client does
        not see its own messages without echo-message, its JOIN comes with
        its names list, a rename or quit seen in several rooms is one line,
        and others' away changes come only with away-notify.
        """
        match event:
            case ev.Message(nick=nick) | ev.Action(nick=nick):
                return nick != self.nick or "echo-message" in self.caps
            case ev.Joined(nick=nick):
                return nick != self.nick
            case ev.Private(sender=sender, target=target):
                mine = sender == self.nick and target != self.nick
                return not mine or "echo-message" in self.caps
            case ev.NickChanged(old=old, new=new, time=time):
                if old == self.nick:
                    self.nick = new
                return self._once((old, new, time))
            case ev.Left(room=room, nick=nick, reason=reason, time=time):
                if nick == self.nick:
                    self.joined.discard(fold(room))
                    return parted(reason)
                return parted(reason) or self._once((nick, time))
            case mod.Kicked(room=room, nick=nick, target=target):
                if target == self.nick:
                    self.joined.discard(fold(room))
                if nick == self.nick:
                    self.answered(target, IN_ROOM + room)
            case mod.ModeChanged(room=room, nick=nick, target=str(target)) if nick == self.nick:
                self.answered(target, IN_ROOM + room)
        return True

    # ``keep`` for a run, decided once for the run for most clients.
    dropped = whose.dropped

    def answered(self, subject: str, kind: str) -> bool:
        """The question ``kind`` about ``subject`` has had its answer: whether it was asked."""
        return self.take(subject, lambda had: fold(had) == fold(kind)) is not None

    def take(self, subject: str, wanted: Callable[[str], bool]) -> str | None:
        """The oldest question about ``subject`` still unanswered that is
        ``wanted``: it is answered now, and forgotten."""
        asked = self.asked.get(fold(subject))
        if asked is None:
            return None
        for i, kind in enumerate(asked):
            if wanted(kind):
                del asked[i]
                if not asked:
                    del self.asked[fold(subject)]
                return kind
        return None

    def _once(self, key: tuple[object, ...]) -> bool:
        if key == self._seen:
            return False
        self._seen = key
        return True

    # -------------------------------------------------------------- reading

    def receive_data(self, data: bytes) -> None:
        self._lines.feed(data)

    def next_event(self) -> ev.Request | ev.Event | Sentinel:
        """The next request or answer, BLANK for a line that asks nothing,
        NEED_DATA or CLOSED; never raises."""
        if self._queue:
            return self._queue.popleft()
        raw = self._lines.next_line()
        if raw is None:
            return CLOSED if self._lines.at_eof else NEED_DATA
        if isinstance(raw, LineTooLong):
            return self._numeric(ev.now(), rpl.ERR_INPUTTOOLONG, "Input line was too long")
        if self._registered and (say := quick_say(self, raw)) is not None:
            return _sanitized(say)
        message = parse(raw)
        now = ev.now()
        if message is None:
            return Sentinel.BLANK
        if isinstance(message, InputError):
            if message.kind == "too_long":
                return self._numeric(now, rpl.ERR_INPUTTOOLONG, "Input line was too long")
            return Lines(
                now,
                self.line_from_server(
                    "FAIL", message.command or "*", "INVALID_UTF8", "Message rejected: not UTF-8"
                ),
            )
        self._command(message, now)
        return self._queue.popleft() if self._queue else Sentinel.BLANK

    def _command(self, m: Message, now: datetime) -> None:
        name, p = m.command, m.params
        if not self._registered and name not in _BEFORE:
            self.reply(now, rpl.ERR_NOTREGISTERED, "You have not registered")
            return
        need = NEEDS.get(name, 0)
        if len(p) < need or not all(p[:need]):
            self.reply(now, rpl.ERR_NEEDMOREPARAMS, name, "Not enough parameters")
            return
        registering = _REGISTRATION.get(name)
        if registering is not None:
            registering(self, p, now)
        elif (handler := HANDLERS.get(name)) is not None:
            handler(self, p, now)
        else:
            self.reply(now, rpl.ERR_UNKNOWNCOMMAND, name, "Unknown command")

    def request(self, request: ev.Request) -> None:
        self._queue.append(_sanitized(request) if request.TYPE else request)

    # ----------------------------------------------------------- registration

    def _cap(self, p: tuple[str, ...], now: datetime) -> None:
        sub = p[0].upper()
        if sub == "LS":
            self._cap_open = not self._registered
            self._cap_302 = self._cap_302 or (len(p) > 1 and (number(p[1]) or 0) >= 302)
            offered = " ".join(f"{c}={v}" if v and self._cap_302 else c for c, v in CAPS.items())
            self.send(now, self.line_from_server("CAP", self.target, "LS", offered))
        elif sub == "LIST":
            self.send(now, self.line_from_server("CAP", self.target, "LIST", " ".join(self.caps)))
        elif sub == "REQ":
            self._cap_open = not self._registered
            wanted = (p[1] if len(p) > 1 else "").split()
            names = [w.removeprefix("-") for w in wanted]
            ok = bool(wanted) and all(n in CAPS for n in names)
            if ok:
                for w in wanted:
                    if w.startswith("-"):
                        self.caps.discard(w[1:])
                    else:
                        self.caps.add(w)
                self.encoder.caps_changed()
            verb = "ACK" if ok else "NAK"
            self.send(now, self.line_from_server("CAP", self.target, verb, " ".join(wanted)))
        elif sub == "END":
            self._cap_open = False
            self._register(now)
        else:
            self.reply(now, "410", sub, "Invalid CAP command")

    def _pass(self, p: tuple[str, ...], now: datetime) -> None:
        if self._registered:
            self.reply(now, rpl.ERR_ALREADYREGISTERED, "You may not reregister")
            return
        given = " ".join(p)  # a password with spaces, sent without its colon
        account, sep, password = given.partition(":")
        if sep and account:
            self._pass_account, self._password = account, sanitize_secret(password)
        else:
            self._pass_account, self._password = None, sanitize_secret(given)

    def _nick(self, p: tuple[str, ...], now: datetime) -> None:
        if not p or not p[0]:
            self.reply(now, rpl.ERR_NONICKNAMEGIVEN, "No nickname given")
        elif self._registered:
            self.request(ev.ChangeNick(p[0]))
        else:
            self.nick = p[0]
            self._register(now)

    def _user(self, p: tuple[str, ...], now: datetime) -> None:
        if self._registered:
            self.reply(now, rpl.ERR_ALREADYREGISTERED, "You may not reregister")
            return
        self.user, self.realname = p[0], p[3]
        self._register(now)

    def _register(self, now: datetime) -> None:
        """Ask the chat for the nickname once everything registration needs is in."""
        if self._registered or self._cap_open or self._sasl is not None or self.sasl_busy:
            return
        if not self.nick or self.user is None:
            return
        if self.account is not None:
            self.request(ev.Hello(self.account, self._account_password))
        elif self._pass_account is not None:
            self.request(ev.Hello(self._pass_account, self._password))
        else:
            self.request(ev.Hello(self.nick, self._password))

    def _authenticate(self, p: tuple[str, ...], now: datetime) -> None:
        arg = p[0]
        if self._registered or self.account is not None:
            self.reply(now, rpl.ERR_SASLALREADY, "You have already authenticated")
        elif arg == "*":
            self._sasl = None
            self.reply(now, rpl.ERR_SASLABORTED, "SASL authentication aborted")
        elif self._sasl is None:
            if arg.upper() != "PLAIN" or "sasl" not in self.caps:
                self.reply(now, rpl.RPL_SASLMECHS, "PLAIN", "are available SASL mechanisms")
                self.reply(now, rpl.ERR_SASLFAIL, "SASL authentication failed")
                return
            self._sasl = ""
            self.send(now, b"AUTHENTICATE +\r\n")
        elif len(arg) > SASL_CHUNK or len(self._sasl) + len(arg) > SASL_MAX:
            self._sasl = None
            self.reply(now, rpl.ERR_SASLTOOLONG, "SASL message too long")
        elif len(arg) == SASL_CHUNK:
            self._sasl += arg
        else:
            self._sasl_plain(self._sasl + ("" if arg == "+" else arg), now)

    def _sasl_plain(self, data: str, now: datetime) -> None:
        self._sasl = None
        try:
            _authzid, account, password = base64.b64decode(data, validate=True).decode().split("\0")
        except (ValueError, binascii.Error, UnicodeDecodeError):
            self.reply(now, rpl.ERR_SASLFAIL, "SASL authentication failed")
            return
        self.sasl_busy = True
        self.request(SaslPlain(account, password))

    def sasl_failed(self) -> None:
        """The SaslPlain was refused (the encoder has said so)."""
        self.sasl_busy = False

    # --------------------------------------------------------------- replies

    def _line(self, numeric: str, *params: str) -> bytes:
        return self.line_from_server(numeric, self.target, *params)

    def line_from_server(self, command: str, *params: str) -> bytes:
        return line(command, *params, source=self.server)

    def _numeric(self, now: datetime, numeric: str, *params: str) -> Lines:
        return Lines(now, self._line(numeric, *params))

    def reply(self, now: datetime, numeric: str, *params: str) -> None:
        self._queue.append(self._numeric(now, numeric, *params))

    def send(self, now: datetime, data: bytes) -> None:
        self._queue.append(Lines(now, data))

    def ask(self, kind: str, subject: str) -> None:
        """Remember a question about ``subject`` whose answer depends on it."""
        # Bounded in all, not by subject: a question may hold a line's worth
        # of bytes (a room named in full), so 64 per subject would let one
        # client keep 64 x 64 lines. A client that asks without end, or about
        # what is never answered, holds little; an answer left out is only
        # less precise.
        if sum(map(len, self.asked.values())) < MAX_ASKED:
            self.asked[fold(subject)].append(kind)

    def notice_to(self, nick: str) -> None:
        """A NOTICE went to ``nick``: an error about it is not answered."""
        if len(self.quiet) >= MAX_ASKED:
            self.quiet.clear()
        self.quiet.add(fold(nick))


_REGISTRATION = {
    "CAP": IrcServerConnection._cap,
    "PASS": IrcServerConnection._pass,
    "NICK": IrcServerConnection._nick,
    "USER": IrcServerConnection._user,
    "AUTHENTICATE": IrcServerConnection._authenticate,
}
