"""Which web pages may open a WebSocket to the server: the Origin check, without I/O.

A browser names the page that opens a WebSocket in the ``Origin`` header, and
lets any page open one to any address, localhost and the intranet included.
Without this check any site a user visits could chat in their name.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
ANY = "*"


def refusal(origin: str | None, host: str | None, allowed: Collection[str] = ()) -> str | None:
    """Why a handshake from ``origin`` with ``Host: host`` is refused, or None.

    No Origin (a program, not a browser) is accepted; so is an origin in
    ``allowed`` (compared without regard to case), or any origin when
    ``allowed`` holds ``*``. Otherwise the origin's host and port must be the
    Host header's, a missing port on either side meaning the origin scheme's
    default (80 for http, 443 for https).
    """
    if origin is None or ANY in allowed:
        return None
    if origin.lower() in {a.lower().rstrip("/") for a in allowed}:
        return None
    page = _origin_address(origin)
    if page is None:
        return f"Origin {origin!r} is not a web page's origin"
    scheme, address = page
    listener = _host_address(host or "", DEFAULT_PORTS[scheme])
    if address != listener:
        return f"Origin {origin!r} does not match Host {host!r}"
    return None


def allowed_origin(text: str) -> str:
    """``text`` as a --ws-origin value; raises ValueError when no browser could send it."""
    if text == ANY or _origin_address(text.rstrip("/")) is not None:
        return text
    raise ValueError(f"{text!r} is not an origin like https://chat.example.org (or *)")


def _origin_address(origin: str) -> tuple[str, tuple[str, int]] | None:
    """The scheme and (host, port) of a serialized origin; None for ``null`` or junk."""
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return None
    return scheme, (parts.hostname, port or DEFAULT_PORTS[scheme])


def _host_address(host: str, default_port: int) -> tuple[str, int] | None:
    try:
        parts = urlsplit(f"//{host}")
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname or parts.path or parts.query or parts.username:
        return None
    return parts.hostname, port or default_port
