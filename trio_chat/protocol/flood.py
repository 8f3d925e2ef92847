"""Flood control: a token bucket per connection, without I/O.

The session counts lines with it; the WebSocket transport counts control frames.
"""

from __future__ import annotations


class TokenBucket:
    """``burst`` lines at once, then ``rate`` lines per second.

    ``delay(now)`` takes a token and says how long the line must wait for it.
    Lines that had to wait are counted as strikes, forgiven at one per
    second; more than ``kick`` strikes is sustained abuse.
    """

    __slots__ = ("_last", "_strikes", "_tokens", "burst", "kick", "rate")

    def __init__(self, *, burst: int, rate: float, kick: int, now: float) -> None:
        self.burst = burst
        self.rate = rate
        self.kick = kick
        self._tokens = float(burst)
        self._strikes = 0.0
        self._last = now

    def delay(self, now: float) -> float:
        if self.rate <= 0:
            return 0.0
        elapsed = max(0.0, now - self._last)
        self._last = now
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
        self._strikes = max(0.0, self._strikes - elapsed)
        self._tokens -= 1
        if self._tokens >= 0:
            return 0.0
        self._strikes += 1
        return -self._tokens / self.rate

    @property
    def abused(self) -> bool:
        return self.rate > 0 and self._strikes > self.kick
