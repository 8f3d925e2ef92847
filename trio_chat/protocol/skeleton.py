"""When two nicknames look alike: their confusable skeletons.

Nicknames are unique by skeleton, so that ``aIice`` (a capital i) or
``a1ice`` cannot pass for ``alice``. The skeleton is the one of Unicode
Technical Standard #39 followed by case folding, as ergo computes it (its
width folding changes nothing in ASCII). Nicknames are ASCII
(``[A-Za-z0-9_.-]``), so only the TR39 mappings whose source is one of those
characters matter. From confusables.txt, version 13.0.0 (2020-02-13), the
ASCII entries are, among nickname characters::

    0030 ;  004F ;       MA  # ( 0 → O ) DIGIT ZERO → LATIN CAPITAL LETTER O
    0031 ;  006C ;       MA  # ( 1 → l ) DIGIT ONE → LATIN SMALL LETTER L
    0049 ;  006C ;       MA  # ( I → l ) LATIN CAPITAL LETTER I → LATIN SMALL LETTER L
    006D ;  0072 006E ;  MA  # ( m → rn ) LATIN SMALL LETTER M → LATIN SMALL LETTER R, ...

(the other ASCII entries map ``"``, ``%``, `````` and ``|``, which no nickname
holds; later versions of the file, up to 16.0.0, keep the same ASCII entries).

One step beyond ergo: the skeleton and the folding are repeated until the
result stays the same, so that ``M`` (folded to ``m``) meets ``rn`` as ``m``
does, and ``Mary`` looks like ``rnary`` just as ``mary`` does.
"""

from __future__ import annotations

# TR39 prototypes of nickname characters, from confusables.txt (see above).
TR39_ASCII = {"0": "O", "1": "l", "I": "l", "m": "rn"}


def _final(char: str) -> str:
    text = char
    while True:
        folded = "".join(TR39_ASCII.get(c, c) for c in text).lower()
        if folded == text:
            return text
        text = folded


_SKELETON = str.maketrans({chr(c): _final(chr(c)) for c in range(0x21, 0x7F)})


def skeleton(nick: str) -> str:
    """The key under which nicknames are unique: equal for look-alikes."""
    return nick.translate(_SKELETON)
