"""What a nickname, a room name and a line of chat may contain.

One user's bytes end up on other users' terminals, so text is made safe once,
when it enters the server, and never relayed raw.
"""

from __future__ import annotations

import re

NICK_MAX = 32
NICK_RE = re.compile(rf"[A-Za-z0-9_.\-]{{1,{NICK_MAX}}}")
ROOM_RE = re.compile(rf"#[A-Za-z0-9_.\-]{{1,{NICK_MAX}}}")
LOBBY = "#lobby"

# C0 controls and DEL become their visible Unicode "control pictures"
# (ESC -> U+241B), so an escape sequence shows up as text instead of acting.
# C1 controls (U+0080-U+009F, among them the 8-bit CSI), the bidirectional
# overrides and isolates (which reorder what a reader sees) and the Unicode
# line separators become U+FFFD.
_VISIBLE = {c: 0x2400 + c for c in range(0x20)} | {0x7F: 0x2421}
_REPLACED = dict.fromkeys(
    [*range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029],
    0xFFFD,
)
_SAFE = str.maketrans(_VISIBLE | _REPLACED)
_UNSAFE_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def sanitize(text: str) -> str:
    """Return ``text`` with every control character made harmless."""
    if _UNSAFE_RE.search(text) is None:  # the common case costs one scan
        return text
    return text.translate(_SAFE)


def nick_problem(nick: str) -> str | None:
    """Why ``nick`` cannot be a nickname, or None when it can."""
    if NICK_RE.fullmatch(nick):
        return None
    if not nick:
        return "it is empty"
    if len(nick) > NICK_MAX:
        return f"it is longer than {NICK_MAX} characters"
    return "use only letters, digits, _ - and ."


def room_problem(room: str) -> str | None:
    """Why ``room`` cannot be a room name, or None when it can."""
    if ROOM_RE.fullmatch(room):
        return None
    return f"a room is # and 1 to {NICK_MAX} letters, digits, _ - or ."


def fold(name: str) -> str:
    """The key under which nicknames and rooms are unique, ignoring case."""
    return name.lower()
