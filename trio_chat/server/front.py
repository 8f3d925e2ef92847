"""The chat as sessions see it: where their requests go.

A session hands each request to its server's ``Front`` and never waits for
the answer, which reaches the member through the pump like everything else.
``LocalFront`` is the single-process server: it asks the chat at once and
posts the effects. Broker mode (``trio_chat.cluster``) has another Front,
which sends the request through a log that several servers share and asks
the chat when it comes back in the log's order. The chat cannot tell which.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import trio

from trio_chat.chat import Chat, Member
from trio_chat.protocol import events as ev
from trio_chat.server.pump import Pump


class Unavailable(Exception):
    """The chat cannot be reached for now (broker mode: Redis is down)."""


class ChatLost(Exception):
    """The server can no longer serve its chat and must stop (broker mode:
    it lost its place among the servers)."""


class Front(Protocol):
    chat: Chat
    pump: Pump

    @property
    def cloak_key(self) -> bytes | None:
        """The key of members' cloaks when the front has one (broker mode:
        the chat's, so that all its servers cloak alike); else None."""
        ...

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Whatever the front does in the background, until cancelled."""
        ...

    async def drain(self) -> None:
        """Once no session is left: wait until what they asked is carried out."""
        ...

    async def enter(
        self,
        member: Member,
        nick: str,
        *,
        identified: bool,
        resume: Sequence[ev.RoomSeq],
        key: str | None = None,
        lobby: bool = True,
    ) -> None:
        """Ask for ``nick``; on return ``member.present`` says whether it got it.
        ``key``: of the client's reconnect token; ``lobby``: False enters it
        in no room (see ``Chat.enter``)."""
        ...

    def apply(self, member: Member, request: ev.Request) -> None:
        """Carry out ``request``, after those ``member`` made before."""
        ...

    def leave(self, member: Member, reason: str) -> None:
        """``member``'s connection is ending."""
        ...

    def registered(self, member: Member) -> None:
        """``member`` has registered its nickname (its credential is saved)."""
        ...

    def operator(self, member: Member, name: str) -> None:
        """``member`` gave the password of the server operator ``name``."""
        ...

    def shutdown(self) -> None:
        """The server is shutting down."""
        ...

    async def wait_for_room(self) -> None:
        """Wait while the chat is far behind, so readers slow to its pace."""
        ...


class LocalFront:
    """One server alone: the chat is asked at once, in the order of calls."""

    cloak_key = None

    def __init__(self, chat: Chat, pump: Pump) -> None:
        self.chat = chat
        self.pump = pump

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()

    async def drain(self) -> None:
        pass

    async def enter(
        self,
        member: Member,
        nick: str,
        *,
        identified: bool,
        resume: Sequence[ev.RoomSeq],
        key: str | None = None,
        lobby: bool = True,
    ) -> None:
        effects = self.chat.enter(
            member, nick, ev.now(), identified=identified, resume=resume, key=key, lobby=lobby
        )
        self.pump.post(effects)

    def apply(self, member: Member, request: ev.Request) -> None:
        self.pump.post(self.chat.apply(member, request, ev.now()))

    def leave(self, member: Member, reason: str) -> None:
        self.pump.post(self.chat.leave(member, reason, ev.now()))

    def registered(self, member: Member) -> None:
        self.chat.identified(member)

    def operator(self, member: Member, name: str) -> None:
        self.pump.post(self.chat.operate(member, name, ev.now()))

    def shutdown(self) -> None:
        self.chat.shutdown()

    async def wait_for_room(self) -> None:
        await self.pump.wait_for_room()
