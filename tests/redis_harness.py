"""A real redis-server on 127.0.0.1, for the tests of broker mode.

It runs in the foreground (``--daemonize no``); starting reads its output
until it says it is ready, and a task keeps reading it afterwards so that a
full pipe never stalls the server.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import trio

READY = b"Ready to accept connections"
IN_USE = b"Address already in use"
START_TIMEOUT = 10
PORT_ATTEMPTS = 5


def redis_server_or_skip() -> str:
    """The path of redis-server; without it, skip (fail when run by CI)."""
    path = shutil.which("redis-server")
    if path is None:
        message = "redis-server is not installed (Debian: apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """One redis-server process at a time, always on the same port and directory.

    With ``appendonly``, what was written survives ``stop()`` then ``start()``.
    """

    def __init__(
        self, executable: str, directory: Path, nursery: trio.Nursery, *, appendonly: bool = False
    ) -> None:
        self.executable = executable
        self.directory = directory
        self.appendonly = appendonly
        self.port = 0
        self._nursery = nursery
        self._process: trio.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        """Start it, on the port it had before if any; returns once it accepts connections."""
        assert self._process is None, "already running"
        self.directory.mkdir(parents=True, exist_ok=True)
        for _ in range(PORT_ATTEMPTS):
            port = self.port or free_port()
            output = await self._nursery.start(self._run, port)
            if output is None:
                self.port = port
                return
            if self.port or IN_USE not in output:  # a restart keeps its port
                break
        raise RuntimeError(f"redis-server did not start:\n{output.decode(errors='replace')}")

    async def stop(self) -> None:
        """SIGTERM, and wait until it has exited (with appendonly, after its last write)."""
        await self._end(signal.SIGTERM)

    async def kill(self) -> None:
        """SIGKILL: gone at once, as after a crash."""
        await self._end(signal.SIGKILL)

    async def _end(self, signum: int) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.returncode is None:
            process.send_signal(signum)
        with trio.fail_after(START_TIMEOUT):
            await process.wait()

    async def _run(
        self, port: int, *, task_status: trio.TaskStatus[bytes | None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Run one process: started with None once ready, or with its output when it exits."""
        args = [
            self.executable,
            *("--bind", "127.0.0.1", "--port", str(port), "--save", ""),
            *("--appendonly", "yes" if self.appendonly else "no"),
            *("--dir", str(self.directory), "--daemonize", "no"),
        ]
        process = await trio.lowlevel.open_process(
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        assert process.stdout is not None
        output = b""
        try:
            with trio.fail_after(START_TIMEOUT):
                while READY not in output:
                    chunk = await process.stdout.receive_some()
                    if not chunk:  # it exited: say why
                        await process.wait()
                        task_status.started(output)
                        return
                    output += chunk
            self._process = process
            task_status.started(None)
            while await process.stdout.receive_some():
                pass
        except BaseException:  # a test ended with it running, or it never got ready
            process.kill()
            raise
        finally:
            with trio.CancelScope(shield=True):
                await process.stdout.aclose()
                await process.wait()


@asynccontextmanager
async def open_redis_server(
    executable: str, directory: Path, nursery: trio.Nursery, *, appendonly: bool = False
) -> AsyncIterator[RedisServer]:
    """A started server, stopped on exit."""
    server = RedisServer(executable, directory, nursery, appendonly=appendonly)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
