"""Cloaks: what the chat knows of a member's address, for bans by address.

A cloak is the first 12 hex digits of an HMAC-SHA256 of the member's
address group (its IPv4 address, or IPv6 network of ``--ipv6-prefix``; see
``addresses.py``) under a key of the server's, then ``.cloak``: the same
address gives the same cloak, and the cloak gives the address to no one.
With ``--db FILE`` the key is kept in the database, so cloaks (and bans of
them) outlive restarts; in broker mode it is kept in Redis, shared by the
servers of the chat; otherwise it is new at each start.
"""

from __future__ import annotations

import hashlib
import hmac

SUFFIX = ".cloak"


def cloak(group: str, key: bytes) -> str:
    digest = hmac.new(key, group.encode(), hashlib.sha256).hexdigest()
    return f"{digest[:12]}{SUFFIX}"
