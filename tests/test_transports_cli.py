"""``trio-chat server`` on several transports at once, reached by real clients."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Sequence

import pytest
import trio
from test_cli import read_log_until

from trio_chat.protocol.framing import LineBuffer
from trio_chat.testing import TextClient
from trio_chat.transports import open_stream, parse_url
from trio_chat.web import Pages


@pytest.fixture
async def run_server(certs):
    """Start ``trio-chat server`` on the given URLs; returns the URLs it reports."""
    processes = []

    async def run(*urls: str, flags: Sequence[str] = ()) -> list[str]:
        listen = [arg for url in urls for arg in ("--listen", url)]
        command = [sys.executable, "-m", "trio_chat", "server", "--db", ":memory:", *listen]
        command += ["--cert", certs.certfile, "--key", certs.keyfile, *flags]
        process = await trio.lowlevel.open_process(command, stderr=subprocess.PIPE)
        processes.append(process)
        log = LineBuffer(1 << 16)
        run.log = (process, log)  # the last server's, for a test to read on
        return [
            (await read_log_until(process, log, rf"listening on ({url.split(':')[0]}://\S+)"))[
                1
            ].decode()
            for url in urls
        ]

    yield run
    for process in processes:
        process.kill()
        await process.wait()
        await process.stderr.aclose()


async def test_users_on_four_transports_share_one_chat(run_server, certs, tmp_path):
    urls = await run_server(
        "tcp://127.0.0.1:0",
        "tls://127.0.0.1:0",
        f"unix://{tmp_path}/chat.sock",
        "ws://127.0.0.1:0/",
    )
    users = {}
    for nick, url in zip(["tcp", "tls", "unix", "ws"], urls, strict=True):
        stream = await open_stream(parse_url(url), cafile=certs.cafile)
        users[nick] = TextClient(stream)
        await users[nick].login(nick)
    try:
        for nick, user in users.items():
            await user.send_line(f"hello from {nick}")
        for user in users.values():
            heard = set()
            while heard != set(users):  # arrival order differs between transports
                heard.add((await user.expect(r"(\w+): hello from \1$"))[1])
    finally:
        for user in users.values():
            await user.stream.aclose()


async def chat_through(command: list[str], nick: str, other: TextClient) -> None:
    """Run a command-line client as a person would: type a nickname and a line."""
    process = await trio.lowlevel.open_process(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert process.stdin is not None
    assert process.stdout is not None
    user = TextClient(trio.StapledStream(process.stdin, process.stdout))
    try:
        assert f"welcome, {nick}" in await user.login(nick)
        await user.send_line(f"typed into {command[0]}")
        await other.expect(rf"{nick}: typed into {command[0]}$")
        await other.send_line("heard you")
        await user.expect(r"alice: heard you$")
    finally:
        process.kill()
        await process.wait()
        await process.stdin.aclose()
        await process.stdout.aclose()


async def alice_on(url: str, cafile: str) -> TextClient:
    alice = TextClient(await open_stream(parse_url(url), cafile=cafile))
    await alice.login("alice")
    return alice


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
async def test_openssl_s_client_chats_over_tls(run_server, certs):
    (url,) = await run_server("tls://127.0.0.1:0")
    alice = await alice_on(url, certs.cafile)
    address = url.removeprefix("tls://")
    command = ["openssl", "s_client", "-connect", address, "-CAfile", certs.cafile]
    await chat_through([*command, "-verify_return_error", "-quiet"], "olivia", alice)
    await alice.stream.aclose()


@pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")
async def test_socat_chats_over_a_unix_socket(run_server, certs, tmp_path):
    (url,) = await run_server(f"unix://{tmp_path}/chat.sock")
    alice = await alice_on(url, certs.cafile)
    await chat_through(["socat", "-", f"UNIX-CONNECT:{tmp_path}/chat.sock"], "sam", alice)
    await alice.stream.aclose()


async def test_tls_without_a_certificate_is_refused_at_start():
    result = await trio.run_process(
        [
            sys.executable,
            "-m",
            "trio_chat",
            "server",
            "--db",
            ":memory:",
            "--listen",
            "tls://127.0.0.1:0",
        ],
        capture_stderr=True,
        check=False,
    )
    assert result.returncode == 1
    assert b"needs a certificate: give --cert and --key" in result.stderr


async def handshake_from_page(port: int, origin: str) -> bytes:
    """What the server answers a browser asking for a WebSocket from a page of ``origin``."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    request = (
        f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n"
    )
    async with stream:
        await stream.send_all(request.encode())
        return await stream.receive_some()


