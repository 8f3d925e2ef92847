"""The web page in headless Chromium, against a real ``trio-chat server`` process.

Each test starts its own server and browsers (Chromium starts in under a
second), and uses nicknames of its own.
"""

from __future__ import annotations

import json
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import trio
from browser_harness import Page, ServerProcess, chromium_or_skip, start_chromium
from selenium.webdriver.remote.webdriver import WebDriver

TEST_TIMEOUT = 90
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TCP_MESSAGE = r"^\[\d\d:\d\d:\d\d\] (\S+): (.*)$"

OpenPage = Callable[[str], Awaitable[Page]]


@pytest.fixture
def chromium(monkeypatch) -> tuple[str, str]:
    """The paths of chromium and chromedriver, checked before any server starts."""
    # Selenium Manager must never download a browser or a driver.
    monkeypatch.setenv("SE_OFFLINE", "true")
    return chromium_or_skip()


@pytest.fixture
async def open_page(chromium, tmp_path) -> AsyncIterator[OpenPage]:
    """Open a URL in a new headless Chromium, with a profile of its own."""
    browser, driver = chromium
    drivers: list[WebDriver] = []

    async def open_(url: str) -> Page:
        profile = tmp_path / f"profile-{len(drivers)}"
        chrome = await trio.to_thread.run_sync(start_chromium, browser, driver, profile)
        drivers.append(chrome)
        page = Page(chrome)
        await page.open(url)
        return page

    yield open_
    for chrome in drivers:
        chrome.quit()


@pytest.fixture
async def chat_server(tmp_path, nursery) -> AsyncIterator[ServerProcess]:
    """A server with a TCP and a WebSocket listener and a database file."""
    server = ServerProcess(tmp_path / "chat.db", nursery)
    await server.start()
    yield server
    await server.kill()


async def test_two_pages_and_a_tcp_user_see_one_conversation_in_one_order(open_page, chat_server):
    with trio.fail_after(TEST_TIMEOUT):
        pages = {}
        for nick in ("ann", "ben"):
            pages[nick] = await open_page(chat_server.page_url)
            await pages[nick].login(nick)
        tess = await chat_server.tcp_user("tess")

        async def page_says(nick: str) -> None:
            for n in range(3):
                await pages[nick].say(f"{nick} says {n}")

        async def tcp_says() -> None:
            for n in range(3):
                await tess.send_line(f"tess says {n}")

        async with trio.open_nursery() as nursery:  # all three type at once
            nursery.start_soon(page_says, "ann")
            nursery.start_soon(page_says, "ben")
            nursery.start_soon(tcp_says)

        heard = []
        while len(heard) < 9:
            heard.append(tuple((await tess.expect(TCP_MESSAGE)).groups()))
        assert sorted(heard) == sorted(
            (nick, f"{nick} says {n}") for nick in ("ann", "ben", "tess") for n in range(3)
        )
        for page in pages.values():
            assert await page.wait_for_messages(9) == heard
        await tess.stream.aclose()


PAYLOADS = ["<script>window.pwned=1</script>", '<img src=x onerror="window.pwned=1">']


async def test_markup_in_a_message_is_shown_as_text_and_runs_nothing(open_page, chat_server):
    with trio.fail_after(TEST_TIMEOUT):
        page = await open_page(chat_server.page_url)
        await page.login("vic")
        mallory = await chat_server.tcp_user("mallory")
        for payload in PAYLOADS:
            await mallory.send_line(payload)
        assert await page.wait_for_messages(2) == [("mallory", payload) for payload in PAYLOADS]
        visible = await page.script(
            'return Array.from(document.querySelectorAll("#messages li.line.message .text"),'
            " (text) => text.innerText);"
        )
        assert visible == PAYLOADS
        assert await page.script('return document.querySelectorAll("#messages img").length') == 0
        assert await page.script("return window.pwned") is None
        await mallory.stream.aclose()


async def test_the_page_comes_back_after_a_restart_with_what_it_missed(open_page, chat_server):
    with trio.fail_after(TEST_TIMEOUT):
        page = await open_page(chat_server.page_url)
        await page.login("rae")
        await page.wait_status("^online$")
        tom = await chat_server.tcp_user("tom")
        await tom.send_line("before the restart")
        await page.wait_for_messages(1)

        await chat_server.stop()
        await tom.lines_until_closed()
        await tom.stream.aclose()
        await page.wait_status("^offline")

        # Only the TCP listener at first: the page cannot be back before tom speaks.
        await chat_server.start(web=False)
        tom = await chat_server.tcp_user("tom")
        await tom.send_line("while you were away")
        await tom.expect(r"tom: while you were away$")
        await chat_server.stop()
        await tom.lines_until_closed()
        await tom.stream.aclose()

        await chat_server.start()
        await page.wait_status("^online$", within=60)
        tom = await chat_server.tcp_user("tom")
        await tom.send_line("back again")  # anything repeated would come before it
        assert await page.wait_for_messages(3) == [
            ("tom", "before the restart"),
            ("tom", "while you were away"),
            ("tom", "back again"),
        ]
        await tom.stream.aclose()


