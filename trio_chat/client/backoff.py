"""How long the client waits before each attempt to connect again."""

from __future__ import annotations

import random


class Backoff:
    """Delays between attempts: 1 s doubling to a 60 s cap, with jitter.

    Each delay is drawn from the upper half of its step (0.5-1 s, 1-2 s, ...,
    30-60 s), so clients that lost the same server spread out their returns.
    """

    def __init__(
        self, first: float = 1.0, cap: float = 60.0, rng: random.Random | None = None
    ) -> None:
        self.first = first
        self.cap = cap
        self.rng = rng or random.Random()
        self._step = first

    def next(self) -> float:
        step = self._step
        self._step = min(self.cap, step * 2)
        return self.rng.uniform(step / 2, step)

    def reset(self) -> None:
        self._step = self.first
