"""Registered nicknames: password hashes, and limits on guessing them."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

import trio

from trio_chat.protocol.rules import fold
from trio_chat.protocol.skeleton import skeleton
from trio_chat.server.addresses import Source
from trio_chat.server.guessing import Guard

MIN_PASSWORD = 8

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Credential:
    """An scrypt hash with the salt and cost it was made with."""

    salt: bytes
    hash: bytes
    n: int = 2**14
    r: int = 8
    p: int = 1

    @classmethod
    def make(cls, password: str) -> Credential:
        salt = os.urandom(16)
        probe = cls(salt, b"")
        return cls(salt, probe.digest(password))

    def digest(self, password: str) -> bytes:
        return hashlib.scrypt(
            password.encode(), salt=self.salt, n=self.n, r=self.r, p=self.p, dklen=32
        )

    def matches(self, password: str) -> bool:
        return hmac.compare_digest(self.digest(password), self.hash)


# Persists a credential; None when accounts live in memory only.
Save = Callable[[str, Credential], Awaitable[None]]


class Checked(NamedTuple):
    """The outcome of a limited password check."""

    right: bool
    wait: float = 0.0  # > 0: refused unchecked, this many seconds before another try


class Accounts:
    """Which nicknames are registered, checked without a disk read.

    Hashing runs in worker threads, at most ``hashing`` at once: scrypt takes
    tens of milliseconds of CPU by design, and neither the chat nor the
    machine may stall for it, however many clients ask.
    """

    def __init__(
        self,
        credentials: dict[str, Credential] | None = None,
        save: Save | None = None,
        *,
        hashing: int = 2,
    ) -> None:
        self._credentials = dict(credentials or {})
        self._save = save
        # skeleton -> registered nickname (folded); the first one wins, should
        # two registered before look-alikes were refused
        self._like: dict[str, str] = {}
        for nick in self._credentials:
            self._like.setdefault(skeleton(nick), nick)
        self.hashing = trio.CapacityLimiter(hashing)
        self.guard = Guard()

    def is_registered(self, nick: str) -> bool:
        return fold(nick) in self._credentials

    @property
    def credentials(self) -> dict[str, Credential]:
        """Every registered nickname (folded) with its credential, a copy."""
        return dict(self._credentials)

    def like(self, nick: str) -> str | None:
        """The registered nickname (folded) that ``nick`` is, or looks like."""
        if fold(nick) in self._credentials:
            return fold(nick)
        return self._like.get(skeleton(nick))

    async def create(self, nick: str, password: str) -> None:
        credential = await self._hash(Credential.make, password)
        await self._store(nick, credential)

    async def verify(self, nick: str, password: str) -> bool:
        """Whether ``password`` is right, with no limit on guessing (see ``check``)."""
        credential = self._credentials.get(fold(nick))
        if credential is None:
            return False
        return await self._hash(credential.matches, password)

    async def check(self, nick: str, password: str, source: Source) -> Checked:
        """``verify``, within the limits on guessing from ``source``."""
        attempt = self.guard.reserve(fold(nick), source, trio.current_time())
        if isinstance(attempt, float):
            return Checked(False, attempt)
        if await self.verify(nick, password):
            self.guard.succeeded(attempt)
            return Checked(True)
        return Checked(False)

    def change_wait(self, source: Source) -> float:
        """Count a registration or password change from ``source``: 0 if allowed,
        else the seconds to wait."""
        return self.guard.change(source, trio.current_time())

    async def change(self, nick: str, new: str) -> None:
        await self.create(nick, new)

    async def _hash(self, function: Callable[[str], T], password: str) -> T:
        return await trio.to_thread.run_sync(function, password, limiter=self.hashing)

    async def _store(self, nick: str, credential: Credential) -> None:
        if self._save is not None:
            await self._save(fold(nick), credential)
        self.learn(nick, credential)

    def learn(self, nick: str, credential: Credential) -> None:
        """``nick`` is registered with ``credential`` (saved already)."""
        self._credentials[fold(nick)] = credential
        self._like.setdefault(skeleton(fold(nick)), fold(nick))

    def forget(self, nick: str) -> None:
        """``nick`` is no longer registered (deleted from the database already)."""
        self._credentials.pop(fold(nick), None)
        if self._like.get(skeleton(fold(nick))) == fold(nick):
            del self._like[skeleton(fold(nick))]
            for other in self._credentials:  # a look-alike registered before takes its place
                self._like.setdefault(skeleton(other), other)
