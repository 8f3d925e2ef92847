"""A browser's plain HTTP requests on a ws:// or wss:// listener get the browser client."""

from __future__ import annotations

import functools
import http.client
import ssl
from urllib.parse import urlsplit

import pytest
import trio

from trio_chat import serve
from trio_chat.server import Limits
from trio_chat.testing import TextClient
from trio_chat.transports import (
    ConnectError,
    ServerOptions,
    bound_url,
    open_listeners,
    open_stream,
    parse_url,
)
from trio_chat.web import Pages
from trio_chat.web.pages import CONTENT_SECURITY_POLICY

PAGES = Pages.load()
INDEX = PAGES.files["index.html"]


@pytest.fixture
async def start(nursery, certs):
    """Start a server at a ws:// or wss:// URL on loopback; returns the URL it listens on."""

    async def start(url, web=PAGES, **limits):
        options = ServerOptions(certfile=certs.certfile, keyfile=certs.keyfile, web=web)
        listeners = await open_listeners(parse_url(url), options)
        await nursery.start(functools.partial(serve, listeners, limits=Limits(**limits)))
        return bound_url(parse_url(url), listeners[0])

    return start


def fetch(url, method="GET", cafile=None):
    """An HTTP request from the standard library's client, as a browser would make it."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        context = ssl.create_default_context(cafile=cafile)
        conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=30, context=context)
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""))
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


async def get(url, method="GET", cafile=None):
    return await trio.to_thread.run_sync(fetch, url, method, cafile)


async def raw_request(port, request: bytes) -> bytes:
    """Everything the server answers to ``request`` until it closes the connection."""
    answer = b""
    with trio.fail_after(30):
        async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
            await stream.send_all(request)
            while data := await stream.receive_some():
                answer += data
    return answer


async def test_a_browser_gets_the_page_at_the_websocket_url(start):
    url = await start("ws://127.0.0.1:0/chat")
    status, headers, body = await get(f"http://127.0.0.1:{url.port}/chat")
    assert (status, body) == (200, INDEX)
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-cache"
    assert headers["Connection"] == "close"
    status, _, body = await get(f"http://127.0.0.1:{url.port}/chat?nick=alice")
    assert (status, body) == (200, INDEX)


async def test_the_pages_files_are_served_beside_it(start):
    url = await start("ws://127.0.0.1:0/chat")
    status, headers, body = await get(f"http://127.0.0.1:{url.port}/style.css")
    assert (status, body) == (200, PAGES.files["style.css"])
    assert headers["Content-Type"] == "text/css"
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


async def test_anything_else_is_404_and_other_methods_405(start):
    url = await start("ws://127.0.0.1:0/")
    for path in ("/nothing", "/../pyproject.toml", "/%2e%2e/", "//style.css"):
        status, _, _ = await get(f"http://127.0.0.1:{url.port}{path}")
        assert status == 404
    status, headers, _ = await get(f"http://127.0.0.1:{url.port}/", method="DELETE")
    assert (status, headers["Allow"]) == (405, "GET, HEAD")


async def test_head_gets_the_headers_alone(start):
    url = await start("ws://127.0.0.1:0/")
    answer = await raw_request(url.port, b"HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert f"\r\nContent-Length: {len(INDEX)}".encode() in head
    assert body == b""


async def test_the_page_comes_over_https_on_a_wss_listener(start, certs):
    url = await start("wss://127.0.0.1:0/")
    status, headers, body = await get(f"https://127.0.0.1:{url.port}/", cafile=certs.cafile)
    assert (status, body) == (200, INDEX)
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


async def test_websockets_on_the_same_url_chat_and_are_checked_as_before(start, certs):
    url = await start("ws://127.0.0.1:0/")
    alice = TextClient(await open_stream(url))
    bob = TextClient(await open_stream(url))
    try:
        await alice.login("alice")
        await bob.login("bob")
        await alice.send_line("the page did not get in the way")
        await bob.expect(r"alice: the page did not get in the way$")
    finally:
        await alice.stream.aclose()
        await bob.stream.aclose()
    with pytest.raises(ConnectError, match="HTTP 404"):
        await open_stream(parse_url(f"ws://127.0.0.1:{url.port}/elsewhere"))
    handshake = (
        f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{url.port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\nOrigin: https://evil.example\r\n\r\n"
    )
    assert (await raw_request(url.port, handshake.encode())).startswith(
        b"HTTP/1.1 403 Forbidden\r\n"
    )


async def test_a_request_too_large_gets_the_librarys_refusal(start):
    url = await start("ws://127.0.0.1:0/")
    answer = await raw_request(url.port, b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 414 ")
    headers = b"".join(b"X-%d: y\r\n" % i for i in range(200))
    answer = await raw_request(url.port, b"GET / HTTP/1.1\r\n" + headers + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 431 ")


async def test_a_request_never_finished_is_closed_at_the_handshake_timeout(start, autojump_clock):
    url = await start("ws://127.0.0.1:0/", handshake_timeout=10)
    began = trio.current_time()
    assert await raw_request(url.port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n") == b""
    assert trio.current_time() - began >= 10


async def test_without_web_a_plain_request_is_refused(start):
    url = await start("ws://127.0.0.1:0/", web=None)
    answer = await raw_request(url.port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 426 Upgrade Required\r\n")
