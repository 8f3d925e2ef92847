"""``trio-chat admin`` beside a real ``trio-chat server`` process on 127.0.0.1."""

from __future__ import annotations

import sys

import trio
from test_cli import kill, read_log_until, start_server

from trio_chat.server.accounts import Accounts
from trio_chat.server.sqlite import SqliteStore
from trio_chat.testing import TextClient

PASSWORD = "correct horse"
NEW_PASSWORD = "battery staple"


async def admin(db: str, *args: str) -> str:
    result = await trio.run_process(
        [sys.executable, "-m", "trio_chat", "admin", "--db", db, *args], capture_stdout=True
    )
    return result.stdout.decode()


async def sign_in(port: int, nick: str, password: str) -> TextClient:
    client = TextClient(await trio.open_tcp_stream("127.0.0.1", port))
    await client.send_line(nick)
    await client.expect("type its password")
    await client.send_line(password)
    return client


async def test_backup_and_password_reset_beside_a_running_server(tmp_path):
    db = str(tmp_path / "chat.db")
    process, port, log = await start_server("--db", db)
    try:
        alice = TextClient(await trio.open_tcp_stream("127.0.0.1", port))
        bob = TextClient(await trio.open_tcp_stream("127.0.0.1", port))
        await alice.login("alice")
        await bob.login("bob")
        await alice.send_line(f"/register {PASSWORD}")
        await alice.expect(r'\* "alice" is registered')

        async def chat(client: TextClient) -> None:
            for n in range(300):
                await client.send_line(f"line {n}")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(chat, alice)
            nursery.start_soon(chat, bob)
            assert await admin(db, "backup", str(tmp_path / "copy.db")) == (
                f"backed up to {tmp_path / 'copy.db'}\n"
            )
        copy = await SqliteStore.open(str(tmp_path / "copy.db"))
        try:
            assert await Accounts(await copy.load_credentials()).verify("alice", PASSWORD)
        finally:
            await copy.aclose()

        file = tmp_path / "password"
        file.write_text(NEW_PASSWORD)
        await admin(db, "reset-password", "alice", "--password-file", str(file))
        await read_log_until(process, log, r"changes by trio-chat admin read: 1 account")
        again = await sign_in(port, "alice", NEW_PASSWORD)
        await again.expect(r"\* welcome, alice!")
        assert "alice\t20" in await admin(db, "accounts")
        for client in (alice, bob, again):
            await client.stream.aclose()
    finally:
        await kill(process)
