"""``trio-chat client`` as a user sees it: a real terminal (tmux), a real server."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import trio
from test_cli import read_log_until, start_server

from trio_chat.protocol.framing import LineBuffer
from trio_chat.testing import TextClient

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)"
)

SCREEN_DEADLINE = 30.0
ROOT = str(Path(__file__).parent.parent)  # where ``python -m trio_chat`` finds this copy
# A terminal offers no event for "the screen changed": capture-pane is polled
# at this pace until the expected screen appears or the deadline passes.
POLL = 0.1


class Tmux:
    """One terminal (a session) on a private tmux server."""

    def __init__(self, name: str, config: Path, session: str = "chat") -> None:
        # The pane outlives the client, so the server is still there to be
        # asked when the client has exited.
        config.write_text("set -g remain-on-exit on\n")
        self.base = ["tmux", "-L", name, "-f", str(config)]
        self.session = session

    async def start(self, command: str, rows: int = 40) -> None:
        await self.run(
            "new-session",
            "-d",
            "-s",
            self.session,
            "-x",
            "100",
            "-y",
            str(rows),
            "-c",
            ROOT,
            command,
        )

    async def run(self, *args: str, check: bool = True) -> str:
        result = await trio.run_process(
            [*self.base, *args], capture_stdout=True, capture_stderr=True, check=check
        )
        return result.stdout.decode()

    async def screen(self) -> list[str]:
        return (await self.run("capture-pane", "-p", "-t", self.session)).rstrip("\n").split("\n")

    async def wait_for(self, check: Callable[[list[str]], bool]) -> list[str]:
        """Poll the screen until ``check`` holds for it; fail after a deadline."""
        screen: list[str] = []
        try:
            with trio.fail_after(SCREEN_DEADLINE):
                while True:
                    screen = await self.screen()
                    if check(screen):
                        return screen
                    await trio.sleep(POLL)
        except trio.TooSlowError:
            raise AssertionError("the screen never showed it:\n" + "\n".join(screen)) from None

    async def type(self, text: str) -> None:
        await self.run("send-keys", "-t", self.session, "-l", text)

    async def press(self, key: str) -> None:
        await self.run("send-keys", "-t", self.session, key)


def shows(text: str) -> Callable[[list[str]], bool]:
    return lambda screen: any(text in line for line in screen)


async def start_server_on(port: int) -> tuple[trio.Process, LineBuffer]:
    process = await trio.lowlevel.open_process(
        [
            sys.executable,
            "-m",
            "trio_chat",
            "server",
            "--listen",
            f"tcp://127.0.0.1:{port}",
            "--db",
            ":memory:",
        ],
        stderr=subprocess.PIPE,
    )
    log = LineBuffer(1 << 16)
    await read_log_until(process, log, r"listening on ")
    return process, log


async def stop(process: trio.Process) -> None:
    process.send_signal(signal.SIGTERM)
    with trio.fail_after(30):
        await process.wait()
    assert process.stderr is not None
    await process.stderr.aclose()


async def test_typing_survives_traffic_and_the_client_survives_a_server_restart(tmp_path):
    server, port, _ = await start_server()
    tmux = Tmux(f"trio-chat-test-{os.getpid()}", tmp_path / "tmux.conf")
    status = tmp_path / "status"
    command = (
        f"{sys.executable} -m trio_chat client tcp://127.0.0.1:{port} --nick alice"
        f" --history-file {tmp_path / 'history'}; echo $? > {status};"
        f" {' '.join(tmux.base)} wait-for -S exited;"
        " cat"  # the pane stays, with what the client said, until the test ends
    )
    others: list[TextClient] = []
    try:
        await tmux.start(command)
        await tmux.wait_for(shows("* alice joined #lobby"))
        await tmux.type("half a l")

        bob = TextClient(await trio.open_tcp_stream("127.0.0.1", port))
        others.append(bob)
        await bob.login("bob")
        for n in range(25):
            await bob.send_line(f"message {n}")
        await tmux.type("i")

        def typing_below_the_messages(screen: list[str]) -> bool:
            said = [i for i, line in enumerate(screen) if "bob: message" in line]
            prompt = [i for i, line in enumerate(screen) if line.startswith("> ")]
            return (
                len(said) == 25
                and len(prompt) == 1
                and screen[prompt[0]] == "> half a li"
                and said[-1] < prompt[0]
                and [screen[i].split("bob: ")[1] for i in said]
                == [f"message {n}" for n in range(25)]
            )

        # the toolbar is redrawn apart from the lines: wait for both
        await tmux.wait_for(
            lambda screen: (
                typing_below_the_messages(screen)
                and "connected | alice | #lobby (2 here)" in screen[-1]
            )
        )

        await stop(server)
        await tmux.wait_for(lambda screen: "reconnecting in" in screen[-1])
        await tmux.type("n")  # typing goes on while offline

        server, _ = await start_server_on(port)
        carol = TextClient(await trio.open_tcp_stream("127.0.0.1", port))
        others.append(carol)
        await carol.login("carol")
        await tmux.wait_for(
            lambda screen: "connected | alice" in screen[-1] and "> half a lin" in screen
        )
        await tmux.type("e")
        await tmux.press("Enter")
        await carol.expect(r"alice: half a line$")
        await tmux.wait_for(shows("alice: half a line"))

        await tmux.type("/quit")
        await tmux.press("Enter")
        await carol.expect(r"\* alice left #lobby \(quit\)$")
        with trio.fail_after(SCREEN_DEADLINE):
            await tmux.run("wait-for", "exited")
        assert status.read_text() == "0\n"
    finally:
        for client in others:
            await client.stream.aclose()
        await tmux.run("kill-server", check=False)
        if server.returncode is None:
            server.kill()
        await server.wait()


@pytest.mark.parametrize("key", ["C-c", "C-d"])
async def test_ctrl_c_and_ctrl_d_leave_cleanly_and_restore_the_terminal(tmp_path, key):
    server, port, _ = await start_server()
    tmux = Tmux(f"trio-chat-test-{os.getpid()}-{key}", tmp_path / "tmux.conf")
    modes = tmp_path / "stty"
    command = (
        f"{sys.executable} -m trio_chat client tcp://127.0.0.1:{port} --nick alice"
        f" --history-file {tmp_path / 'history'}; stty -a > {modes};"
        f" {' '.join(tmux.base)} wait-for -S exited"
    )
    bob = TextClient(await trio.open_tcp_stream("127.0.0.1", port))
    try:
        await bob.login("bob")
        await tmux.start(command, rows=20)
        await bob.expect(r"\* alice joined #lobby$")
        await tmux.wait_for(lambda screen: "connected | alice" in screen[-1])
        await tmux.press(key)
        await bob.expect(r"\* alice left #lobby \(quit\)$")
        with trio.fail_after(SCREEN_DEADLINE):
            await tmux.run("wait-for", "exited")
        flags = modes.read_text().split()
        assert "echo" in flags
        assert "icanon" in flags
    finally:
        await bob.stream.aclose()
        await tmux.run("kill-server", check=False)
        await stop(server)


def client_command(port: int, nick: str, data: Path) -> str:
    return (
        f"{sys.executable} -m trio_chat client tcp://127.0.0.1:{port} --nick {nick}"
        f" --history-file {data / nick}"
    )


async def test_two_terminals_and_a_netcat_user_see_one_conversation(tmp_path):
    server, port, _ = await start_server()
    alice = Tmux(f"trio-chat-test-{os.getpid()}-three", tmp_path / "tmux.conf", "alice")
    bob = Tmux(f"trio-chat-test-{os.getpid()}-three", tmp_path / "tmux.conf", "bob")
    carol = TextClient(await trio.open_tcp_stream("127.0.0.1", port))
    try:
        await carol.login("carol")
        await alice.start(client_command(port, "alice", tmp_path))
        await carol.expect(r"\* alice joined #lobby$")
        await bob.start(client_command(port, "bob", tmp_path))
        await carol.expect(r"\* bob joined #lobby$")

        said = []
        for n in range(4):  # sent at once from all three: the server picks one order
            for who in (alice, bob):
                await who.type(f"{who.session} {n}")
                await who.press("Enter")
            await carol.send_line(f"carol {n}")
            said += [f"alice {n}", f"bob {n}", f"carol {n}"]

        heard = []
        while len(heard) < len(said):
            line = (await carol.expect(r"\] (\w+): (.*)$")).string
            heard.append(line.split("] ", 1)[1])
        assert sorted(h.split(": ")[1] for h in heard) == sorted(said)

        def conversation(screen: list[str]) -> list[str]:
            return [line.split("] ", 1)[1] for line in screen if re.search(r"\] \w+: ", line)]

        for terminal in (alice, bob):
            await terminal.wait_for(lambda screen: conversation(screen) == heard)
    finally:
        await carol.stream.aclose()
        await alice.run("kill-server", check=False)
        await stop(server)


async def test_an_unknown_host_at_first_start_ends_the_client_with_a_reason(tmp_path):
    tmux = Tmux(f"trio-chat-test-{os.getpid()}-unknown", tmp_path / "tmux.conf")
    status = tmp_path / "status"
    command = (
        f"{sys.executable} -m trio_chat client nosuchhost.invalid:1 --nick alice"
        f" --history-file {tmp_path / 'history'}; echo $? > {status};"
        f" {' '.join(tmux.base)} wait-for -S exited;"
        " cat"  # the pane stays, with what the client said, until the test ends
    )
    try:
        await tmux.start(command)
        with trio.fail_after(SCREEN_DEADLINE):
            await tmux.run("wait-for", "exited")
        assert status.read_text() == "1\n"
        screen = await tmux.wait_for(shows("trio-chat: cannot connect to"))
        assert any("tcp://nosuchhost.invalid:1: " in line for line in screen)
    finally:
        await tmux.run("kill-server", check=False)


async def test_windows_switch_with_alt_digits_mark_unread_and_a_private_message_rings(tmp_path):
    server, port, _ = await start_server()
    # A session that is not attached marks a bell in its window: tmux's own
    # record of the bell, read back instead of watching the output for it.
    tmux = Tmux(f"trio-chat-test-{os.getpid()}-windows", tmp_path / "tmux.conf")
    bob = TextClient(await trio.open_tcp_stream("127.0.0.1", port))

    async def rang() -> bool:
        flag = await tmux.run("display-message", "-p", "-t", tmux.session, "#{window_bell_flag}")
        return flag.strip() == "1"

    def bar(text: str) -> Callable[[list[str]], bool]:
        """The toolbar ends with ``text``."""
        return lambda screen: screen[-1].rstrip().endswith(text)

    try:
        await bob.login("bob")
        await tmux.start(client_command(port, "alice", tmp_path))
        await tmux.wait_for(bar("connected | alice | #lobby (2 here) | 1:#lobby"))
        await tmux.type("/join #dev")
        await tmux.press("Enter")
        await tmux.wait_for(bar("| #dev (1 here) | 1:#lobby 2:#dev"))
        await tmux.press("M-1")
        await tmux.wait_for(
            lambda screen: (
                bar("| #lobby (2 here) | 1:#lobby 2:#dev")(screen)
                and shows("alice joined #lobby")(screen)
                and not shows("alice joined #dev")(screen)
            )  # that is #dev's
        )

        await bob.send_line("/join #dev")
        await bob.send_line("hi dev")
        screen = await tmux.wait_for(bar(" 1:#lobby 2:#dev(1)"))
        assert not any("hi dev" in line for line in screen)
        assert not await rang()  # a message that does not name alice

        await tmux.press("M-2")
        await tmux.wait_for(
            lambda screen: (
                bar("| #dev (2 here) | 1:#lobby 2:#dev")(screen)
                and any(line.endswith("] bob: hi dev") for line in screen)  # no room before it
                and not shows("alice joined #lobby")(screen)
            )
        )

        await bob.send_line("/msg alice psst")
        await tmux.wait_for(bar(" 1:#lobby 2:#dev 3:@bob(1!)"))
        assert await rang()
    finally:
        await bob.stream.aclose()
        await tmux.run("kill-server", check=False)
        await stop(server)


async def test_a_pasted_block_goes_out_as_one_message_a_line(tmp_path):
    server, port, _ = await start_server()
    tmux = Tmux(f"trio-chat-test-{os.getpid()}-paste", tmp_path / "tmux.conf")
    bob = TextClient(await trio.open_tcp_stream("127.0.0.1", port))
    try:
        await bob.login("bob")
        await tmux.start(client_command(port, "alice", tmp_path))
        await tmux.wait_for(shows("connected | alice"))
        # as a terminal pastes: bracketed, since the client asks for that
        await tmux.run("set-buffer", "first line\nsecond line\nthird line")
        await tmux.run("paste-buffer", "-p", "-t", tmux.session)
        await tmux.wait_for(shows("- sending 3 lines..."))
        said = [(await bob.expect(r"\] alice: (.*)$"))[1] for _ in range(3)]
        assert said == ["first line", "second line", "third line"]
    finally:
        await bob.stream.aclose()
        await tmux.run("kill-server", check=False)
        await stop(server)
