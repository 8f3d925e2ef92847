from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

import pytest
import trio
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


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A private CA and a server certificate for 127.0.0.1, made for this run."""
    return Certificates.make(tmp_path_factory.mktemp("certs"))
