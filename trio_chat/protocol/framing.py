"""Splitting a byte stream into lines, with a limit on a line's length."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LineTooLong:
    """A line went over the limit; its bytes up to the next newline are dropped."""

    limit: int


class LineBuffer:
    """Collects bytes and hands out complete lines (cf. h11's ReceiveBuffer).

    A line ends at ``\\n``; a ``\\r`` before it is dropped. A line longer than
    ``max_line_bytes`` is reported once as :class:`LineTooLong` and discarded
    up to its newline, so one bad line costs that line and nothing else.
    """

    __slots__ = ("_buf", "_discarding", "_eof", "_scanned", "max_line_bytes")

    def __init__(self, max_line_bytes: int) -> None:
        self.max_line_bytes = max_line_bytes
        self._buf = bytearray()
        self._scanned = 0  # bytes of _buf known to hold no newline
        self._discarding = False
        self._eof = False

    def feed(self, data: bytes) -> None:
        """Add received bytes; ``b""`` means the peer closed its side."""
        if not data:
            self._eof = True
        self._buf += data

    @property
    def at_eof(self) -> bool:
        """The peer closed and every line has been handed out."""
        return self._eof and not self._buf

    def next_line(self) -> bytes | LineTooLong | None:
        """The next complete line without its ending, or None for "need data"."""
        while True:
            end = self._buf.find(b"\n", self._scanned)
            if end < 0:
                return self._partial()
            line_len = end + 1
            if self._discarding:
                del self._buf[:line_len]
                self._scanned = 0
                self._discarding = False
                continue
            if end > self.max_line_bytes + 1 or (
                end == self.max_line_bytes + 1 and self._buf[end - 1] != 0x0D
            ):
                del self._buf[:line_len]
                self._scanned = 0
                return LineTooLong(self.max_line_bytes)
            line = bytes(self._buf[:end])
            del self._buf[:line_len]
            self._scanned = 0
            return line[:-1] if line.endswith(b"\r") else line

    def _partial(self) -> bytes | LineTooLong | None:
        if self._discarding:
            self._buf.clear()
            self._scanned = 0
            return None
        if len(self._buf) > self.max_line_bytes + 1:
            # Too long already: say so now rather than buffer without bound.
            self._buf.clear()
            self._scanned = 0
            self._discarding = not self._eof
            return LineTooLong(self.max_line_bytes)
        if self._eof and self._buf:
            # The peer closed in the middle of a line: it still said it.
            line = bytes(self._buf)
            self._buf.clear()
            self._scanned = 0
            line = line[:-1] if line.endswith(b"\r") else line
            return line if len(line) <= self.max_line_bytes else LineTooLong(self.max_line_bytes)
        self._scanned = len(self._buf)
        return None
