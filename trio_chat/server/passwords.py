"""One connection's dealings with registered nicknames: sign-in checks,
registering, and changing a password.

Hashing is slow on purpose and runs in worker threads (see ``accounts.py``),
so these are the only awaits of a session besides reading. Every answer goes
out through the pump, in order with whatever else the member receives.
"""

from __future__ import annotations

import logging
import math

from trio_chat.chat import Member
from trio_chat.protocol import events as ev
from trio_chat.protocol.errors import Code
from trio_chat.protocol.rules import fold
from trio_chat.server.accounts import MIN_PASSWORD, Accounts
from trio_chat.server.addresses import Source
from trio_chat.server.front import Front, Unavailable
from trio_chat.server.logformat import fields
from trio_chat.server.pump import Pump

log = logging.getLogger("trio_chat.server.session")


class Passwords:
    def __init__(
        self, accounts: Accounts, pump: Pump, member: Member, source: Source, address: str
    ) -> None:
        self.accounts = accounts
        self.pump = pump
        self.member = member
        self.source = source
        self.address = address

    async def check(self, nick: str, password: str) -> bool:
        """Whether ``password`` is ``nick``'s, within the limits on guessing;
        the member is told when it is not."""
        checked = await self.accounts.check(nick, password, self.source)
        if checked.right:
            return True
        if checked.wait:
            log.warning(
                "password for %s from %s refused: too many failures",
                nick,
                self.address,
                extra=self._fields("too_many_attempts", nick),
            )
            message = f"too many failed attempts; try again in {math.ceil(checked.wait)} s"
            self._fail(Code.TOO_MANY_ATTEMPTS, message)
        else:
            log.warning(
                "wrong password for %s from %s",
                nick,
                self.address,
                extra=self._fields("wrong_password", nick),
            )
            self._fail(Code.BAD_PASSWORD, f'wrong password for "{nick}"')
        return False

    async def register(self, front: Front, password: str) -> None:
        nick = self.member.nick
        like = self.accounts.like(nick)
        if like == fold(nick):
            message = f'"{nick}" is registered already; /password OLD NEW changes its password'
            self._fail(Code.NICK_REGISTERED, message)
        elif like is not None:
            message = f'"{nick}" is too much like the registered nickname "{like}"'
            self._fail(Code.NICK_REGISTERED, message)
        elif self._strong_enough(password) and self._changes_allowed():
            try:
                await self.accounts.create(nick, password)
            except Unavailable as exc:
                self._fail(Code.UNAVAILABLE, f"not registered: {exc}")
                return
            front.registered(self.member)
            log.info(
                "%s registered from %s", nick, self.address, extra=self._fields("registered", nick)
            )
            text = f'"{nick}" is registered: from now on it takes your password'
            self.pump.tell(self.member, ev.Notice(ev.now(), text))

    async def change(self, old: str, new: str) -> None:
        nick = self.member.nick
        if not self.accounts.is_registered(nick):
            message = f'"{nick}" is not registered; /register PASSWORD protects it'
            self._fail(Code.BAD_REQUEST, message)
        elif self._strong_enough(new) and self._changes_allowed() and await self.check(nick, old):
            try:
                await self.accounts.change(nick, new)
            except Unavailable as exc:
                self._fail(Code.UNAVAILABLE, f"password not changed: {exc}")
                return
            log.info(
                "%s changed its password from %s",
                nick,
                self.address,
                extra=self._fields("password_changed", nick),
            )
            self.pump.tell(self.member, ev.Notice(ev.now(), "password changed"))

    async def operate(self, front: Front, name: str, password: str) -> None:
        """Make the member a server operator, if ``name`` is one and
        ``password`` is its account's (checked like any sign-in)."""
        if fold(name) not in front.chat.operators:
            message = f'"{name}" is not a server operator'
            self._fail(Code.NOT_SERVER_OPERATOR, message)
        elif await self.check(name, password):
            log.info(
                "%s became server operator %s from %s",
                self.member.nick,
                name,
                self.address,
                extra=self._fields("server_operator", self.member.nick),
            )
            front.operator(self.member, name)

    def _fields(self, event: str, nick: str) -> dict[str, object]:
        return fields(event, address=self.address, nick=nick)

    def _changes_allowed(self) -> bool:
        """Registrations and password changes, limited per address."""
        wait = self.accounts.change_wait(self.source)
        if wait:
            message = (
                "too many registrations or password changes from your address; "
                f"try again in {math.ceil(wait)} s"
            )
            self._fail(Code.TOO_MANY_ATTEMPTS, message)
        return not wait

    def _strong_enough(self, password: str) -> bool:
        if len(password) >= MIN_PASSWORD:
            return True
        self._fail(Code.WEAK_PASSWORD, f"a password needs at least {MIN_PASSWORD} characters")
        return False

    def _fail(self, code: Code, message: str) -> None:
        self.pump.tell(self.member, ev.Error(ev.now(), code, message))
