"""Two real ``trio-chat server --broker`` processes, one chat, users with ``nc``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

import pytest
import trio
from test_cli import kill, read_log_until, start_server

from trio_chat.cli import _broker
from trio_chat.cluster.broker import BrokerLost, connect
from trio_chat.server.config import Limits
from trio_chat.testing import TextClient


async def test_two_server_processes_serve_one_chat(redis_server):
    servers = [await start_server("--broker", redis_server.url, "--lease", "1") for _ in range(2)]
    clients: list[TextClient] = []

    async def connect(port: int) -> TextClient:
        clients.append(TextClient(await trio.open_tcp_stream("127.0.0.1", port)))
        return clients[-1]

    try:
        (_, port_a, _), (process_b, port_b, log_b) = servers
        alice, bob = await connect(port_a), await connect(port_b)
        await alice.login("alice")
        welcome = await bob.login("bob")
        assert "with alice (2 online)" in welcome
        await bob.send_line("hi alice, from the other server")
        await alice.expect(r"\] bob: hi alice, from the other server$")
        await alice.send_line("/msg bob and privately")
        await bob.expect(r"\[private\] alice -> bob: and privately$")
        taken = await connect(port_b)
        await taken.send_line("alice")
        await taken.expect('nickname "alice" is taken')
        # a server killed outright: its users are announced as gone, in time
        servers[0][0].kill()
        await bob.expect(r"\* alice left #lobby \(lost contact with its server\)$")
        process_b.send_signal(signal.SIGTERM)
        await read_log_until(process_b, log_b, r"shut down")
        with trio.fail_after(30):
            assert await process_b.wait() == 0
    finally:
        for client in clients:
            await client.stream.aclose()
        for process, _, _ in servers:
            await kill(process)


async def test_a_broker_url_that_is_not_one_redis_is_refused_with_a_reason():
    result = await trio.run_process(
        [sys.executable, "-m", "trio_chat", "server", "--broker", "redis+sentinel://h/m"],
        capture_stderr=True,
        check=False,
    )
    assert result.returncode == 1
    assert b"Sentinel and Cluster URLs are not supported" in result.stderr


async def test_a_server_whose_limits_differ_from_the_chats_will_not_join_it(redis_server):
    process, _, _ = await start_server("--broker", redis_server.url)
    try:
        with trio.fail_after(30):
            flags = ["--broker", redis_server.url, "--max-rooms", "30"]
            result = await trio.run_process(
                [
                    sys.executable,
                    "-m",
                    "trio_chat",
                    "server",
                    "--listen",
                    "tcp://127.0.0.1:0",
                    *flags,
                ],
                capture_stderr=True,
                check=False,
            )
        assert result.returncode == 1
        assert b"every server of the chat must have --max-rooms 20 (this server: 30)" in (
            result.stderr
        )
    finally:
        await kill(process)


def test_the_password_of_a_broker_url_reaches_neither_the_log_nor_an_error(caplog):
    caplog.set_level(logging.INFO)
    args = argparse.Namespace(broker="redis://:hunter2@127.0.0.1:1/0", history_max=100)
    _broker(args, Limits())  # connects only once served
    assert "redis://:***@127.0.0.1:1/0" in caplog.text
    with pytest.raises(BrokerLost) as refused:
        connect("redis+sentinel://:hunter2@h/m")
    assert "hunter2" not in caplog.text + str(refused.value)
