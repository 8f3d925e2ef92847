"""What the server does for IRC connections alone: their codec, and SASL."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from trio_chat.protocol import events as ev
from trio_chat.protocol.errors import Code
from trio_chat.protocol.irc import IrcServerConnection
from trio_chat.protocol.irc.numerics import Identity
from trio_chat.protocol.rules import fold

if TYPE_CHECKING:
    from trio_chat.chat import Chat
    from trio_chat.server.config import Limits
    from trio_chat.server.session import Session


def open_codec(limits: Limits, chat: Chat) -> IrcServerConnection:
    return IrcServerConnection(
        server=limits.irc_server_name,
        history_page=limits.history_page,
        identities=functools.partial(identity, chat),
    )


def identity(chat: Chat, nick: str) -> Identity | None:
    """What ``chat`` knows of ``nick`` now (or knew, if it left lately), so
    that IRC clients see the ``nick!user@host`` ban masks match."""
    key = fold(nick)
    if member := chat.members.get(key):
        return Identity(member.user, member.host, member.account)
    gone = chat.gone.get(key)
    return None if gone is None else Identity(*gone)


async def authenticate(session: Session, account: str, password: str) -> None:
    """SASL PLAIN: ``account``'s password checked as any sign-in's is, with
    the same limits on guessing; the connection answers either way."""
    conn = session.conn
    assert isinstance(conn, IrcServerConnection)
    if not session.accounts.is_registered(account):
        message = f'"{account}" is not a registered nickname'
        session.pump.tell(session.member, ev.Error(ev.now(), Code.BAD_PASSWORD, message))
    elif await session.passwords.check(account, password.strip()):
        session.pump.tell(session.member, conn.logged_in(account, password, ev.now()))
