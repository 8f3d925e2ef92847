"""The browser client's files, and the answer to a plain HTTP request for one.

Loaded once; answering does no I/O, so it is tested like the protocol. Only
the files of the static folder are ever named by a request, looked up by
exact name: no request path reaches the file system, and no answer is larger
than the largest file or a one-line error.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Mapping
from pathlib import PurePosixPath

INDEX = "index.html"
ALLOW = "GET, HEAD"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css",
    ".js": "text/javascript",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

# On every answer, errors included: the page runs no code but its own files.
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-cache"),
)

Answer = tuple[int, list[tuple[str, str]], bytes]
"""An HTTP status, the response headers, the body."""


class Pages:
    """The files of the browser client, by name."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        if INDEX not in files:
            raise ValueError(f"the browser client has no {INDEX}")
        self.files = dict(files)

    @classmethod
    def load(cls) -> Pages:
        """The files of ``trio_chat/web/static/``, read now."""
        folder = importlib.resources.files("trio_chat.web") / "static"
        return cls(
            {
                entry.name: entry.read_bytes()
                for entry in folder.iterdir()
                if entry.is_file() and not entry.name.startswith(".")
            }
        )

    def answer(self, method: str, path: str, listener_path: str) -> Answer:
        """The answer to ``method path`` on a WebSocket listener at ``listener_path``.

        The listener's path is the page; its files are beside it, where a
        browser resolves the page's relative links (``/chat`` -> ``/style.css``,
        ``/chat/`` -> ``/chat/style.css``). A query string is ignored.
        """
        if method not in ("GET", "HEAD"):
            status, headers, body = _text(405, "method not allowed\n")
            return status, [*headers, ("Allow", ALLOW)], body
        name = self._name(path.partition("?")[0], listener_path)
        if name is None:
            status, headers, body = _text(404, "not found\n")
        else:
            status, body = 200, self.files[name]
            headers = _headers(content_type(name), body)
        return status, headers, body if method == "GET" else b""

    def _name(self, path: str, listener_path: str) -> str | None:
        if path == listener_path:
            return INDEX
        directory = listener_path[: listener_path.rfind("/") + 1]
        if not path.startswith(directory):
            return None
        name = path[len(directory) :]
        return name if name in self.files else None


def content_type(name: str) -> str:
    return CONTENT_TYPES.get(PurePosixPath(name).suffix, "application/octet-stream")


def _headers(kind: str, body: bytes) -> list[tuple[str, str]]:
    return [("Content-Type", kind), ("Content-Length", str(len(body))), *SECURITY_HEADERS]


def _text(status: int, text: str) -> Answer:
    body = text.encode()
    return status, _headers("text/plain; charset=utf-8", body), body
