"""The rules a nickname must pass to be had: valid, free, unlike anyone
online, and not (like) a registered nickname of someone else."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from trio_chat.chat.rooms import Member
from trio_chat.protocol import events as ev
from trio_chat.protocol.errors import Code
from trio_chat.protocol.rules import fold, nick_problem
from trio_chat.protocol.skeleton import skeleton

if TYPE_CHECKING:
    from trio_chat.chat.chat import Chat


def problem(
    chat: Chat, nick: str, now: datetime, owner: Member | None = None, account: str | None = None
) -> ev.Error | None:
    """Why ``nick`` may not be had (by ``owner``, a member renaming itself;
    ``account``: that of its holder), or None."""
    if invalid := nick_problem(nick):
        return ev.Error(now, Code.NICK_INVALID, f'nickname "{nick}" is invalid: {invalid}', nick)
    if chat.members.get(fold(nick), owner) is not owner:
        return ev.Error(now, Code.NICK_TAKEN, f'nickname "{nick}" is taken, choose another', nick)
    other = chat.looks.get(skeleton(nick))
    if other is not None and other is not owner:
        message = f'nickname "{nick}" is too much like "{other.nick}", who is online'
        return ev.Error(now, Code.NICK_TAKEN, f"{message}; choose another", nick)
    like = chat.registered_as(nick)
    if like is not None and like != account:
        if like == fold(nick):
            message = f'nickname "{nick}" is registered: identify with its password'
        else:
            message = f'nickname "{nick}" is too much like the registered nickname "{like}"'
        return ev.Error(now, Code.NICK_REGISTERED, f"{message}, or choose another", nick)
    return None
