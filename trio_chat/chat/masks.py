"""Ban masks: ``nick!user@host`` with ``*`` and ``?``, or ``$a:ACCOUNT``; and the
same ``*`` and ``?`` patterns for finding members by nickname (``glob``).

A member's own mask is its nickname, its ``user`` (an IRC username, or the
mode's name) and its ``host``, a cloak of its address made by the server.
"""

from __future__ import annotations

import functools
import re

from trio_chat.chat.rooms import Member
from trio_chat.protocol.rules import fold, nick_problem

ACCOUNT_MASK = "$a:"
MASK_MAX = 100  # characters of a ban mask


def mask_of(member: Member) -> str:
    return f"{member.nick}!{member.user}@{member.host}"


def matches(mask: str, member: Member) -> bool:
    """Whether ban ``mask`` (``nick!user@host`` with ``*`` and ``?``, or
    ``$a:ACCOUNT``) matches ``member``, ignoring case."""
    if mask[: len(ACCOUNT_MASK)].lower() == ACCOUNT_MASK:
        return member.account is not None and member.account == fold(mask[len(ACCOUNT_MASK) :])
    return _pattern(fold(mask)).fullmatch(fold(mask_of(member))) is not None


def glob(mask: str) -> re.Pattern[str]:
    """What ``mask`` (``*``: any characters, ``?``: one) matches, for ``fullmatch``."""
    # ".*a.*a.*b" backtracks through every way of placing each a: a 16
    # character mask took seconds, holding up the whole chat. Each piece
    # between stars is taken where it first fits, in an atomic group that
    # never tries again (the first fit leaves the most room for the rest),
    # so matching costs at most the mask's length times the name's.
    first, *middle = mask.split("*")
    if not middle:
        return re.compile(_piece(first), re.DOTALL)
    *middle, last = middle
    found = "".join(f"(?>.*?{_piece(p)})" for p in middle if p)
    return re.compile(f"{_piece(first)}{found}.*{_piece(last)}", re.DOTALL)


# A ban's mask is at most MASK_MAX characters, and each is matched again on
# every join and line said in its room.
_pattern = functools.lru_cache(maxsize=1024)(glob)


def _piece(text: str) -> str:
    return "".join("." if c == "?" else re.escape(c) for c in text)


def is_mask(target: str) -> bool:
    return "!" in target or "@" in target or target.lower().startswith(ACCOUNT_MASK)


def mask_problem(mask: str) -> str | None:
    if not mask or len(mask) > MASK_MAX or any(c.isspace() for c in mask):
        return f"a mask is 1 to {MASK_MAX} characters with no spaces"
    if mask.lower().startswith(ACCOUNT_MASK) and nick_problem(mask[len(ACCOUNT_MASK) :]):
        return "$a: is followed by a registered nickname"
    return None
