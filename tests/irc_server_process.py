"""A real server with an IRC listener beside its text one, for the IRC client tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import trio
from test_cli import read_log_until

from trio_chat.protocol.framing import LineBuffer


def tool_or_skip(name: str, package: str) -> str:
    """The path of the program ``name``; without it, skip (fail when run by CI)."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (Debian: apt-get install {package})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


async def start_irc_server() -> tuple[trio.Process, dict[str, int]]:
    """A server listening on tcp:// and irc:// (127.0.0.1, free ports): the process, and
    each scheme's port."""
    listen = ["--listen", "tcp://127.0.0.1:0", "--listen", "irc://127.0.0.1:0"]
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "trio_chat", "server", "--db", ":memory:", *listen],
        stderr=subprocess.PIPE,
    )
    log = LineBuffer(1 << 16)
    ports: dict[str, int] = {}
    while len(ports) < 2:
        found = await read_log_until(process, log, r"listening on (tcp|irc)://127\.0\.0\.1:(\d+)")
        ports[found[1].decode()] = int(found[2])
    return process, ports