async def test_a_websocket_from_another_web_site_is_refused_unless_allowed(run_server):
    (url,) = await run_server("ws://127.0.0.1:0/", flags=["--ws-origin", "https://chat.test"])
    port = parse_url(url).port
    answer = await handshake_from_page(port, "https://evil.test")
    assert answer.startswith(b"HTTP/1.1 403 Forbidden\r\n")
    assert answer.endswith(
        b"Origin 'https://evil.test' does not match Host '127.0.0.1:%d'\n" % port
    )
    await read_log_until(*run_server.log, r"WebSocket from 127\.0\.0\.1 refused: Origin")
    for allowed in ("https://chat.test", f"http://127.0.0.1:{port}"):
        answer = await handshake_from_page(port, allowed)
        assert answer.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")


async def plain_get(port: int) -> bytes:
    """What the server answers a browser's plain request for ``/``, until it closes."""
    answer = b""
    with trio.fail_after(30):
        async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
            await stream.send_all(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            while data := await stream.receive_some():
                answer += data
    return answer


async def test_the_server_says_where_a_browser_finds_the_page(run_server):
    for listen, page in [("wss://127.0.0.1:0/chat", "https://"), ("ws://127.0.0.1:0/", "http://")]:
        (url,) = await run_server(listen)
        found = await read_log_until(*run_server.log, r"open (\S+) in a browser to chat")
        assert found[1].decode() == page + url.partition("://")[2]
    answer = await plain_get(parse_url(url).port)  # the ws:// server, started last
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nContent-Security-Policy: default-src 'none';" in answer
    assert answer.endswith(Pages.load().files["index.html"])
    # one line in the log says what was asked and answered
    await read_log_until(*run_server.log, r'#\d+ from 127\.0\.0\.1: HTTP GET "/": 200$')


async def test_no_web_leaves_plain_requests_refused(run_server):
    (url,) = await run_server("ws://127.0.0.1:0/", flags=["--no-web"])
    answer = await plain_get(parse_url(url).port)
    assert answer.startswith(b"HTTP/1.1 426 Upgrade Required\r\n")


IRC_BOT = r"""
import socket, sys
sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
reader = sock.makefile("r", encoding="utf-8", newline="\r\n")
sock.sendall(b"NICK ircbot\r\nUSER bot 0 * :a bot\r\n")
for line in reader:
    words = line.split()
    if words[0] == "PING":
        sock.sendall(f"PONG {words[1]}\r\n".encode())
    elif words[1] == "366":  # the lobby's names: registered and in
        sock.sendall(b"PRIVMSG #lobby :hello, I am a bot\r\n")
    elif words[1] == "PRIVMSG" and line.rstrip().endswith(":!ping"):
        sock.sendall(b"PRIVMSG #lobby :pong\r\nQUIT :done\r\n")
"""


async def test_a_plain_irc_bot_talks_with_a_text_user(run_server, tmp_path):
    tcp, irc = await run_server("tcp://127.0.0.1:0", "irc://127.0.0.1:0")
    alice = TextClient(await open_stream(parse_url(tcp)))
    await alice.login("alice")
    port = irc.rsplit(":", 1)[1]
    with trio.fail_after(30):
        bot = await trio.lowlevel.open_process([sys.executable, "-c", IRC_BOT, port])
        try:
            await alice.expect(r"ircbot: hello, I am a bot$")
            await alice.send_line("!ping")
            await alice.expect(r"ircbot: pong$")
            await alice.expect(r"\* ircbot left #lobby \(quit: done\)$")
        finally:
            bot.kill()
            await bot.wait()
            await alice.stream.aclose()
