"""What a nickname, a room name, a number and a line of chat may contain.

One user's bytes end up on other users' terminals, so text is made safe once,
when it enters the server, and never relayed raw. docs/protocol.md (Value
ranges, Sanitizing) states the same rules for readers of the protocol.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

NICK_MAX = 32
NICK_RE = re.compile(rf"[A-Za-z0-9_.\-]{{1,{NICK_MAX}}}")
ROOM_RE = re.compile(rf"#[A-Za-z0-9_.\-]{{1,{NICK_MAX}}}")
LOBBY = "#lobby"

# Every integer on the wire is in 0..MAX_INT: JavaScript reads each exactly,
# and SQLite stores each in its 64-bit integers.
MAX_INT = 2**53 - 1
# The protocol's own shapes nest 3 deep (a history event: an object holding a
# list of objects); deeper JSON is refused before anything recurses into it.
MAX_DEPTH = 8
# Entries of ``resume`` in a hello; the server rejoins at most --max-rooms.
MAX_RESUME = 100

# The Unicode format characters (general category Cf, Unicode 14 as in
# Python 3.11; tests/test_rules.py checks this against unicodedata). They are
# invisible, and some reorder or hide what a reader sees.
_FORMAT_RANGES = (
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)
FORMAT_CHARS = frozenset(c for lo, hi in _FORMAT_RANGES for c in range(lo, hi + 1))
# Whitespace (str.isspace) and the letters that draw nothing: a run of them
# could push what follows onto a line of its own on the reader's terminal.
_BLANKS = (
    "\t-\r\x1c- \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
    "\u2800\u3164\u115f\u1160\uffa0"
)
_BLANK_RUN_RE = re.compile(f"[{_BLANKS}]{{4,}}")
# The blanks str.isprintable() lets through: the space and the blank letters.
_PRINTABLE_BLANK_RUN_RE = re.compile("[ \u2800\u3164\u115f\u1160\uffa0]{4,}")
_ZWJ = "\u200d"
_BLACK_FLAG = "\U0001f3f4"
# What emoji need of the format characters: a joiner between two emoji (a
# family, a profession), and the tags that make a black flag a subdivision's.
_EMOJI_FORMAT_RE = re.compile(f"{_ZWJ}|{_BLACK_FLAG}[\U000e0020-\U000e007f]+")

# C0 controls and DEL become their visible Unicode "control pictures"
# (ESC -> U+241B), so an escape sequence shows up as text instead of acting.
# C1 controls (among them the 8-bit CSI), the Unicode line separators, format
# characters and lone surrogates become U+FFFD.
_VISIBLE = {c: 0x2400 + c for c in range(0x20)} | {0x7F: 0x2421}
_C1_AND_SEPARATORS = [*range(0x80, 0xA0), 0x2028, 0x2029]
_REPLACED = dict.fromkeys([*_C1_AND_SEPARATORS, *FORMAT_CHARS, *range(0xD800, 0xE000)], 0xFFFD)
_SAFE = str.maketrans(_VISIBLE | _REPLACED)
# Passwords keep what they have always had, so that each still matches the
# hash made of it: the format characters they lose are the bidi controls only.
_BIDI = [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_SECRET_SAFE = str.maketrans(
    _VISIBLE | dict.fromkeys([*_C1_AND_SEPARATORS, *_BIDI, *range(0xD800, 0xE000)], 0xFFFD)
)


def sanitize(text: str) -> str:
    """``text`` made safe to show: controls visible, format characters
    replaced (except inside emoji), runs of 4 or more blanks one space."""
    # The common case costs a scan or two in C. isprintable() is False for
    # every control, format character, surrogate, separator and odd space.
    if text.isprintable() and (
        "    " not in text if text.isascii() else _PRINTABLE_BLANK_RUN_RE.search(text) is None
    ):
        return text
    text = _BLANK_RUN_RE.sub(" ", text)
    if _ZWJ not in text and _BLACK_FLAG not in text:
        return text.translate(_SAFE)
    kept: list[str] = []
    start = 0
    for match in _EMOJI_FORMAT_RE.finditer(text):
        at = match.start()
        if match.group() == _ZWJ and not (
            0 < at < len(text) - 1 and _emoji(text[at - 1]) and _emoji(text[at + 1])
        ):
            continue
        kept += (text[start:at].translate(_SAFE), match.group())
        start = match.end()
    kept.append(text[start:].translate(_SAFE))
    return "".join(kept)


def sanitize_secret(text: str) -> str:
    """A password as it has always reached the account code: controls made
    visible, but blanks and most format characters left as typed, so that a
    password keeps matching the hash made of it."""
    if text.isprintable():
        return text
    return text.translate(_SECRET_SAFE)


def _emoji(char: str) -> bool:
    """Whether a zero width joiner next to ``char`` may be part of an emoji."""
    return (
        char == "\ufe0f"  # the emoji presentation selector
        or "\U0001f3fb" <= char <= "\U0001f3ff"  # skin tones
        or unicodedata.category(char) == "So"
    )


def nick_problem(nick: str) -> str | None:
    """Why ``nick`` cannot be a nickname, or None when it can."""
    if NICK_RE.fullmatch(nick):
        return None
    if not nick:
        return "it is empty"
    if len(nick) > NICK_MAX:
        return f"it is longer than {NICK_MAX} characters"
    return "use only letters, digits, _ - and ."


TOKEN_MIN = 16


def token_problem(token: str) -> str | None:
    """Why ``token`` cannot be a reconnect token, or None when it can."""
    if len(token) < TOKEN_MIN:
        return f"a token needs at least {TOKEN_MIN} characters"
    return None


def token_key(token: str) -> str:
    """What the server keeps of a reconnect token: its SHA-256, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def room_problem(room: str) -> str | None:
    """Why ``room`` cannot be a room name, or None when it can."""
    if ROOM_RE.fullmatch(room):
        return None
    return f"a room is # and 1 to {NICK_MAX} letters, digits, _ - or ."


def fold(name: str) -> str:
    """The key under which nicknames and rooms are unique, ignoring case."""
    return name.lower()
