"""The web page in a real browser: a ``trio-chat server`` process and headless Chromium.

Selenium's calls block, so ``Page`` runs each one in a worker thread: the
test's Trio loop stays free to read the server's log and to play TCP users
while the browser works.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest
import trio
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait
from test_cli import read_log_until

from trio_chat.protocol.framing import LineBuffer
from trio_chat.testing import TextClient

T = TypeVar("T")

# Seconds a page may take to show what a test waits for; generous for a busy
# CI machine, and a hang still fails.
WAIT = 15.0

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    # Without these Chromium reaches out to hosts a test machine may not reach.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
)

READ_MESSAGES = """
return Array.from(document.querySelectorAll("#messages li.line.message:not(.pending)"), (li) => [
    li.querySelector(".nick")?.textContent ?? "",
    li.querySelector(".text")?.textContent ?? "",
]);
"""


def chromium_or_skip() -> tuple[str, str]:
    """The paths of chromium and chromedriver; without them, skip (fail when run by CI)."""
    browser = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        message = "chromium is not installed (Debian: apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return browser, driver


def start_chromium(browser: str, driver: str, profile: Path) -> WebDriver:
    """A headless Chromium with a fresh profile, driven by the system's chromedriver."""
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    chrome.set_page_load_timeout(WAIT)
    chrome.set_script_timeout(WAIT)
    return chrome


class ServerProcess:
    """``trio-chat server`` on a TCP and a WebSocket listener, restartable on the same
    ports and database."""

    def __init__(self, db: Path, nursery: trio.Nursery, *flags: str) -> None:
        self.db = db
        self.flags = flags
        self.tcp_port = 0
        self.ws_port = 0
        self._nursery = nursery
        self._process: trio.Process | None = None

    @property
    def page_url(self) -> str:
        """Where a browser loads the page; it opens its WebSocket at the same URL."""
        return f"http://127.0.0.1:{self.ws_port}/"

    async def start(self, *, web: bool = True) -> None:
        """Start, on the ports it had before if any; ``web=False`` opens only the TCP one."""
        assert self._process is None, "already running"
        listen = ["--listen", f"tcp://127.0.0.1:{self.tcp_port}"]
        if web:
            listen += ["--listen", f"ws://127.0.0.1:{self.ws_port}/"]
        command = [sys.executable, "-m", "trio_chat", "server", *listen, "--db", str(self.db)]
        process = await trio.lowlevel.open_process([*command, *self.flags], stderr=subprocess.PIPE)
        self._process = process
        self.tcp_port, ws_port = await self._nursery.start(self._watch, process, web)
        self.ws_port = ws_port or self.ws_port

    async def stop(self) -> None:
        """SIGTERM, as an operator restarting it would, and wait until it has exited."""
        assert self._process is not None, "not running"
        process, self._process = self._process, None
        process.send_signal(signal.SIGTERM)
        with trio.fail_after(30):
            assert await process.wait() == 0

    async def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            await self._process.wait()
            self._process = None

    async def tcp_user(self, nick: str) -> TextClient:
        """A person with ``nc`` on the TCP listener, logged in as ``nick``."""
        user = TextClient(await trio.open_tcp_stream("127.0.0.1", self.tcp_port))
        await user.login(nick)
        return user

    @staticmethod
    async def _watch(
        process: trio.Process, web: bool, *, task_status: trio.TaskStatus[tuple[int, int]]
    ) -> None:
        """Report the ports the server logs, then read its log to the end, so that a
        full pipe never stalls it."""
        assert process.stderr is not None
        async with process.stderr:
            log = LineBuffer(1 << 16)
            tcp = await read_log_until(process, log, r"listening on tcp://127\.0\.0\.1:(\d+)")
            ws_port = 0
            if web:
                ws = await read_log_until(process, log, r"listening on ws://127\.0\.0\.1:(\d+)/")
                ws_port = int(ws[1])
            task_status.started((int(tcp[1]), ws_port))
            while await process.stderr.receive_some():
                pass


class Page:
    """The chat page in one browser, driven as a person would, found by the ids and
    classes the page promises to keep."""

    def __init__(self, driver: WebDriver) -> None:
        self.driver = driver

    async def _call(self, function: Callable[..., T], *args: Any) -> T:
        return await trio.to_thread.run_sync(partial(function, *args))

    async def open(self, url: str) -> None:
        await self._call(self.driver.get, url)

    async def script(self, source: str) -> Any:
        return await self._call(self.driver.execute_script, source)

    async def wait_until(
        self, condition: Callable[[WebDriver], T], what: str, *, within: float = WAIT
    ) -> T:
        """The first true value of ``condition``, polled for at most ``within`` seconds."""
        wait = WebDriverWait(self.driver, within, poll_frequency=0.05)
        return await self._call(wait.until, condition, f"waited {within} s for {what}")

    async def type_into(self, selector: str, text: str, *, enter: bool = False) -> None:
        def type_() -> None:
            field = self.driver.find_element(By.CSS_SELECTOR, selector)
            field.clear()
            field.send_keys(text + (Keys.ENTER if enter else ""))

        await self._call(type_)

    async def click(self, selector: str) -> None:
        await self._call(lambda: self.driver.find_element(By.CSS_SELECTOR, selector).click())

    async def text(self, selector: str) -> str:
        """The visible text of the element ``selector``."""
        return await self._call(lambda: self.driver.find_element(By.CSS_SELECTOR, selector).text)

    async def is_shown(self, selector: str) -> bool:
        return await self._call(
            lambda: self.driver.find_element(By.CSS_SELECTOR, selector).is_displayed()
        )

    async def wait_shown(self, selector: str) -> None:
        await self.wait_until(
            lambda driver: driver.find_element(By.CSS_SELECTOR, selector).is_displayed(),
            f"{selector} to be shown",
        )

    async def login(self, nick: str) -> None:
        """Choose ``nick`` and wait until the chat is shown."""
        await self.submit_nick(nick)
        await self.wait_shown("#chat")

    async def submit_nick(self, nick: str) -> None:
        await self.wait_shown("#login")
        await self.type_into("#nick", nick)
        await self.click("#enter")

    async def say(self, line: str) -> None:
        """Type ``line`` into the composer and press Enter."""
        await self.type_into("#line", line, enter=True)

    async def wait_for_messages(self, count: int) -> list[tuple[str, str]]:
        """(nick, text) of each message shown, top to bottom, once there are at least
        ``count`` (lines still pending left out)."""

        def enough(driver: WebDriver) -> list[tuple[str, str]] | None:
            shown = [(nick, text) for nick, text in driver.execute_script(READ_MESSAGES)]
            return shown if len(shown) >= count else None

        return await self.wait_until(enough, f"{count} messages")

    async def wait_status(self, pattern: str, *, within: float = WAIT) -> str:
        """The text of #status once it matches ``pattern`` (re.search)."""

        def matches(driver: WebDriver) -> str | None:
            text: str = driver.find_element(By.ID, "status").text
            return text if re.search(pattern, text) else None

        return await self.wait_until(matches, f"#status to match {pattern!r}", within=within)

    async def set_viewport(self, width: int, height: int) -> None:
        """Make the page's viewport ``width`` x ``height`` CSS pixels.

        The window's size includes what the browser draws around the page, so
        it is set once, measured, and set again with the difference added.
        """

        def resize() -> None:
            self.driver.set_window_size(width, height)
            inner = self.driver.execute_script("return [innerWidth, innerHeight]")
            self.driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])

        await self._call(resize)

    async def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        assert await self._call(self.driver.save_screenshot, str(path))