async def test_a_registered_nickname_asks_for_its_password(open_page, chat_server):
    password = "correct horse"
    with trio.fail_after(TEST_TIMEOUT):
        owner = await chat_server.tcp_user("reg")
        await owner.send_line(f"/register {password}")
        await owner.expect('"reg" is registered')
        await owner.send_line("/quit")
        await owner.lines_until_closed()
        await owner.stream.aclose()

        page = await open_page(chat_server.page_url)
        await page.submit_nick("reg")
        await page.wait_shown("#password-row")
        assert not await page.is_shown("#chat")
        await page.type_into("#password", password)
        await page.click("#enter")
        await page.wait_shown("#chat")
        assert not await page.is_shown("#login")
        assert await page.text("#room-title") == "#lobby"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG file, from its header."""
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE), f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_screenshots_on_a_desktop_and_a_phone(open_page, chat_server):
    with trio.fail_after(TEST_TIMEOUT):
        page = await open_page(chat_server.page_url)
        await page.login("sky")
        tess = await chat_server.tcp_user("tess")
        await tess.send_line("hello sky, how does the chat look on your phone?")
        await tess.send_line("https://example.org/get?token=" + "0123456789abcdef" * 12)
        await page.say("it fits, even that link")
        await page.wait_for_messages(3)

        for name, width, height in [("desktop", 1280, 800), ("phone", 360, 740)]:
            await page.set_viewport(width, height)
            path = SCREENSHOTS / f"{name}.png"
            await page.screenshot(path)
            assert png_size(path) == (width, height)
        assert await page.script("return document.documentElement.scrollWidth") <= 360
        await tess.stream.aclose()


# Keeps the page's WebSocket where a test can reach it, to hand the page events
# the server does not send yet. Run before the page connects (on login).
KEEP_SOCKET = """
const Real = window.WebSocket;
window.WebSocket = class extends Real {
    constructor(...args) { super(...args); window.pageSocket = this; }
};
"""
LAST_SEQ = """
const lines = document.querySelectorAll("#messages li[data-seq]");
return Math.max(0, ...Array.from(lines, (li) => +li.dataset.seq));
"""
TITLE = 'return document.getElementById("room-title").textContent'
TOPIC = 'return document.getElementById("topic").textContent'
MEMBERS = 'return Array.from(document.querySelectorAll("#members li"), (li) => li.textContent);'
NOTICES = """
const texts = document.querySelectorAll("#messages li.notice .text");
return Array.from(texts, (text) => text.textContent);
"""


async def wait_for(page: Page, script: str, expected: object) -> None:
    """Until ``script`` returns ``expected``."""
    await page.wait_until(lambda d: d.execute_script(script) == expected, f"{expected!r}")


async def feed(page: Page, **event: object) -> None:
    """Hand the page ``event`` as if the server had sent it."""
    data = json.dumps(json.dumps({"time": "2026-11-30T09:00:00Z", **event}))
    await page.script(f"pageSocket.dispatchEvent(new MessageEvent('message', {{data: {data}}}))")


async def test_a_topic_operator_status_and_a_kick_are_shown_on_the_page(open_page, chat_server):
    with trio.fail_after(TEST_TIMEOUT):
        page = await open_page(chat_server.page_url)
        await page.script(KEEP_SOCKET)
        await page.login("kim")
        await page.say("/join #dev")
        await wait_for(page, TITLE, "#dev")
        assert not await page.is_shown("#topic")
        await page.wait_until(lambda d: d.execute_script(LAST_SEQ) > 0, "kim's join")
        seq = await page.script(LAST_SEQ)

        dev = {"room": "#dev"}
        topic = "release <b>friday</b>: https://example.org/plan"
        await feed(page, type="topic", **dev, seq=seq + 1, nick="bob", topic=topic)
        await feed(page, type="mode", **dev, seq=seq + 2, nick="bob", mode="+o", target="kim")
        await wait_for(page, TOPIC, topic)
        assert await page.is_shown("#topic")
        links = 'return Array.from(document.querySelectorAll("#topic *"), (a) => a.outerHTML);'
        assert await page.script(links) == [
            '<a href="https://example.org/plan" rel="noopener noreferrer" target="_blank">'
            "https://example.org/plan</a>"
        ]
        await wait_for(page, MEMBERS, ["@kim"])
        notices = await page.script(NOTICES)
        assert notices[-2:] == [
            f"* bob set the topic of #dev: {topic}",
            "* bob gives operator status to kim in #dev",
        ]

        await feed(page, type="kicked", **dev, seq=seq + 3, nick="bob", target="kim", reason="spam")
        await wait_for(page, TITLE, "#lobby")
        assert not await page.is_shown("#topic")
        assert (await page.script(NOTICES))[-1] == "* kim was kicked from #dev by bob (spam)"
        rooms = (
            'return Array.from(document.querySelectorAll("#rooms button"), (b) => b.textContent);'
        )
        assert await page.script(rooms) == ["#lobby"]


async def test_an_operator_sets_the_topic_and_kicks_a_page_from_the_room(open_page, chat_server):
    with trio.fail_after(TEST_TIMEOUT):
        bob = await chat_server.tcp_user("bob")
        await bob.send_line("/join #dev")  # the first in the room: its operator
        await bob.expect(r"bob joined #dev$")
        page = await open_page(chat_server.page_url)
        await page.login("kim")
        await page.say("/join #dev")
        await bob.expect(r"kim joined #dev$")

        await bob.send_line("/topic #dev release friday")
        await wait_for(
            page, 'return document.getElementById("topic").textContent', "release friday"
        )
        await bob.send_line("/voice #dev kim")
        await wait_for(page, MEMBERS, ["@bob", "+kim"])
        await bob.send_line("/kick #dev kim spam")
        await wait_for(page, TITLE, "#lobby")
        assert (await page.script(NOTICES))[-1] == "* kim was kicked from #dev by bob (spam)"
        await bob.stream.aclose()
