"""The numeric replies the server sends, ISUPPORT, and the chat's errors as numerics."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from trio_chat.protocol.errors import Code
from trio_chat.protocol.moderation import TOPIC_MAX
from trio_chat.protocol.presence import AWAY_MAX
from trio_chat.protocol.rules import NICK_MAX

SERVER = "trio-chat"  # the server's name in every reply it sends itself
HOST = "trio-chat"  # the host of a nickname the chat no longer knows (it matches no ban)
VERSION = "trio-chat-1"

RPL_WELCOME = "001"
RPL_YOURHOST = "002"
RPL_CREATED = "003"
RPL_MYINFO = "004"
RPL_ISUPPORT = "005"
RPL_UMODEIS = "221"
RPL_LUSERCLIENT = "251"
RPL_LUSEROP = "252"
RPL_LUSERUNKNOWN = "253"
RPL_LUSERCHANNELS = "254"
RPL_LUSERME = "255"
RPL_LOCALUSERS = "265"
RPL_GLOBALUSERS = "266"
RPL_AWAY = "301"
RPL_USERHOST = "302"
RPL_ISON = "303"
RPL_UNAWAY = "305"
RPL_NOWAWAY = "306"
RPL_WHOISUSER = "311"
RPL_WHOISSERVER = "312"
RPL_WHOISOPERATOR = "313"
RPL_ENDOFWHO = "315"
RPL_ENDOFWHOIS = "318"
RPL_WHOISCHANNELS = "319"
RPL_WHOISACCOUNT = "330"
RPL_LISTSTART = "321"
RPL_LIST = "322"
RPL_LISTEND = "323"
RPL_CHANNELMODEIS = "324"
RPL_CREATIONTIME = "329"
RPL_NOTOPIC = "331"
RPL_TOPIC = "332"
RPL_TOPICWHOTIME = "333"
RPL_INVITING = "341"
RPL_WHOREPLY = "352"
RPL_NAMREPLY = "353"
RPL_ENDOFNAMES = "366"
RPL_BANLIST = "367"
RPL_ENDOFBANLIST = "368"
RPL_MOTD = "372"
RPL_MOTDSTART = "375"
RPL_ENDOFMOTD = "376"
RPL_YOUREOPER = "381"
ERR_NOSUCHNICK = "401"
ERR_NOSUCHCHANNEL = "403"
ERR_CANNOTSENDTOCHAN = "404"
ERR_TOOMANYCHANNELS = "405"
ERR_NORECIPIENT = "411"
ERR_NOTEXTTOSEND = "412"
ERR_INPUTTOOLONG = "417"
ERR_UNKNOWNCOMMAND = "421"
ERR_NOMOTD = "422"
ERR_NONICKNAMEGIVEN = "431"
ERR_ERRONEUSNICKNAME = "432"
ERR_NICKNAMEINUSE = "433"
ERR_USERNOTINCHANNEL = "441"
ERR_NOTONCHANNEL = "442"
ERR_USERONCHANNEL = "443"
ERR_NOTREGISTERED = "451"
ERR_NEEDMOREPARAMS = "461"
ERR_ALREADYREGISTERED = "462"
ERR_PASSWDMISMATCH = "464"
ERR_NOOPERHOST = "491"
ERR_UNKNOWNMODE = "472"
ERR_INVITEONLYCHAN = "473"
ERR_BANNEDFROMCHAN = "474"
ERR_NOPRIVILEGES = "481"
ERR_CHANOPRIVSNEEDED = "482"
ERR_UMODEUNKNOWNFLAG = "501"
ERR_USERSDONTMATCH = "502"
RPL_LOGGEDIN = "900"
RPL_SASLSUCCESS = "903"
ERR_SASLFAIL = "904"
ERR_SASLTOOLONG = "905"
ERR_SASLABORTED = "906"
ERR_SASLALREADY = "907"
RPL_SASLMECHS = "908"

ISUPPORT: tuple[str, ...] = (
    "CASEMAPPING=ascii",
    "CHANTYPES=#",
    "PREFIX=(ov)@+",
    "CHANMODES=b,,,imnt",
    f"NICKLEN={NICK_MAX}",
    f"CHANNELLEN={NICK_MAX + 1}",
    f"TOPICLEN={TOPIC_MAX}",
    "LINELEN=512",
    "NETWORK=trio-chat",
    "UTF8ONLY",
    f"AWAYLEN={AWAY_MAX}",
    "MODES=1",
    "TARGMAX=PRIVMSG:1,NOTICE:1,JOIN:,PART:,NAMES:1,WHOIS:1",
)

# The chat's error codes, as numerics; those about a room or nickname name it.
ERRORS: dict[str, str] = {
    Code.NICK_TAKEN: ERR_NICKNAMEINUSE,
    Code.NICK_REGISTERED: ERR_NICKNAMEINUSE,
    Code.NICK_INVALID: ERR_ERRONEUSNICKNAME,
    Code.NO_SUCH_NICK: ERR_NOSUCHNICK,
    Code.ROOM_INVALID: ERR_NOSUCHCHANNEL,
    Code.NOT_IN_ROOM: ERR_NOTONCHANNEL,
    Code.TOO_MANY_ROOMS: ERR_TOOMANYCHANNELS,
    Code.BAD_PASSWORD: ERR_PASSWDMISMATCH,
    Code.TOO_MANY_ATTEMPTS: ERR_PASSWDMISMATCH,
    Code.PASSWORD_REQUIRED: ERR_NICKNAMEINUSE,
    Code.NOT_REGISTERED: ERR_NOTREGISTERED,
    Code.ALREADY_REGISTERED: ERR_ALREADYREGISTERED,
    Code.NOT_OPERATOR: ERR_CHANOPRIVSNEEDED,
    Code.BANNED: ERR_BANNEDFROMCHAN,
    Code.INVITE_ONLY: ERR_INVITEONLYCHAN,
    Code.MODERATED: ERR_CANNOTSENDTOCHAN,
    Code.NOT_SERVER_OPERATOR: ERR_NOOPERHOST,
    Code.LINE_TOO_LONG: ERR_INPUTTOOLONG,
    Code.UNKNOWN_COMMAND: ERR_UNKNOWNCOMMAND,
}


class Identity(NamedTuple):
    """What the chat knows of a member besides its nickname: its username
    (IRC's, or its mode's name), its host (a cloak of its address) and its
    account when identified."""

    user: str
    host: str
    account: str | None = None


# The server's lookup of a member by nickname, at the time a line is written.
Identities = Callable[[str], Identity | None]


def nobody(nick: str) -> Identity | None:
    return None


def hostmask(nick: str, identity: Identity | None) -> str:
    """``nick!user@host``, as ban masks see the member (see chat/masks.py)."""
    if identity is None:
        return f"{nick}!{nick}@{HOST}"
    return f"{nick}!{identity.user}@{identity.host}"
