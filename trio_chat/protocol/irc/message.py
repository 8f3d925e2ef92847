"""IRC lines: parsing what a client sends, and writing what the server sends.

A line is ``[@tags ][:source ]COMMAND [params] [:trailing]`` (Modern IRC,
IRCv3 message-tags). What follows the tags may take 512 bytes with its CRLF;
a client's tags may take 4094 bytes. ``parse`` never raises: a line it cannot
use comes back as an ``InputError`` saying why, for the connection to answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

MAX_BODY = 512  # the part after the tags, CRLF included
MAX_CLIENT_TAGS = 4094  # a client's tag data, "@" and the space after it excluded
# The longest line a client may send: its tags with "@" and a space, then the body.
MAX_LINE = MAX_CLIENT_TAGS + 2 + MAX_BODY

_UNESCAPE = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}


@dataclass(frozen=True, slots=True)
class Message:
    """One IRC line, taken apart; ``command`` is upper case."""

    command: str
    params: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    source: str | None = None


@dataclass(frozen=True, slots=True)
class InputError:
    """A line that cannot be used: ``kind`` is ``too_long`` or ``utf8``;
    ``command`` is the command it seemed to carry ("" if none)."""

    kind: str
    command: str = ""


def parse(line: bytes) -> Message | InputError | None:
    """The message ``line`` (without its line ending) holds; None when blank."""
    line = line.rstrip(b"\r")
    tags: dict[str, str] = {}
    if line.startswith(b"@"):
        raw_tags, _, line = line[1:].partition(b" ")
        if len(raw_tags) > MAX_CLIENT_TAGS:
            return InputError("too_long", _command_of(line))
        try:
            tags = _parse_tags(raw_tags.decode())
        except UnicodeDecodeError:
            return InputError("utf8", _command_of(line))
    line = line.lstrip(b" ")
    if len(line) + 2 > MAX_BODY:
        return InputError("too_long", _command_of(line))
    try:
        text = line.decode()
    except UnicodeDecodeError:
        return InputError("utf8", _command_of(line))
    source = None
    if text.startswith(":"):
        source, _, text = text[1:].partition(" ")
    head, sep, trailing = text.partition(" :")
    words = [w for w in head.split(" ") if w]  # IRC separates with spaces alone
    if not words:
        return None
    if not sep and text.startswith(":"):  # ":trailing" with no command before it
        return None
    params = [*words[1:], trailing] if sep else words[1:]
    return Message(words[0].upper(), tuple(params), tags, source or None)


def _command_of(line: bytes) -> str:
    words = [w for w in line.split(b" :", 1)[0].split(b" ") if w]
    if words and words[0].startswith(b":"):
        words = words[1:]
    return words[0].decode(errors="replace").upper()[:32] if words else ""


def _parse_tags(raw: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in raw.split(";"):
        key, _, value = item.partition("=")
        if key:
            tags[key] = _unescape(value)
    return tags


def _unescape(value: str) -> str:
    if "\\" not in value:
        return value
    out: list[str] = []
    chars = iter(value)
    for c in chars:
        if c == "\\":
            nxt = next(chars, "")  # a lone backslash at the end is dropped
            out.append(_UNESCAPE.get(nxt, nxt))
        else:
            out.append(c)
    return "".join(out)


def number(text: str) -> int | None:
    """The whole number ``text`` is written as, in ASCII digits, or None.

    ``str.isdigit`` alone lets through digits ``int`` refuses ("²").
    """
    return int(text) if text.isascii() and text.isdigit() else None


def line(
    command: str,
    *params: str,
    source: str | None = None,
    tags: str = "",
) -> bytes:
    """One line to send: ``tags`` already written (``k=v;k2``), or "".

    The last parameter is written as a trailing one whenever it must be (it
    is empty, holds a space or starts with a colon), and where it is a text
    (a message, most numerics), as clients are used to.
    """
    parts = [f"@{tags}"] if tags else []
    if source:
        parts.append(f":{source}")
    parts.append(command)
    if params:
        *middle, last = params
        parts += middle
        if not last or " " in last or last.startswith(":") or _trailing(command):
            last = f":{last}"
        parts.append(last)
    return (" ".join(parts) + "\r\n").encode()


_TEXT_COMMANDS = frozenset({"PRIVMSG", "NOTICE", "QUIT", "KICK", "TOPIC", "ERROR"})
# Numerics whose last parameter is a word (a mode, a time), not a text.
_WORD_NUMERICS = frozenset({"004", "221", "324", "333", "341", "367"})


def _trailing(command: str) -> bool:
    if command.isdigit():
        return command not in _WORD_NUMERICS
    return command in _TEXT_COMMANDS


def stamp(time: datetime) -> str:
    """server-time's format: UTC, milliseconds, Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.") + f"{time.microsecond // 1000:03d}Z"


def split_text(text: str, room: int) -> list[str]:
    """``text`` in pieces of at most ``room`` bytes of UTF-8, cut between characters."""
    data = text.encode()
    if len(data) <= room:
        return [text]
    pieces = []
    while data:
        cut = min(room, len(data))
        while cut < len(data) and data[cut] & 0xC0 == 0x80:  # inside a character
            cut -= 1
        pieces.append(data[:cut].decode())
        data = data[cut:]
    return pieces


def said_lines(
    command: str, source: str, target: str, text: str, *, tags: str, action: bool = False
) -> bytes:
    """A PRIVMSG or NOTICE (``action``: a CTCP ACTION), in as many lines as it
    takes: text from the other modes may be longer than an IRC line."""
    start = f":{source} {command} {target} :".encode()
    data = text.encode()
    if not action and len(start) + len(data) <= MAX_BODY - 2:  # most are: one line
        return (f"@{tags} ".encode() + start if tags else start) + data + b"\r\n"
    head = len(start) + (9 if action else 0)
    pieces = split_text(text, MAX_BODY - 2 - head)
    if action:
        pieces = [f"\x01ACTION {p}\x01" for p in pieces]
    return b"".join(line(command, target, p, source=source, tags=tags) for p in pieces)
