"""``trio-chat server`` as a user runs it: a real process, real sockets, signals."""

from __future__ import annotations

import importlib.metadata
import re
import signal
import subprocess
import sys

import pytest
import trio

from trio_chat import cli
from trio_chat.protocol import events as ev
from trio_chat.protocol.framing import LineBuffer
from trio_chat.testing import JsonClient, TextClient


async def start_server(*flags: str) -> tuple[trio.Process, int, LineBuffer]:
    if "--db" not in flags:
        flags = (*flags, "--db", ":memory:")
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "trio_chat", "server", "--listen", "tcp://127.0.0.1:0", *flags],
        stderr=subprocess.PIPE,
    )
    log = LineBuffer(1 << 16)
    port = int((await read_log_until(process, log, r"listening on tcp://127\.0\.0\.1:(\d+)"))[1])
    return process, port, log


async def kill(process: trio.Process) -> None:
    """Kill a server started by ``start_server`` and free what it held."""
    process.kill()
    await process.wait()
    if process.stderr is not None:
        await process.stderr.aclose()


async def read_log_until(process: trio.Process, log: LineBuffer, pattern: str) -> re.Match[bytes]:
    assert process.stderr is not None
    with trio.fail_after(30):
        while True:
            while isinstance(line := log.next_line(), bytes):
                if found := re.search(pattern.encode(), line):
                    return found
            if log.at_eof:
                raise AssertionError(f"the server exited without logging {pattern!r}")
            log.feed(bytes(await process.stderr.receive_some()))


async def test_server_chats_then_shuts_down_cleanly_on_sigterm():
    process, port, log = await start_server()
    try:
        alice = TextClient(await trio.open_tcp_stream("127.0.0.1", port))
        bob = TextClient(await trio.open_tcp_stream("127.0.0.1", port))
        await alice.login("alice")
        await bob.login("bob")
        await alice.send_line("hi bob")
        await bob.expect(r"alice: hi bob$")
        await read_log_until(process, log, r"#2 opened from 127\.0\.0\.1")

        process.send_signal(signal.SIGTERM)
        for client in (alice, bob):
            lines = await client.lines_until_closed()
            assert lines[-1].endswith("* disconnected: server shutting down")
            await client.stream.aclose()
        await read_log_until(
            process, log, r"closed from 127\.0\.0\.1 \(nick alice\).*server shutting down"
        )
        with trio.fail_after(30):
            assert await process.wait() == 0
    finally:
        await kill(process)


async def test_a_bad_listen_url_is_refused_with_a_reason():
    result = await trio.run_process(
        [sys.executable, "-m", "trio_chat", "server", "--listen", "udp://127.0.0.1:1"],
        capture_stderr=True,
        check=False,
    )
    assert result.returncode == 2
    assert b"unknown scheme 'udp'" in result.stderr


async def test_a_bad_url_among_the_clients_servers_is_refused_before_connecting():
    urls = ["tcp://127.0.0.1:1", "udp://x:1"]
    with trio.fail_after(30):
        result = await trio.run_process(
            [sys.executable, "-m", "trio_chat", "client", *urls, "--nick", "x"],
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    assert result.returncode == 2
    assert result.stderr.startswith(b"trio-chat: 'udp://x:1': unknown scheme 'udp' (known: ")


async def test_every_message_anyone_saw_survives_sigkill(tmp_path):
    db = str(tmp_path / "chat.db")
    process, port, _ = await start_server("--db", db, "--flood-rate", "0")
    seen: set[str] = set()
    try:
        alice = TextClient(await trio.open_tcp_stream("127.0.0.1", port))
        bob = TextClient(await trio.open_tcp_stream("127.0.0.1", port))
        await alice.login("alice")
        await bob.login("bob")
        for n in range(50):
            await alice.send_line(f"message {n}")
        for _ in range(30):  # bob has seen these when the server dies
            seen.add((await bob.expect(r"alice: (message \d+)$"))[1])
        process.kill()  # SIGKILL: no chance to tidy up
        await process.wait()
        for client in (alice, bob):
            await client.stream.aclose()
    finally:
        process.kill()
        await process.wait()

    process, port, _ = await start_server("--db", db)
    try:
        reader = JsonClient(await trio.open_tcp_stream("127.0.0.1", port))
        await reader.login("reader")
        await reader.send(ev.GetHistory(after=0, limit=500))
        history = await reader.expect(ev.History)
        stored = {e.text for e in history.events if isinstance(e, ev.Message)}
        assert seen <= stored
        await reader.stream.aclose()
    finally:
        process.kill()
        await process.wait()


@pytest.fixture
def started(monkeypatch, tmp_path):
    """What the terminal client would start with; no configuration file unless a test writes one."""
    started = {}

    def run(nick, servers, history, password, **options):
        started.update(nick=nick, urls=servers.urls, **options)
        return 0

    monkeypatch.setattr("trio_chat.client.ui.run", run)
    monkeypatch.setattr("trio_chat.client.command.DEFAULT_CONFIG", tmp_path / "client.toml")
    monkeypatch.delenv("NO_COLOR", raising=False)
    return started


def test_client_takes_a_bare_host_and_port_and_the_login_name(monkeypatch, started):
    monkeypatch.setattr("getpass.getuser", lambda: "jean paul@HOME")
    assert cli.main(["client", "127.0.0.1:58000", "tls://127.0.0.1:1"]) == 0
    assert started == {
        "nick": "jeanpaulHOME",
        "urls": ("tcp://127.0.0.1:58000", "tls://127.0.0.1:1"),
        "bell": True,
        "colour": True,
        "join": (),
    }


def test_client_reads_its_configuration_file_and_flags_override_it(tmp_path, started):
    (tmp_path / "client.toml").write_text(
        'server = "127.0.0.1:58001"\nnick = "carol"\njoin = ["#dev", "ops"]\nbell = false\n'
    )
    assert cli.main(["client"]) == 0
    assert started == {
        "nick": "carol",
        "urls": ("tcp://127.0.0.1:58001",),
        "bell": False,
        "colour": True,
        "join": ("#dev", "#ops"),
    }
    assert cli.main(["client", "--nick", "dave", "--join", "qa", "--no-colour"]) == 0
    assert started["nick"] == "dave"
    assert started["join"] == ("#qa",)
    assert started["colour"] is False


def test_a_bad_or_missing_configuration_file_ends_the_client_with_status_2(
    tmp_path, started, capsys
):
    bad = tmp_path / "bad.toml"
    bad.write_text('nick = "carol"\ncolour = "yes"\n')
    assert cli.main(["client", "--config", str(bad)]) == 2
    error = capsys.readouterr().err
    assert f"{bad}: line 2: colour: expected true or false" in error
    assert cli.main(["client", "--config", str(tmp_path / "absent.toml")]) == 2
    assert "absent.toml: no such file" in capsys.readouterr().err
    assert started == {}


def test_version_prints_the_installed_version(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"trio-chat {importlib.metadata.version('trio-chat')}\n"
