"""Encoding each event once, however many members receive it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

MEMO_SIZE = 4096


def once_per_object(encode: Callable[[T], bytes]) -> Callable[[T], bytes]:
    """Cache ``encode`` by the identity of its argument.

    The pump hands every recipient the same event object, so identity finds
    it; hashing a frozen dataclass by value (as ``lru_cache`` would) costs
    more per delivery than the rest of the fan-out. The memo holds each
    object it keys, so an id cannot be reused while it is there.
    """
    memo: dict[int, tuple[T, bytes]] = {}

    @functools.wraps(encode)
    def cached(obj: T) -> bytes:
        hit = memo.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        data = encode(obj)
        if len(memo) >= MEMO_SIZE:
            memo.clear()
        memo[id(obj)] = (obj, data)
        return data

    return cached
