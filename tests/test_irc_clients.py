"""Real IRC clients (irssi, weechat; in tmux) in one conversation with ``nc`` and the
terminal client."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import trio
from irc_server_process import start_irc_server, tool_or_skip
from test_cli import kill
from test_client_terminal import Tmux, client_command, shows

from trio_chat.testing import TextClient

Check = Callable[[list[str]], bool]


def irssi_command(port: int, nick: str, home: Path) -> str:
    # Settings irssi asks about on first start are given, so that no question takes the keys.
    core = f'real_name = "{nick}"; user_name = "{nick}"; nick = "{nick}";'
    (home / "config").write_text(f"settings = {{ core = {{ {core} }}; }};\n")
    return f"irssi --home={home} --config={home / 'config'} -c 127.0.0.1 -p {port} -n {nick}"


def weechat_command(port: int, nick: str, home: Path) -> str:
    server = f"/server add chat 127.0.0.1/{port} -notls -nicks={nick} -username={nick}"
    return f"weechat --dir {home} --run-command '{server};/connect chat'"


@dataclass(frozen=True)
class IrcClient:
    """How to start one IRC client, find what it shows, and bring a window into view."""

    program: str
    command: Callable[[int, str, Path], str]
    # a line said by NICK: irssi "<NICK> text" (a space or @ or + before NICK in a
    # channel), weechat "NICK | text" (or @NICK, +NICK), after the time
    said_format: str
    # the window in view: irssi's prompt names it, weechat's status bar numbers it
    view_format: str
    goto: str  # the command that brings a channel's window into view

    def said(self, nick: str, text: str) -> Check:
        pattern = re.compile(self.said_format.format(nick=re.escape(nick)) + re.escape(text))
        return lambda screen: any(pattern.search(line) for line in screen)

    def in_view(self, name: str) -> Check:
        pattern = re.compile(self.view_format.format(name=re.escape(name)))
        return lambda screen: any(pattern.search(line) for line in screen[-2:])


IRSSI = IrcClient("irssi", irssi_command, r"<[ @+]?{nick}> ", r"^\[{name}\]", "/window goto")
WEECHAT = IrcClient(
    "weechat", weechat_command, r"\d\d [ @+]*{nick} \| ", r"\[irc/chat\] \d+:{name}\b", "/buffer"
)


@pytest.mark.parametrize("irc", [IRSSI, WEECHAT], ids=lambda irc: irc.program)
async def test_an_irc_client_the_terminal_client_and_nc_hold_one_conversation(tmp_path, irc):
    tool_or_skip("tmux", "tmux")
    tool_or_skip(irc.program, irc.program)
    server, ports = await start_irc_server()
    alice = Tmux(f"trio-chat-test-{os.getpid()}-{irc.program}", tmp_path / "tmux.conf", "alice")
    bob = Tmux(f"trio-chat-test-{os.getpid()}-{irc.program}", tmp_path / "tmux.conf", "bob")
    carol = TextClient(await trio.open_tcp_stream("127.0.0.1", ports["tcp"]))
    (tmp_path / irc.program).mkdir()
    try:
        await carol.login("carol")
        await bob.start(client_command(ports["tcp"], "bob", tmp_path))
        await carol.expect(r"\* bob joined #lobby$")
        await alice.start(irc.command(ports["irc"], "alice", tmp_path / irc.program))
        await carol.expect(r"\* alice joined #lobby$")  # every client starts in the lobby
        await alice.type(f"{irc.goto} #lobby")
        await alice.press("Enter")
        await alice.wait_for(irc.in_view("#lobby"))

        await alice.type(f"hello from {irc.program}")
        await alice.press("Enter")
        await alice.wait_for(irc.said("alice", f"hello from {irc.program}"))  # said in #lobby
        await carol.expect(rf"\] alice: hello from {irc.program}$")
        await bob.wait_for(shows(f"alice: hello from {irc.program}"))

        await carol.send_line("hello from nc")
        await alice.wait_for(irc.said("carol", "hello from nc"))
        await bob.wait_for(shows("carol: hello from nc"))

        await bob.type("hello from the terminal")
        await bob.press("Enter")
        await carol.expect(r"\] bob: hello from the terminal$")
        await alice.wait_for(irc.said("bob", "hello from the terminal"))

        # private messages, from each mode to the next
        await carol.send_line("/msg alice psst from nc")
        await alice.type("/query carol")  # the window the IRC client opened for carol
        await alice.press("Enter")
        await alice.wait_for(
            lambda screen: (
                irc.in_view("carol")(screen) and irc.said("carol", "psst from nc")(screen)
            )
        )
        await alice.type(f"/msg bob psst from {irc.program}")
        await alice.press("Enter")
        await bob.wait_for(lambda screen: screen[-1].rstrip().endswith(" 2:@alice(1!)"))
        await bob.press("M-2")  # the window the terminal client opened for alice
        await bob.wait_for(shows(f"alice -> bob: psst from {irc.program}"))
        await bob.type("/msg carol psst from the terminal")
        await bob.press("Enter")
        await carol.expect(r"\[private\] bob -> carol: psst from the terminal$")

        await alice.type("/quit see you")
        await alice.press("Enter")
        await carol.expect(r"\* alice left #lobby")
    finally:
        await carol.stream.aclose()
        await alice.run("kill-server", check=False)
        await kill(server)
