"""IRC commands after registration: each becomes the chat's request
(``ev``, ``moderation``, ``lookups``, ``presence``), or is answered by the
connection itself when the chat has nothing to say (PING, MOTD, user modes)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from trio_chat.protocol import events as ev
from trio_chat.protocol import lookups, notices, presence
from trio_chat.protocol import moderation as mod
from trio_chat.protocol.irc import numerics as rpl
from trio_chat.protocol.irc.message import MAX_BODY, line, number
from trio_chat.protocol.rules import fold

if TYPE_CHECKING:
    from trio_chat.protocol.irc.connection import IrcServerConnection

Handler = Callable[["IrcServerConnection", tuple[str, ...], datetime], None]
ACTION = "\x01ACTION "
ISON = "?ison"  # what ISON and USERHOST are asked about, for their answers' sake
IN_ROOM = "in "  # a question about a member of a room (KICK, MODE +o): "in #room"
INVITING = "invite "  # an INVITE, asked about the one invited: "invite #room"


def _rooms(param: str) -> list[str]:
    return [r for r in param.split(",") if r]


def _privmsg(conn: IrcServerConnection, p: tuple[str, ...], now: datetime) -> None:
    _message(conn, p, now, notice=False)


def _notice(conn: IrcServerConnection, p: tuple[str, ...], now: datetime) -> None:
    _message(conn, p, now, notice=True)


def _message(conn: IrcServerConnection, p: tuple[str, ...], now: datetime, *, notice: bool) -> None:
    if not p or not p[0]:
        if not notice:
            conn.reply(now, rpl.ERR_NORECIPIENT, "No recipient given")
        return
    if len(p) < 2 or not p[1]:
        if not notice:
            conn.reply(now, rpl.ERR_NOTEXTTOSEND, "No text to send")
        return
    target, text = p[0].split(",")[0], p[1]
    command = "NOTICE" if notice else "PRIVMSG"
    source = rpl.hostmask(conn.nick, conn.identities(conn.nick))
    if not notice and len(line(command, target, text, source=source)) > MAX_BODY:
        # It would reach others longer than a line: refused whole, never cut.
        conn.reply(now, rpl.ERR_INPUTTOOLONG, "Input line was too long")
        return
    action = text.startswith(ACTION)
    if action:
        text = text[len(ACTION) :].removesuffix("\x01")
    elif text.startswith("\x01"):  # other CTCP (VERSION, PING...): not answered
        return
    if target.startswith("#"):
        if fold(target) not in conn.joined:
            if not notice:
                conn.reply(now, rpl.ERR_CANNOTSENDTOCHAN, target, "Cannot send to channel")
            return
        say = ev.Act if action else notices.SayNotice if notice else ev.Say
        conn.request(say(text, target))
    else:
        if notice:
            conn.notice_to(target)
        tell = notices.TellNotice if notice else ev.Tell
        conn.request(tell(target, f"* {text}" if action else text))


def quick_say(conn: IrcServerConnection, raw: bytes) -> ev.Say | None:
    """``PRIVMSG #room :text`` to a room the registered client is in, the line
    clients send most, as the Say that ``_message`` would make of it, without
    taking the line apart in general; None for any other line, or one that
    has something to answer: the general path then takes it."""
    head, sep, said = raw.partition(b" :")
    if not (sep and said and head.startswith(b"PRIVMSG #")) or said[0] == 1 or raw[-1] == 13:
        return None  # 1: a CTCP (an ACTION); 13: \r, which parse strips
    if b" " in head[8:] or b"," in head or len(raw) + 2 > MAX_BODY:
        return None
    try:
        room, text = head[8:].decode(), said.decode()
    except UnicodeDecodeError:
        return None
    # Others receive the line after ":SOURCE " and with its CRLF: a message that
    # would not fit in one line so is refused whole, by the general path.
    source = rpl.hostmask(conn.nick, conn.identities(conn.nick))
    if len(raw) + len(source.encode()) + 4 > MAX_BODY or fold(room) not in conn.joined:
        return None
    return ev.Say(text, room)


def _join(conn: IrcServerConnection, p: tuple[str, ...], now: datetime) -> None:
    if p[0] == "0":
        for room in sorted(conn.joined):
            conn.request(ev.Part(room))
        return
    for room in _rooms(p[0]):
        if fold(room) not in conn.joined:
            # Counted in at once, so that what follows the JOIN goes to the chat.
            conn.joined.add(fold(room))
            conn.ask("join", room)
            conn.request(ev.Join(room))


def _part(conn: IrcServerConnection, p: tuple[str, ...], now: datetime) -> None:
    reason = p[1] if len(p) > 1 else ""
    for room in _rooms(p[0]):
        if fold(room) in conn.joined:
            conn.request(ev.Part(room, reason))
        else:
            conn.reply(now, rpl.ERR_NOTONCHANNEL, room, "You're not on that channel")


def _quit(conn: IrcServerConnection, p: tuple[str, ...], now: datetime) -> None:
    conn.request(ev.Quit(p[0] if p else ""))


def _names(conn: IrcServerConnection, p: tuple[str, ...], now: datetime) -> None:
    if not p:
        conn.reply(now, rpl.RPL_ENDOFNAMES, "*", "End of /NAMES list")
        return
    room = _rooms(p[0])[0] if _rooms(p[0]) else p[0]
    conn.ask("names", room)
    conn.request(ev.Who(room))


def _who(conn: IrcServerConnection, p: tuple[str, ...], now: datetime) -> None:
    conn.request(lookups.Find(p[0] if p else "*"))


def _whois(conn: IrcServerConnection, p: tuple[str, ...], now: datetime) -> None:
    nick = p[-1].split(",")[0]
    conn.ask("whois", nick)
    conn.request(lookups.Whois(nick))


def _list(conn: IrcServerConnection, p: tuple[str, ...], now: datetime) -> None:
    conn.request(ev.ListRooms())


def _lusers(conn: IrcServerConnection, p: tuple[str, ...], now: datetime) -> None:
    conn.request(lookups.CountUsers())


def _motd(conn: IrcServerConnection, p: tuple[str, ...], now: datetime) -> None:
    conn.reply(now, rpl.ERR_NOMOTD, "MOTD File is missing")


def _topic(conn: IrcServerConnection, p: tuple[str, ...], now: datetime) -> None:
    if len(p) < 2:
        conn.ask("topic", p[0])
    conn.request(mod.SetTopic(p[1] if len(p) > 1 else None, p[0]))


def _kick(conn: IrcServerConnection, p: tuple[str, ...], now: datetime) -> None:
    for nick in p[1].split(","):
        conn.ask(IN_ROOM + p[0], nick)
        conn.request(mod.Kick(nick, p[0], p[2] if len(p) > 2 else ""))


def _user_mode(conn: IrcServerConnection, p: tuple[str, ...], now: datetime) -> None:
    """User modes: only i (hidden from WHO by mask, see lookups.Hide)."""
    if fold(p[0]) != fold(conn.nick):
        conn.reply(now, rpl.ERR_USERSDONTMATCH, "Cannot change mode for other users")
    elif len(p) == 1:
        conn.reply(now, rpl.RPL_UMODEIS, "+i" if conn.hidden else "+")
    elif p[1].strip("+-i"):
        conn.reply(now, rpl.ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag")
    else:
        sign, hidden = "+", conn.hidden
        for letter in p[1]:  # signs, and i
            if letter in "+-":
                sign = letter
            else:
                hidden = sign == "+"
        if hidden != conn.hidden:
            conn.hidden = hidden
            conn.request(lookups.Hide(hidden))
            conn.send(now, line("MODE", conn.nick, "+i" if hidden else "-i", source=conn.nick))


def _mode(conn: IrcServerConnection, p: tuple[str, ...], now: datetime) -> None:
    target = p[0]
    if not target.startswith("#"):
        _user_mode(conn, p, now)
        return
    if len(p) == 1:
        conn.ask("mode", target)
        conn.request(mod.SetMode(None, None, target))
        return
    args = list(p[2:])
    sign = "+"
    for letter in p[1]:
        if letter in "+-":
            sign = letter
            continue
        change = sign + letter
        if change not in mod.MODES:
            conn.reply(now, rpl.ERR_UNKNOWNMODE, letter, "is an unknown mode char to me")
            continue
        if change in mod.MODES_WITH_TARGET:
            if not args:
                if letter == "b":
                    conn.ask("bans", target)
                    conn.request(mod.SetMode("+b", None, target))
                continue
            nick = args.pop(0)
            if letter != "b":
                conn.ask(IN_ROOM + target, nick)
            conn.request(mod.SetMode(change, nick, target))
        else:
            conn.request(mod.SetMode(change, None, target))


def _tagmsg(conn: IrcServerConnection, p: tuple[str, ...], now: datetime) -> None:
    """Client-only tags (typing notices...) carry nothing the chat keeps: dropped."""


def _invite(conn: IrcServerConnection, p: tuple[str, ...], now: datetime) -> None:
    conn.ask(INVITING + p[1], p[0])
    conn.ask("invite", p[1])
    conn.request(mod.Invite(p[0], p[1]))


def _kill(conn: IrcServerConnection, p: tuple[str, ...], now: datetime) -> None:
    conn.request(mod.Disconnect(p[0], p[1] if len(p) > 1 else ""))


def _oper(conn: IrcServerConnection, p: tuple[str, ...], now: datetime) -> None:
    conn.request(presence.Oper(p[0], p[1]))


def _ping(conn: IrcServerConnection, p: tuple[str, ...], now: datetime) -> None:
    conn.send(now, conn.line_from_server("PONG", conn.server, p[0]))


def _pong(conn: IrcServerConnection, p: tuple[str, ...], now: datetime) -> None:
    conn.request(ev.Pong(p[-1] if p else ""))


def _away(conn: IrcServerConnection, p: tuple[str, ...], now: datetime) -> None:
    conn.request(presence.SetAway(p[0] if p else ""))


def _ison(conn: IrcServerConnection, p: tuple[str, ...], now: datetime) -> None:
    nicks = tuple(n for param in p for n in param.split())
    conn.ask("ison", ISON)
    conn.request(lookups.Ison(nicks))


def _userhost(conn: IrcServerConnection, p: tuple[str, ...], now: datetime) -> None:
    conn.ask("userhost", ISON)
    conn.request(lookups.Ison(tuple(p[:5])))


def _chathistory(conn: IrcServerConnection, p: tuple[str, ...], now: datetime) -> None:
    """draft/chathistory for rooms, by msgid: LATEST *, BEFORE and AFTER (and
    LATEST after a msgid, answered as AFTER: the first messages after it)."""
    sub, room, refs, count = p[0].upper(), p[1], p[2:-1], p[-1]
    if not room.startswith("#"):
        _fail_history(conn, now, "INVALID_TARGET", sub, room, "Only rooms have a history here")
        return
    limit = number(count)
    after = before = None
    if sub == "LATEST" and refs == ("*",):
        pass
    elif sub in ("LATEST", "BEFORE", "AFTER") and len(refs) == 1:
        seq = _seq_of(refs[0], room)
        if seq is None:
            _fail_history(conn, now, "INVALID_PARAMS", sub, refs[0], "Unknown message reference")
            return
        after, before = (None, seq) if sub == "BEFORE" else (seq, None)
    elif sub in ("LATEST", "BEFORE", "AFTER"):
        _fail_history(conn, now, "INVALID_PARAMS", sub, room, "Bad message references")
        return
    else:
        _fail_history(conn, now, "INVALID_PARAMS", sub, room, "Unsupported subcommand")
        return
    if limit is None:
        _fail_history(conn, now, "INVALID_PARAMS", sub, count, "Bad limit")
        return
    conn.ask("history", room)
    conn.request(ev.GetHistory(room, limit, before, after))


def _seq_of(ref: str, room: str) -> int | None:
    """The number a msgid (``msgid=ROOM/SEQ``, ROOM without its #) gives in ``room``."""
    name, _, seq = ref.removeprefix("msgid=").rpartition("/")
    if not ref.startswith("msgid=") or name != fold(room)[1:]:
        return None
    return number(seq)


def _fail_history(conn: IrcServerConnection, now: datetime, *params: str) -> None:
    """FAIL CHATHISTORY CODE SUBCOMMAND ABOUT :text"""
    conn.send(now, conn.line_from_server("FAIL", "CHATHISTORY", *params))


HANDLERS: dict[str, Handler] = {
    "PRIVMSG": _privmsg,
    "NOTICE": _notice,
    "JOIN": _join,
    "PART": _part,
    "QUIT": _quit,
    "NAMES": _names,
    "WHO": _who,
    "WHOIS": _whois,
    "LIST": _list,
    "LUSERS": _lusers,
    "MOTD": _motd,
    "TOPIC": _topic,
    "KICK": _kick,
    "MODE": _mode,
    "INVITE": _invite,
    "KILL": _kill,
    "OPER": _oper,
    "PING": _ping,
    "PONG": _pong,
    "AWAY": _away,
    "ISON": _ison,
    "USERHOST": _userhost,
    "CHATHISTORY": _chathistory,
    "TAGMSG": _tagmsg,
}
# The parameters each command needs at least (ERR_NEEDMOREPARAMS below that).
NEEDS = {
    "CAP": 1,
    "PASS": 1,
    "USER": 4,
    "AUTHENTICATE": 1,
    "JOIN": 1,
    "PART": 1,
    "WHOIS": 1,
    "TOPIC": 1,
    "KICK": 2,
    "MODE": 1,
    "INVITE": 2,
    "KILL": 1,
    "OPER": 2,
    "PING": 1,
    "ISON": 1,
    "USERHOST": 1,
    "CHATHISTORY": 3,
}
