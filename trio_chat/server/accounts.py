"""Registered nicknames: password hashes, and limits on guessing them."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import trio

from trio_chat.protocol.rules import fold

MIN_PASSWORD = 8
# Failed attempts allowed per window, per account and per IP address.
FAILURE_WINDOW = 600.0
FAILURES_PER_ACCOUNT = 5
FAILURES_PER_ADDRESS = 20


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


class Accounts:
    """Which nicknames are registered, checked without a disk read.

    Hashing runs in a worker thread: scrypt takes tens of milliseconds by
    design, and the chat must not stall for it.
    """

    def __init__(
        self, credentials: dict[str, Credential] | None = None, save: Save | None = None
    ) -> None:
        self._credentials = dict(credentials or {})
        self._save = save
        self._failures: dict[str, deque[float]] = {}

    def is_registered(self, nick: str) -> bool:
        return fold(nick) in self._credentials

    async def create(self, nick: str, password: str) -> None:
        credential = await trio.to_thread.run_sync(Credential.make, password)
        await self._store(nick, credential)

    async def verify(self, nick: str, password: str) -> bool:
        credential = self._credentials.get(fold(nick))
        if credential is None:
            return False
        return await trio.to_thread.run_sync(credential.matches, password)

    async def change(self, nick: str, new: str) -> None:
        await self.create(nick, new)

    async def _store(self, nick: str, credential: Credential) -> None:
        if self._save is not None:
            await self._save(fold(nick), credential)
        self._credentials[fold(nick)] = credential

    # ------------------------------------------------------------ guessing

    def retry_after(self, nick: str, address: str) -> float:
        """Seconds until another attempt is allowed (0: allowed now)."""
        now = trio.current_time()
        waits = [
            self._wait(key, limit, now)
            for key, limit in (
                (f"nick:{fold(nick)}", FAILURES_PER_ACCOUNT),
                (f"ip:{address}", FAILURES_PER_ADDRESS),
            )
        ]
        return max(waits)

    def failed(self, nick: str, address: str) -> None:
        now = trio.current_time()
        for key in (f"nick:{fold(nick)}", f"ip:{address}"):
            self._failures.setdefault(key, deque()).append(now)

    def _wait(self, key: str, limit: int, now: float) -> float:
        times = self._failures.get(key)
        if not times:
            return 0.0
        while times and times[0] <= now - FAILURE_WINDOW:
            times.popleft()
        if not times:
            del self._failures[key]
            return 0.0
        return times[0] + FAILURE_WINDOW - now if len(times) >= limit else 0.0
