"""Limits on guessing passwords, kept so that a stranger cannot lock the owner out.

Each password check reserves an attempt before the (slow) hash is computed,
so that many checks at once cannot all slip under a limit; a right password
gives its attempt back. Failures are counted in a sliding window of
``WINDOW`` seconds under three keys:

- per account and source (address group): ``PER_ACCOUNT_SOURCE`` failures
  close that account to that source;
- per source, over every account: ``PER_SOURCE`` failures close every
  account to that source (one guesser cannot try each account in turn);
- per account, over every source: past ``PER_ACCOUNT`` failures the account
  is open only to the sources that signed in to it before (the last
  ``KNOWN_SOURCES`` of them), so a guesser with many addresses gets a
  bounded number of tries while the owner, from its usual address, still
  gets in.

A ``--limit-exempt`` source (a proxy: everyone's address) is not counted per
source over every account, since one guesser would then close every account
to everyone behind it; the per-account counts hold for it, and it is never a
source that signed in before.

Registrations and password changes hash a new password, which costs as much
as a check: ``CHANGES_PER_MINUTE`` per source are allowed.

Memory: a key is forgotten once its newest attempt has left its window, and
an attempt is only counted while its keys are under their limits, so each
key holds at most its limit in timestamps, and the tables hold at most one
key per attempt made within a window. Attempts are checks waiting for or
taking a hashing slot (at most one per connection), so the tables are
bounded by the number of connections plus the checks the hashing capacity
can make in ten minutes.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Hashable
from dataclasses import dataclass, field

from trio_chat.server.addresses import Source

WINDOW = 600.0
PER_ACCOUNT_SOURCE = 5
PER_SOURCE = 20
PER_ACCOUNT = 50
KNOWN_SOURCES = 4
CHANGES_PER_MINUTE = 3
CHANGE_WINDOW = 60.0


class Counters:
    """Timestamps per key within a sliding window."""

    def __init__(self, window: float) -> None:
        self.window = window
        # Ordered by each key's last addition (a key added to moves to the end),
        # so expired keys gather at the front.
        self._times: OrderedDict[Hashable, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._times)

    def wait(self, key: Hashable, limit: int, now: float) -> float:
        """Seconds until ``key`` is under ``limit`` again (0: it is now)."""
        times = self._times.get(key)
        if times is None:
            return 0.0
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) < limit:
            return 0.0
        return times[-limit] + self.window - now

    def add(self, key: Hashable, now: float) -> None:
        self._times.setdefault(key, deque()).append(now)
        self._times.move_to_end(key)
        self._sweep(now)

    def remove(self, key: Hashable, time: float) -> None:
        times = self._times.get(key)
        if times is not None and time in times:
            times.remove(time)

    def _sweep(self, now: float) -> None:
        while self._times:
            key, times = next(iter(self._times.items()))
            if times and times[-1] > now - self.window:
                return
            del self._times[key]


@dataclass(slots=True)
class Attempt:
    """A reserved password attempt: the counters it was added to."""

    account: str
    source: Source
    time: float
    counted: list[tuple[Counters, Hashable]] = field(default_factory=list)


class Guard:
    """The attempts of every account and every source."""

    def __init__(self) -> None:
        self.failures = Counters(WINDOW)
        self.changes = Counters(CHANGE_WINDOW)
        self._known: dict[str, deque[str]] = {}  # account -> groups that signed in

    def reserve(self, account: str, source: Source, now: float) -> Attempt | float:
        """An attempt, or the seconds to wait before one is allowed."""
        pair = ("pair", account, source.group)
        wait = self.failures.wait(pair, PER_ACCOUNT_SOURCE, now)
        if not source.exempt:
            wait = max(wait, self.failures.wait(("source", source.group), PER_SOURCE, now))
        known = not source.exempt and source.group in self._known.get(account, ())
        account_wait = self.failures.wait(("account", account), PER_ACCOUNT, now)
        if not known:
            wait = max(wait, account_wait)
        if wait:
            return wait
        attempt = Attempt(account, source, now)
        keys: list[Hashable] = [pair]
        if not source.exempt:
            keys.append(("source", source.group))
        if not account_wait:  # a known source past the cap is not counted there
            keys.append(("account", account))
        for key in keys:
            self.failures.add(key, now)
            attempt.counted.append((self.failures, key))
        return attempt

    def succeeded(self, attempt: Attempt) -> None:
        """The password was right: the attempt is given back, the source remembered."""
        for counters, key in attempt.counted:
            counters.remove(key, attempt.time)
        if attempt.source.exempt:
            return
        known = self._known.setdefault(attempt.account, deque(maxlen=KNOWN_SOURCES))
        if attempt.source.group in known:
            known.remove(attempt.source.group)
        known.append(attempt.source.group)

    def change(self, source: Source, now: float) -> float:
        """Count a registration or password change; the seconds to wait if refused."""
        key = ("change", source.group)
        if wait := self.changes.wait(key, CHANGES_PER_MINUTE, now):
            return wait
        self.changes.add(key, now)
        return 0.0
