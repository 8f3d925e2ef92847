"""Notices: messages that no program may answer automatically (IRC's NOTICE).

They are messages in every other way: stored, replayed and shown like the
ones they extend, so a reader that does not tell them apart shows them as
messages. IRC clients receive them as NOTICE, and no error ever answers one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from trio_chat.protocol.events import Message, Private, Say, Tell


@dataclass(frozen=True, slots=True)
class SayNotice(Say):
    TYPE: ClassVar[str] = "notice"


@dataclass(frozen=True, slots=True)
class TellNotice(Tell):
    TYPE: ClassVar[str] = "private_notice"


@dataclass(frozen=True, slots=True)
class NoticeMessage(Message):
    TYPE: ClassVar[str] = "notice_message"


@dataclass(frozen=True, slots=True)
class PrivateNotice(Private):
    TYPE: ClassVar[str] = "private_notice"
