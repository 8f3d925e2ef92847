from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import trio
from irc_harness import irc_listener
from redis_harness import RedisServer, open_redis_server, redis_server_or_skip
from transport_harness import Certificates

from trio_chat import ChatServer, Limits, serve
from trio_chat.testing import MemoryListener

Chat = tuple[ChatServer, MemoryListener]
StartChat = Callable[..., Awaitable[Chat]]


@pytest.fixture(autouse=True)
def private_data_directory(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> None:
    """Keep every database and input history a test makes (in this process or
    a server or client it starts) out of the user's own data directory."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))


@pytest.fixture
def start_chat(nursery: trio.Nursery) -> StartChat:
    """Start the real server over the memory transport, with given limits."""

    async def start(**limits: object) -> Chat:
        listener = MemoryListener()
        server = await nursery.start(functools.partial(serve, [listener], limits=Limits(**limits)))  # type: ignore[arg-type]
        return server, listener

    return start


@pytest.fixture
def start_both(nursery: trio.Nursery):
    """The server with a text listener and an IRC listener: (text, irc) to connect to."""

    async def start(**limits: object) -> tuple[MemoryListener, MemoryListener]:
        text = MemoryListener()
        irc, irc_memory = irc_listener()
        await nursery.start(functools.partial(serve, [text, irc], limits=Limits(**limits)))  # type: ignore[arg-type]
        return text, irc_memory

    return start


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A private CA and a server certificate for 127.0.0.1, made for this run."""
    return Certificates.make(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def redis_executable() -> str:
    """The path of redis-server; without it the test is skipped (fails under CI)."""
    return redis_server_or_skip()


@pytest.fixture
async def redis_server(redis_executable, tmp_path, nursery) -> AsyncIterator[RedisServer]:
    """A real redis-server on 127.0.0.1 that keeps nothing across a restart."""
    async with open_redis_server(redis_executable, tmp_path / "redis", nursery) as server:
        yield server


@pytest.fixture
async def persistent_redis(redis_executable, tmp_path, nursery) -> AsyncIterator[RedisServer]:
    """A real redis-server with an append-only file: data survives stop() then start()."""
    directory = tmp_path / "redis"
    async with open_redis_server(redis_executable, directory, nursery, appendonly=True) as server:
        yield server
