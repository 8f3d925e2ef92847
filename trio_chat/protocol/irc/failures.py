"""The chat's errors as IRC numerics, chosen by the question they answer.

An error names its room or nickname (``ev.Error.subject``); what the client
asked about it (``IrcServerConnection.asked``) says which numeric fits: the
chat's ``not_in_room`` is 442 to a PART, 403 to a TOPIC of a room that does
not exist, 441 to a KICK of someone not there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trio_chat.protocol import events as ev
from trio_chat.protocol.errors import Code
from trio_chat.protocol.irc import numerics as rpl
from trio_chat.protocol.irc.commands import IN_ROOM, INVITING
from trio_chat.protocol.irc.message import line
from trio_chat.protocol.rules import fold

if TYPE_CHECKING:
    from trio_chat.protocol.irc.encoder import IrcEncoder

# Which questions (see IrcServerConnection.asked) each kind of answer may answer.
LISTED = frozenset({"join", "names"})
STATE = frozenset({"topic", "mode", "bans"})
WHOIS = frozenset({"whois"})
INVITE = frozenset({"invite"})
ONLINE = frozenset({"ison", "userhost"})
HISTORY = frozenset({"history"})
FAILED: dict[str, frozenset[str]] = {
    Code.NOT_IN_ROOM: frozenset({"names", "topic", "mode", "bans", "history", "invite"}),
    Code.ROOM_INVALID: frozenset({"join", "names", "topic", "mode", "bans"}),
    Code.TOO_MANY_ROOMS: frozenset({"join"}),
    Code.BANNED: frozenset({"join"}),
    Code.INVITE_ONLY: frozenset({"join"}),
    Code.NOT_OPERATOR: STATE | INVITE,
    Code.NO_SUCH_NICK: WHOIS,
}


def error_lines(enc: IrcEncoder, e: ev.Error) -> bytes:
    """``e`` as the numeric IRC clients know, by what it answers."""
    conn = enc.conn
    n = enc.numeric
    subject = e.subject
    if conn.sasl_busy and e.code in (Code.BAD_PASSWORD, Code.TOO_MANY_ATTEMPTS):
        conn.sasl_failed()
        return n(rpl.ERR_SASLFAIL, f"SASL authentication failed: {e.message}")
    if subject is None:
        numeric = rpl.ERRORS.get(e.code)
        if numeric is None:
            return line("NOTICE", conn.target, e.message, source=conn.server)
        return n(numeric, e.message)
    asked = enc.answering(subject, FAILED.get(e.code, frozenset()))
    if e.code == Code.NO_SUCH_NICK:
        if asked is None and fold(subject) in conn.quiet:
            conn.quiet.discard(fold(subject))
            return b""
        _asked_in(enc, subject, INVITING)
        out = n(rpl.ERR_NOSUCHNICK, subject, "No such nick/channel")
        if asked == "whois":
            out += n(rpl.RPL_ENDOFWHOIS, subject, "End of /WHOIS list")
        return out
    if asked == "names":
        return n(rpl.RPL_ENDOFNAMES, subject, "End of /NAMES list")
    if asked == "history":
        text = "Messages could not be retrieved"
        return line("FAIL", "CHATHISTORY", "INVALID_TARGET", subject, text, source=conn.server)
    if asked == "join":
        conn.joined.discard(fold(subject))
    numeric = rpl.ERRORS.get(e.code)
    if e.code == Code.NOT_IN_ROOM and not subject.startswith("#"):
        # a member who is not in the room an operator named (KICK, MODE +o)
        room = _asked_in(enc, subject, IN_ROOM)
        if room is not None:
            return n(rpl.ERR_USERNOTINCHANNEL, subject, room, "They aren't on that channel")
    elif e.code == Code.BAD_REQUEST and (room := _asked_in(enc, subject, INVITING)):
        return n(rpl.ERR_USERONCHANNEL, subject, room, "is already on channel")
    elif e.code == Code.NOT_IN_ROOM and asked != "invite" and fold(subject) not in conn.joined:
        # the chat's answer to what a room's member asks of a room it is
        # not in (TOPIC, MODE, KICK): there is no such room
        numeric = rpl.ERR_NOSUCHCHANNEL
    elif e.code == Code.BANNED and asked != "join":
        numeric = rpl.ERR_CANNOTSENDTOCHAN
    if numeric is None:
        return line("NOTICE", conn.target, e.message, source=conn.server)
    return n(numeric, subject, e.message)


def _asked_in(enc: IrcEncoder, nick: str, prefix: str) -> str | None:
    """The room of the oldest question still unanswered about ``nick`` of
    those that name one (KICK and MODE: ``IN_ROOM``, INVITE: ``INVITING``),
    answered now."""
    kind = enc.conn.take(nick, lambda k: k.startswith(prefix))
    return None if kind is None else kind.removeprefix(prefix)
