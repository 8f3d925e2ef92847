"""What ``trio-chat admin`` changes in the database, seen by a running server.

The server keeps accounts and server bans in memory, so that admitting a
connection or a sign-in reads no disk. The admin command writes to the
database and raises a serial number in ``meta``; every ``recheck`` seconds
(RECHECK by default) the server reads that number, and when it moved
re-reads the accounts and the bans. So a reset password, a deleted account
or a new ban takes effect within that time, with no restart, at the cost of
reading one row a second.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime

import trio

from trio_chat.protocol import events as ev
from trio_chat.protocol import jsonl
from trio_chat.protocol.rules import fold
from trio_chat.server.accounts import Accounts, Credential
from trio_chat.server.bans import ServerBan, ServerBans
from trio_chat.server.schema import ADMIN_SERIAL, BUSY_TIMEOUT

log = logging.getLogger("trio_chat.server")

RECHECK = 1.0

Snapshot = tuple[dict[str, Credential], list[ServerBan]]


class DatabaseWatch:
    """The server bans in force, and accounts kept in step with the database.

    Each read opens a connection of its own, so there is nothing to close.
    """

    def __init__(
        self,
        path: str,
        accounts: Accounts,
        *,
        recheck: float = RECHECK,
        clock: Callable[[], datetime] = ev.now,
    ) -> None:
        self.path = path
        self.accounts = accounts
        self.recheck = recheck
        self.clock = clock
        self.bans = ServerBans()
        self._serial: int | None = None
        self._one_at_a_time = trio.CapacityLimiter(1)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Read the bans, then keep up with the admin's changes."""
        await self.refresh()
        task_status.started()
        while True:
            await trio.sleep(self.recheck)
            await self.refresh()

    async def refresh(self) -> None:
        """Re-read accounts and bans if the admin command changed them."""
        before = self.accounts.credentials
        first = self._serial is None
        try:
            read = await trio.to_thread.run_sync(self._read, limiter=self._one_at_a_time)
        except sqlite3.Error as exc:  # the bans and accounts as they were: better than none
            log.warning("could not read server bans and accounts: %s", exc)
            return
        if read is not None:
            credentials, bans = read
            changed = self._apply(before, credentials)
            self.bans = ServerBans(bans)
            if not first:
                log.info(
                    "changes by trio-chat admin read: %d account(s) changed, %d server ban(s)",
                    changed,
                    len(bans),
                )

    def address_ban(self, address: str) -> ServerBan | None:
        return self.bans.address(address, self.clock())

    def sign_in_ban(self, nick: str, *, identified: bool) -> ServerBan | None:
        return self.bans.sign_in(nick, self.clock(), identified=identified)

    async def signed_in(self, nick: str) -> None:
        """Note ``nick``'s sign-in with its password, for ``trio-chat admin accounts``."""
        row = (fold(nick), jsonl.iso_time(self.clock()))
        try:
            await trio.to_thread.run_sync(
                self._write, "INSERT OR REPLACE INTO logins VALUES (?, ?)", row
            )
        except sqlite3.Error as exc:  # only a listing suffers
            log.warning("last sign-in of %s not saved: %s", nick, exc)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)

    def _write(self, sql: str, row: tuple[str, str]) -> None:
        db = self._connect()
        try:
            db.execute(sql, row)
        finally:
            db.close()

    def _read(self) -> Snapshot | None:
        db = self._connect()
        try:
            found = db.execute("SELECT value FROM meta WHERE key = ?", (ADMIN_SERIAL,)).fetchone()
            serial = found[0] if found else 0
            if serial == self._serial:
                return None
            rows = db.execute("SELECT nick, salt, hash, n, r, p FROM accounts").fetchall()
            credentials = {nick: Credential(*rest) for nick, *rest in rows}
            bans = [
                ServerBan(kind, target, datetime.fromisoformat(expires) if expires else None, why)
                for kind, target, expires, why in db.execute(
                    "SELECT kind, target, expires, reason FROM server_bans"
                )
            ]
        finally:
            db.close()
        self._serial = serial
        return credentials, bans

    def _apply(self, before: dict[str, Credential], read: dict[str, Credential]) -> int:
        """Learn what differs between the accounts ``before`` the read and in it.

        A nickname the server registered while the read went on is not in
        ``before`` (it is learnt once saved), so it is kept, read or not.
        """
        learnt = [nick for nick, credential in read.items() if before.get(nick) != credential]
        for nick in learnt:
            self.accounts.learn(nick, read[nick])
        gone = before.keys() - read.keys()
        for nick in gone:
            self.accounts.forget(nick)
        return len(learnt) + len(gone)
