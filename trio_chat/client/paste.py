"""A pasted block of lines: one message per line, paced within flood control."""

from __future__ import annotations

import math
from collections.abc import Callable

import trio

from trio_chat.client.shown import Note, Shown

# More lines than this are sent only once the user says yes.
PASTE_ASK = 20
# The server lets a client send 10 lines at once, then 5 a second; a paste
# keeps below both, so typing alongside it is not dropped for flooding.
PASTE_BURST = 8
PASTE_RATE = 4.0  # lines a second after the burst


def pasted_lines(before: str, data: str, after: str) -> list[str]:
    """The lines that pasting ``data`` between ``before`` and ``after`` makes,
    blank ones left out."""
    text = (before + data + after).replace("\r\n", "\n").replace("\r", "\n")
    return [line for line in text.split("\n") if line.strip()]


class Pacer:
    """How long to wait before each pasted line: a burst, then a steady rate."""

    def __init__(self, burst: int = PASTE_BURST, rate: float = PASTE_RATE) -> None:
        self.burst = burst
        self.rate = rate
        self._lines = float(burst)  # lines that may go now
        self._at: float | None = None  # when ``_lines`` was counted

    def delay(self, now: float) -> float:
        """Seconds from ``now`` until the next line may go; it is counted as sent then."""
        if self._at is not None:
            self._lines = min(self.burst, self._lines + (now - self._at) * self.rate)
        wait = max(0.0, (1 - self._lines) / self.rate)
        self._lines += wait * self.rate - 1
        self._at = now + wait
        return wait


class Paste:
    """A client's pastes: asked about when long, then sent a line at a time, paced."""

    def __init__(self, show: Callable[[Shown], None], say: Callable[[str], None]) -> None:
        self._show = show
        self._say = say
        self._asked: list[str] | None = None  # a long paste, until the user says y or n
        self._send, self._lines = trio.open_memory_channel[str](math.inf)

    def take(self, lines: list[str]) -> None:
        if len(lines) > PASTE_ASK:
            self._asked = lines
            self._show(Note(f"paste {len(lines)} lines as {len(lines)} messages? (y/n)"))
        else:
            self._queue(lines)

    def answer(self, line: str) -> bool:
        """Whether ``line`` was the answer to a question about a long paste."""
        if self._asked is None:
            return False
        lines, self._asked = self._asked, None
        if line.strip().lower() in ("y", "yes"):
            self._queue(lines)
        else:
            self._show(Note("the paste was not sent"))
        return True

    def _queue(self, lines: list[str]) -> None:
        if len(lines) > 1:
            self._show(Note(f"sending {len(lines)} lines...", "pending"))
        for line in lines:
            self._send.send_nowait(line)

    async def run(self) -> None:
        """Send what was pasted, paced, until cancelled."""
        pacer = Pacer()
        async for line in self._lines:
            await trio.sleep(pacer.delay(trio.current_time()))
            self._say(line)
