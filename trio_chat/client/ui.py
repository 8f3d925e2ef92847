"""The terminal: prompt_toolkit on asyncio, with the chat on Trio as its guest.

prompt_toolkit runs on asyncio, so Trio runs in guest mode on the same loop:
one thread, no locks. Typed lines cross to Trio through an unbounded channel
(a full channel would raise inside ``run_sync_soon`` and end the run), and
Trio writes what arrives through ``patch_stdout``, which prints above the
input line and leaves what the user is typing alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import signal
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import outcome
import trio
from prompt_toolkit import PromptSession
from prompt_toolkit.filters import Condition, has_completions
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.history import FileHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent, merge_key_bindings
from prompt_toolkit.keys import Keys
from prompt_toolkit.output import ColorDepth, create_output
from prompt_toolkit.patch_stdout import patch_stdout

from trio_chat.client.buffers import Buffers
from trio_chat.client.completion import ChatCompleter
from trio_chat.client.connection import ChatClient, ClearScreen, Note, Servers, Shown, State
from trio_chat.client.paste import pasted_lines
from trio_chat.client.render import STYLE, Days, render, split_lines, to_ansi
from trio_chat.protocol.rules import fold, sanitize


def toolbar(client: ChatClient, buffers: Buffers | None = None) -> FormattedText:
    """The bottom line: connection state, nickname, room, how many are there,
    and with ``buffers`` the windows (see ``windows``); above it, the topic
    of the room in view, when it has one.

    "here" counts the room in view; "online", in the welcome, the whole server.
    """
    to = f" to {client.server}" if client.server else ""  # which one, when there are several
    match client.state:
        case State.CONNECTED:
            state = ("", " connected ")
        case State.RECONNECTING:
            state = ("class:toolbar.reconnecting", f" reconnecting{to} in {client.retry_in} s ")
        case State.CONNECTING:
            state = ("class:toolbar.reconnecting", f" connecting{to} ")
        case State.OFFLINE:
            state = ("class:toolbar.offline", " offline: choose a nickname ")
        case State.PASSWORD:
            state = ("class:toolbar.offline", " offline: type the password ")
    room = client.room if buffers is None else buffers.current.room
    here = len(client.members.get(fold(room), [])) if room else 0
    where = f" {room} ({here} here) " if room else " no room "
    if buffers is not None and buffers.current.nick:
        where = f" {buffers.current.name} "
    pending = f"| {len(client.pending)} pending " if client.pending else ""
    line = [state, ("", f"| {client.nick} |{where}{pending}")]
    if buffers is not None:
        line += windows(buffers)
    if room and (topic := client.topics.get(fold(room))):
        line = [("class:toolbar.topic", f" {sanitize(topic)} "), ("", "\n"), *line]
    return FormattedText(line)


def windows(buffers: Buffers) -> list[tuple[str, str]]:
    """``| 1:#lobby 2:#dev(3) 3:@bob(1!)``: each window with its number and
    unread messages, ``!`` when one named the user or was private; the one in
    view highlighted."""
    shown: list[tuple[str, str]] = [("", "|")]
    for number, buffer in enumerate(buffers.buffers, 1):
        mark = f"({buffer.unread}{'!' if buffer.marked else ''})" if buffer.unread else ""
        style = "class:toolbar.marked" if buffer.marked else ""
        if buffer is buffers.current:
            style = "class:toolbar.current"
        shown += [("", " "), (style, f"{number}:{buffer.name}{mark}")]
    return [*shown, ("", " ")]


CLEAR = "\x1b[H\x1b[2J"  # cursor home, then clear the screen

# Typed lines that hold a password: never written to the history file.
SECRET_COMMANDS = ("/register", "/password")


def holds_password(line: str) -> bool:
    words = line.split(maxsplit=1)
    return bool(words) and words[0].lower() in SECRET_COMMANDS


class PrivateHistory(FileHistory):
    """The input history file, readable by its owner only and without passwords.

    A line typed while ``typing_secret()`` is true (the prompt hides a
    password) and the commands that carry one are not kept, not even for the
    Up arrow; such lines already in the file (kept by an older version) are
    not offered either.
    """

    def __init__(self, path: Path, typing_secret: Callable[[], bool]) -> None:
        self._typing_secret = typing_secret
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Created private; one made before (world-readable) is made private too.
        os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)
        super().__init__(str(path))

    def load_history_strings(self) -> Iterable[str]:
        return [line for line in super().load_history_strings() if not holds_password(line)]

    def append_string(self, string: str) -> None:
        if not (self._typing_secret() or holds_password(string)):
            super().append_string(string)


def paste_keys(on_paste: Callable[[list[str]], None]) -> KeyBindings:
    """A paste of several lines goes to ``on_paste``, line by line, and not to the input line."""
    bindings = KeyBindings()

    @bindings.add(Keys.BracketedPaste)
    def _(event: KeyPressEvent) -> None:
        """Pasted text: a single line is inserted, several are each sent."""
        buffer = event.current_buffer
        document = buffer.document
        data = event.data.strip("\r\n")
        if "\n" not in data and "\r" not in data:
            buffer.insert_text(data)
            return
        lines = pasted_lines(document.text_before_cursor, data, document.text_after_cursor)
        buffer.reset()
        on_paste(lines)

    return bindings


def window_keys(buffers: Buffers, moved: Callable[[], None]) -> KeyBindings:
    """Alt-1..9, Alt-Left/Right and Ctrl-P/N show another window; ``moved`` is
    called when the one in view changed."""
    bindings = KeyBindings()

    def go(move: Callable[[], bool]) -> None:
        if move():
            moved()

    for number in range(1, 10):

        @bindings.add("escape", str(number))
        def _(event: KeyPressEvent, number: int = number) -> None:
            """Alt-N: window N."""
            go(lambda: buffers.switch(number))

    @bindings.add("escape", "left")
    @bindings.add("c-p", filter=~has_completions)  # in a completion menu, the one before
    def _(event: KeyPressEvent) -> None:
        """The window before."""
        go(lambda: buffers.next(-1))

    @bindings.add("escape", "right")
    @bindings.add("c-n", filter=~has_completions)
    def _(event: KeyPressEvent) -> None:
        """The window after."""
        go(buffers.next)

    return bindings


def make_session(
    client: ChatClient,
    history: Path | None,
    on_paste: Callable[[list[str]], None] | None = None,
    buffers: Buffers | None = None,
    moved: Callable[[], None] = lambda: None,
    **kwargs: object,
) -> PromptSession[str]:
    """The input line: history, completion, the toolbar, pasting, and with
    ``buffers`` the keys that change windows (``moved`` redraws)."""
    typing_password = Condition(lambda: client.state is State.PASSWORD)
    keys = [paste_keys(on_paste or client.paste)]
    if buffers is not None:
        keys.append(window_keys(buffers, moved))
    return PromptSession(
        "> ",
        history=PrivateHistory(history, typing_password) if history is not None else None,
        completer=ChatCompleter(client.nicknames, client.room_names),
        complete_while_typing=False,
        erase_when_done=True,  # the server's echo shows what was said
        is_password=typing_password,
        bottom_toolbar=lambda: toolbar(client, buffers),
        style=STYLE,
        key_bindings=merge_key_bindings(keys),
        **kwargs,  # type: ignore[arg-type]
    )


class Terminal:
    """One chat session in the terminal, from start to a clean exit."""

    def __init__(
        self,
        nick: str,
        servers: Servers,
        history: Path | None,
        password: str | None = None,
        *,
        bell: bool = True,
        colour: bool = True,
        join: tuple[str, ...] = (),
    ) -> None:
        self.buffers = Buffers()
        self.bell = bell
        self.client = ChatClient(
            nick,
            servers,
            show=self.show,
            changed=self.refresh,
            password=password,
            join=join,
            aim=self.buffers.aim,
        )
        self.color_depth: ColorDepth = (
            create_output().get_default_color_depth() if colour else ColorDepth.MONOCHROME
        )
        self.session = make_session(
            self.client,
            history,
            self._paste,
            self.buffers,
            moved=self.redraw,
            color_depth=self.color_depth,
        )
        self.days = Days()
        self._lines_send, self._lines_receive = trio.open_memory_channel[str](math.inf)
        self._token: trio.lowlevel.TrioToken | None = None

    def show(self, item: Shown) -> None:
        """Keep ``item`` in its window; draw it if that window is in view."""
        if isinstance(item, ClearScreen):
            self.buffers.current.lines.clear()
            # the renderer clears and then draws the input line again
            self.session.app.renderer.clear()
            return
        in_view = self.buffers.current
        routed = self.buffers.route(item, self.client.nick, self.client.rooms)
        text = render(
            item,
            self.client.nick,
            days=self.days,
            in_its_window=True,
            mention=routed.mention,
        )
        lines = [to_ansi(line, self.color_depth) for line in split_lines(text)]
        routed.buffer.lines.extend(lines)
        if self.buffers.current is not in_view:
            self.redraw()
        elif routed.buffer is in_view:
            sys.stdout.write("".join(lines))
        if routed.ring and self.bell:
            output = self.session.app.output
            output.bell()
            output.flush()

    def redraw(self) -> None:
        """Show the window now in view, its lines only."""
        # Cleared in the same stream as the lines, so nothing comes between them.
        sys.stdout.write(CLEAR + "".join(self.buffers.current.lines))
        self.refresh()

    def submit(self, line: str) -> None:
        """A typed line: a window command is done here, anything else by the client."""
        in_view = self.buffers.current
        done = self.buffers.command(line)
        if done is None:
            self.client.submit(line)
        elif done.error is not None:
            self.show(Note(done.error, "error"))
        if self.buffers.current is not in_view:
            self.redraw()

    def _paste(self, lines: list[str]) -> None:
        if self._token is not None:  # pasted on the asyncio side; the client runs on Trio
            self._token.run_sync_soon(self.client.paste, lines)

    def refresh(self) -> None:
        self.session.app.invalidate()

    async def _trio_main(self, token: asyncio.Future[trio.lowlevel.TrioToken]) -> None:
        token.set_result(trio.lowlevel.current_trio_token())
        async with trio.open_nursery() as nursery:

            async def submit_lines() -> None:
                async for line in self._lines_receive:
                    self.submit(line)

            nursery.start_soon(submit_lines)
            await self.client.run()
            nursery.cancel_scope.cancel()

    async def _prompt(self, token: trio.lowlevel.TrioToken) -> None:
        while True:
            try:
                line = await self.session.prompt_async()
            except (EOFError, KeyboardInterrupt):
                token.run_sync_soon(self.client.quit, "")
                return
            token.run_sync_soon(self._lines_send.send_nowait, line)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[outcome.Outcome[None]] = loop.create_future()
        token: asyncio.Future[trio.lowlevel.TrioToken] = loop.create_future()
        with patch_stdout(raw=True):
            trio.lowlevel.start_guest_run(
                self._trio_main,
                token,
                run_sync_soon_threadsafe=loop.call_soon_threadsafe,
                done_callback=done.set_result,
                host_uses_signal_set_wakeup_fd=True,
            )
            trio_token = self._token = await token
            for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                # a signal leaves the way /quit does, so the terminal is restored
                loop.add_signal_handler(signum, trio_token.run_sync_soon, self.client.quit, "")
            prompt = asyncio.ensure_future(self._prompt(trio_token))
            either: list[asyncio.Future[Any]] = [prompt, done]
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            prompt.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await prompt
            result = await done
        result.unwrap()


def run(
    nick: str,
    servers: Servers,
    history: Path | None,
    password: str | None = None,
    *,
    bell: bool = True,
    colour: bool = True,
    join: tuple[str, ...] = (),
) -> int:
    """Chat until the user leaves (0), or until an error that will not clear (1).

    ``bell``: ring for a mention or a private message in a window out of view;
    ``join``: rooms to join once first welcomed; ``colour=False``: monochrome.
    """
    terminal = Terminal(nick, servers, history, password, bell=bell, colour=colour, join=join)
    asyncio.run(terminal.run())
    if terminal.client.failure is not None:  # said once the terminal is restored
        print(f"trio-chat: {terminal.client.failure}", file=sys.stderr)
        return 1
    return 0
