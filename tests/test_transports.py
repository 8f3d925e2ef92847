"""Each transport's own promises: URLs, certificates, socket files, WebSocket framing."""

from __future__ import annotations

import os
import ssl
import stat

import pytest
import trio
import trio.testing
from transport_harness import Certificates, Harness
from websockets.client import ClientProtocol
from websockets.frames import CloseCode, Opcode
from websockets.sync.client import connect as ws_connect
from websockets.uri import parse_uri

import trio_chat.transports
from trio_chat import cli, serve
from trio_chat.protocol.flood import TokenBucket
from trio_chat.testing import TextClient
from trio_chat.transports import (
    ConnectError,
    ServerOptions,
    URLError,
    open_listeners,
    open_stream,
    parse_url,
    tls,
)
from trio_chat.transports.direct import DirectWriteStream
from trio_chat.transports.origin import allowed_origin
from trio_chat.transports.origin import refusal as origin_refusal
from trio_chat.transports.wsstream import RECEIVE_SIZE, WebSocketStream


@pytest.fixture
async def start(nursery, tmp_path, certs):
    """Start the server on one transport; its client connections close at the end."""
    harnesses = []

    async def start(kind, **limits):
        harness = Harness(kind, nursery, tmp_path, certs)
        harnesses.append(harness)
        await harness.start(**limits)
        return harness

    yield start
    for harness in harnesses:
        await harness.close_all()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("tcp://127.0.0.1:1", "tcp://127.0.0.1:1"),
        ("tls://example.org", "tls://example.org:58443"),
        ("unix:///tmp/chat.sock", "unix:///tmp/chat.sock"),
        ("ws://127.0.0.1:8080", "ws://127.0.0.1:8080/"),
        ("wss://[::1]:8443/chat", "wss://[::1]:8443/chat"),
    ],
)
def test_urls_are_read_with_their_defaults(url, expected):
    assert str(parse_url(url)) == expected


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("udp://127.0.0.1:1", "unknown scheme 'udp'"),
        ("tcp://:58000", "no host"),
        ("tcp://127.0.0.1:99999", "out of range"),
        ("tls://127.0.0.1:1/path", "has no path"),
        ("unix://relative.sock", "has no host"),
        ("unix:///tmp/", "absolute socket path"),
        ("ws://127.0.0.1:1/chat?x=1", "no ?query"),
    ],
)
def test_a_bad_url_says_what_is_wrong(url, reason):
    with pytest.raises(URLError, match=reason.replace("?", r"\?")):
        parse_url(url)


async def test_tls_needs_a_certificate_that_loads(tmp_path, certs):
    url = parse_url("tls://127.0.0.1:0")
    with pytest.raises(URLError, match="needs a certificate: give --cert and --key"):
        await open_listeners(url)
    missing = ServerOptions(certfile=str(tmp_path / "none.pem"), keyfile=certs.keyfile)
    with pytest.raises(URLError, match=r"cannot load certificate .*none\.pem"):
        await open_listeners(url, missing)
    good = ServerOptions(certfile=certs.certfile, keyfile=certs.keyfile)
    assert tls.server_context(url, good).minimum_version == ssl.TLSVersion.TLSv1_2


async def test_a_client_that_does_not_trust_the_server_is_refused(start, tmp_path):
    harness = await start("tls")
    with pytest.raises(ConnectError, match=r"certificate is not trusted.*use --cafile"):
        await open_stream(harness.url)
    stranger = Certificates.make(tmp_path)  # a CA that never signed the server's
    with pytest.raises(ConnectError, match="certificate is not trusted"):
        await open_stream(harness.url, cafile=stranger.cafile)


async def test_a_unix_socket_is_private_replaces_a_stale_file_and_goes_away(tmp_path):
    path = tmp_path / "chat.sock"
    url = parse_url(f"unix://{path}")
    # A crashed server leaves its socket file behind, with nobody listening.
    stale = trio.socket.socket(trio.socket.AF_UNIX)
    await stale.bind(str(path))
    stale.close()

    listeners = await open_listeners(url)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with pytest.raises(URLError, match="another server is listening there"):
        await open_listeners(url)
    async with trio.open_nursery() as running:
        server = await running.start(serve, listeners)
        alice = TextClient(await open_stream(url))
        assert "welcome, alice" in await alice.login("alice")
        server.shutdown()
        await alice.lines_until_closed()
        await alice.stream.aclose()
    # serve has returned: the socket file went with its listener
    assert not path.exists()


async def test_unix_socket_permissions_can_be_widened(tmp_path):
    path = tmp_path / "group.sock"
    listeners = await open_listeners(parse_url(f"unix://{path}"), ServerOptions(unix_mode=0o660))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o660
    for listener in listeners:
        await listener.aclose()
    assert not path.exists()


async def test_a_unix_path_that_cannot_be_used_is_refused(tmp_path):
    (tmp_path / "plain").write_text("not a socket")
    with pytest.raises(URLError, match="exists and is not a socket"):
        await open_listeners(parse_url(f"unix://{tmp_path}/plain"))
    with pytest.raises(URLError, match="No such file or directory"):
        await open_listeners(parse_url(f"unix://{tmp_path}/missing/dir.sock"))
    with pytest.raises(ConnectError, match="cannot connect to unix://"):
        await open_stream(parse_url(f"unix://{tmp_path}/nobody.sock"))


@pytest.mark.parametrize(("flags", "direct"), [((), True), (("--no-direct-write",), False)])
def test_no_direct_write_hands_out_plain_socket_streams(flags, direct, monkeypatch, tmp_path):
    accepted = []

    async def serve_one(urls, limits, options, args) -> None:
        for url in urls:
            listeners = await open_listeners(url, options)
            address = trio_chat.transports.bound_url(url, listeners[0])
            async with await open_stream(address), await listeners[0].accept() as stream:
                accepted.append(stream)
            for listener in listeners:
                await listener.aclose()

    monkeypatch.setattr(cli, "_serve_until_signalled", serve_one)
    urls = ["tcp://127.0.0.1:0", f"unix://{tmp_path}/chat.sock"]
    argv = ["server", "--db", "none", *[a for u in urls for a in ("--listen", u)], *flags]
    assert cli.main(argv) == 0
    assert len(accepted) == 2
    for stream in accepted:
        assert isinstance(stream, DirectWriteStream) == direct
        assert hasattr(stream, "send_now") == direct


async def ws_pair(pair=trio.testing.memory_stream_pair, max_frame=1 << 20, **options):
    client_transport, server_transport = pair()
    server = WebSocketStream.server(server_transport, "/chat", max_frame, **options)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(server.do_handshake)
        client = await WebSocketStream.client(client_transport, "ws://chat.test/chat", max_frame)
    return client, server


async def test_the_websocket_adapter_is_a_well_behaved_stream():
    await trio.testing.check_two_way_stream(
        ws_pair, lambda: ws_pair(trio.testing.lockstep_stream_pair)
    )


async def test_each_line_goes_out_as_one_websocket_text_message():
    client, server = await ws_pair()
    await server.send_all(b"first\nsecond\nno newline yet")
    frames = []
    while len(frames) < 3:  # read the wire under the client's adapter
        client.protocol.receive_data(await client.transport_stream.receive_some())
        frames += [(f.opcode, bytes(f.data), f.fin) for f in client.protocol.events_received()]
    assert frames == [
        (Opcode.TEXT, b"first", True),
        (Opcode.TEXT, b"second", True),
        (Opcode.TEXT, b"no newline yet", False),  # the message stays open
    ]


async def test_a_websocket_request_for_another_path_gets_404(start):
    harness = await start("ws")
    wrong = parse_url(f"ws://127.0.0.1:{harness.url.port}/elsewhere")
    with pytest.raises(ConnectError, match="HTTP 404"):
        await open_stream(wrong)


async def test_a_plain_http_request_to_a_websocket_url_gets_an_http_error(start):
    harness = await start("ws")
    stream = await trio.open_tcp_stream("127.0.0.1", harness.url.port)
    harness.streams.append(stream)
    await stream.send_all(b"GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert (await stream.receive_some()).startswith(b"HTTP/1.1 426 Upgrade Required")


async def test_a_huge_websocket_frame_closes_the_connection_with_1009(start):
    harness = await start("ws", max_line_bytes=1000)
    alice = await harness.client("alice")
    stream = await harness.stream()
    bob = TextClient(stream)
    await bob.login("bob")
    stream.protocol.send_text(b"x" * 100_000)  # one frame, far past any line
    await stream.transport_stream.send_all(b"".join(stream.protocol.data_to_send()))
    await alice.expect(r"\* bob left #lobby \(connection lost\)$")
    await bob.lines_until_closed()
    assert stream.protocol.close_rcvd.code == 1009  # message too big


def chat_with_websockets_library(url: str) -> list[str]:
    """An independent WebSocket client: the websockets package's own, in a thread."""
    with ws_connect(url, open_timeout=30) as ws:
        seen = [str(ws.recv(timeout=30))]
        ws.send("carol")
        seen.append(str(ws.recv(timeout=30)))
        ws.send("hi from a browser-like client")
        while "hi from a browser-like client" not in seen[-1]:
            seen.append(str(ws.recv(timeout=30)))
    return seen


async def test_a_third_party_websocket_client_chats(start):
    harness = await start("ws")
    alice = await harness.client("alice")
    seen = await trio.to_thread.run_sync(chat_with_websockets_library, str(harness.url))
    assert "welcome to trio-chat" in seen[0]
    assert "welcome, carol" in seen[1]
    assert not any(line.endswith("\n") for line in seen)
    await alice.expect(r"carol: hi from a browser-like client$")
    assert str(harness.url) == f"ws://127.0.0.1:{harness.url.port}/chat"


@pytest.mark.parametrize(
    ("origin", "host", "allowed", "accepted"),
    [
        (None, "chat.example.org", (), True),  # not a browser: a bot, websocat, our client
        ("http://chat.example.org", "chat.example.org", (), True),
        ("http://chat.example.org", "chat.example.org:80", (), True),
        ("https://chat.example.org", "chat.example.org", (), True),
        ("https://chat.example.org", "chat.example.org:443", (), True),
        ("http://localhost:8080", "localhost:8080", (), True),
        ("HTTP://Chat.Example.ORG", "chat.EXAMPLE.org", (), True),
        ("http://[::1]:8080", "[::1]:8080", (), True),
        ("http://[::1]", "[::1]:8080", (), False),
        ("https://evil.example", "localhost:8080", (), False),
        ("http://localhost:3000", "localhost:8080", (), False),  # another port, another site
        ("https://chat.example.org", "chat.example.org:80", (), False),
        ("null", "localhost:8080", (), False),  # sandboxed frames, file:// pages
        ("http://localhost:8080/path", "localhost:8080", (), False),
        ("http://localhost:8080", None, (), False),
        ("https://chat.example.org", "127.0.0.1:8080", ("https://chat.example.org",), True),
        ("https://chat.example.org", "127.0.0.1:8080", ("https://CHAT.example.org/",), True),
        ("https://other.example.org", "127.0.0.1:8080", ("https://chat.example.org",), False),
        ("https://evil.example", "localhost:8080", ("*",), True),
    ],
)
def test_a_browser_may_open_a_websocket_only_from_the_listeners_own_site(
    origin, host, allowed, accepted
):
    assert (origin_refusal(origin, host, allowed) is None) is accepted


async def handshake(origin, host="127.0.0.1:8080", **options):
    """The server's answer to a browser's handshake on a page of ``origin``."""
    client_transport, server_transport = trio.testing.memory_stream_pair()
    server = WebSocketStream.server(server_transport, "/chat", 1 << 20, **options)
    protocol = ClientProtocol(parse_uri("ws://127.0.0.1:8080/chat"), origin=origin)
    request = protocol.connect()
    del request.headers["Host"]
    request.headers["Host"] = host
    protocol.send_request(request)
    await client_transport.send_all(b"".join(protocol.data_to_send()))
    failure = None
    try:
        await server.do_handshake()
    except trio.BrokenResourceError as exc:
        failure = str(exc)
    return await client_transport.receive_some(), failure


async def test_a_websocket_from_another_site_is_refused_with_403(caplog):
    answer, failure = await handshake("https://evil.example")
    assert answer.startswith(b"HTTP/1.1 403 Forbidden\r\n")
    assert answer.endswith(b"Origin 'https://evil.example' does not match Host '127.0.0.1:8080'\n")
    assert failure == "WebSocket handshake failed: Forbidden"
    assert "WebSocket from unknown refused: Origin 'https://evil.example'" in caplog.text
    answer, _ = await handshake("null")
    assert answer.startswith(b"HTTP/1.1 403 Forbidden\r\n")
    for origin, allowed in [
        (None, ()),
        ("http://127.0.0.1:8080", ()),
        ("https://evil.example", ("https://evil.example",)),
        ("https://evil.example", ("*",)),
    ]:
        answer, failure = await handshake(origin, origins=allowed)
        assert answer.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
        assert failure is None


async def read_frames(client, until):
    """Frames the client's end receives, read under its adapter, until ``until(frames)``."""
    frames = []
    while not until(frames):
        client.protocol.receive_data(await client.transport_stream.receive_some())
        frames += client.protocol.events_received()
    return frames


async def test_pongs_for_a_peer_that_does_not_read_are_bounded(nursery):
    client, server = await ws_pair(trio.testing.lockstep_stream_pair)
    nursery.start_soon(server.send_all, b"a line the client will not read for now\n")
    await trio.testing.wait_all_tasks_blocked()  # the write is under way, and stuck
    nursery.start_soon(server.receive_some)
    for n in range(1000):  # without a bound: 1000 pongs, over 100 kB queued
        client.protocol.send_ping(b"%04d" % n + b"." * 96)
    await client.transport_stream.send_all(b"".join(client.protocol.data_to_send()))
    await trio.testing.wait_all_tasks_blocked()
    assert 0 < sum(map(len, server.protocol.writes)) < 110  # the newest pong only
    frames = await read_frames(client, lambda frames: Opcode.PONG in [f.opcode for f in frames])
    assert [(f.opcode, f.data[:4]) for f in frames] == [
        (Opcode.TEXT, b"a li"),
        (Opcode.PONG, b"0999"),
    ]
    nursery.cancel_scope.cancel()


async def test_control_replies_queued_past_the_bound_fail_the_connection(nursery):
    client, server = await ws_pair(trio.testing.lockstep_stream_pair, max_queued=100)
    nursery.start_soon(server.send_all, b"a line the client will not read\n")
    await trio.testing.wait_all_tasks_blocked()
    failures = []

    async def read():
        try:
            await server.receive_some()
        except trio.BrokenResourceError as exc:
            failures.append(str(exc))

    nursery.start_soon(read)
    client.protocol.send_ping(b"p" * 120)
    nursery.start_soon(client.transport_stream.send_all, client.protocol.data_to_send()[0])
    await trio.testing.wait_all_tasks_blocked()
    assert failures == ["the peer is not reading (122 bytes of control replies queued)"]
    nursery.cancel_scope.cancel()


@pytest.mark.parametrize(
    "send",
    [
        lambda protocol: protocol.send_ping(b""),
        lambda protocol: protocol.send_pong(b"unasked"),
        lambda protocol: protocol.send_text(b""),
    ],
    ids=["ping", "pong", "empty message"],
)
async def test_control_frames_are_held_to_flood_control(send, autojump_clock, nursery):
    bucket = TokenBucket(burst=3, rate=1.0, kick=5, now=trio.current_time())
    client, server = await ws_pair(bucket=bucket)
    failed = trio.Event()

    async def read_until_failed():
        try:
            while True:
                await server.receive_some()
        except trio.BrokenResourceError as exc:
            assert str(exc) == "excess flood"  # noqa: PT017
        failed.set()
        await server.aclose()

    nursery.start_soon(read_until_failed)
    times = []
    for _ in range(6):  # one at a time: a burst, then one a second
        client.protocol.send_ping(b"")
        send(client.protocol)
        await client.transport_stream.send_all(b"".join(client.protocol.data_to_send()))
        await read_frames(client, lambda frames: Opcode.PONG in [f.opcode for f in frames])
        times.append(trio.current_time())
    assert times == [0, 0, 1, 3, 5, 7]  # a burst of three, then one frame a second
    assert not failed.is_set()
    for _ in range(20):  # sustained excess
        send(client.protocol)
    await client.transport_stream.send_all(b"".join(client.protocol.data_to_send()))
    with trio.fail_after(60):
        await failed.wait()
    await read_frames(client, lambda frames: frames and frames[-1].opcode == Opcode.CLOSE)
    assert client.protocol.close_rcvd.code == CloseCode.POLICY_VIOLATION
    assert client.protocol.close_rcvd.reason == "excess flood"


async def test_a_websocket_listener_holds_pings_to_the_servers_flood_limits(start):
    harness = await start("ws", flood_burst=2, flood_rate=1.0, flood_kick=3)
    stream = await harness.stream()
    for _ in range(10):
        stream.protocol.send_ping(b"")
    await stream.transport_stream.send_all(b"".join(stream.protocol.data_to_send()))
    while await stream.receive_some():  # the greeting, until the server closes
        pass
    assert stream.protocol.close_rcvd.code == CloseCode.POLICY_VIOLATION


def test_an_allowed_origin_must_be_one_a_browser_sends():
    assert allowed_origin("https://chat.example.org") == "https://chat.example.org"
    assert allowed_origin("*") == "*"
    for text in ("chat.example.org", "null", "ftp://chat.example.org", "https://x.org/chat"):
        with pytest.raises(ValueError, match="is not an origin like https://"):
            allowed_origin(text)


async def test_a_message_in_many_fragments_is_never_held_whole():
    client, server = await ws_pair(max_frame=4096)
    client.protocol.send_text(b"a" * 1000, fin=False)
    for _ in range(300):  # 300 kB in one message, each frame well under the frame limit
        client.protocol.send_continuation(b"b" * 1000, fin=False)
    client.protocol.send_continuation(b"", fin=True)
    await client.transport_stream.send_all(b"".join(client.protocol.data_to_send()))
    received = 0
    while received < 301_001:
        received += len(await server.receive_some(1000))
        # what is held: at most what one read of the socket brought, plus a frame
        assert len(server._inbox) <= RECEIVE_SIZE + 4096


async def test_a_long_message_in_small_fragments_is_a_line_too_long(start):
    harness = await start("ws", max_line_bytes=1000)
    stream = await harness.stream()
    bob = TextClient(stream)
    await bob.login("bob")
    stream.protocol.send_text(b"x" * 500, fin=False)
    for _ in range(100):
        stream.protocol.send_continuation(b"x" * 500, fin=False)
    stream.protocol.send_continuation(b"", fin=True)
    await stream.transport_stream.send_all(b"".join(stream.protocol.data_to_send()))
    assert "line longer than 1000 bytes, discarded" in (await bob.expect("^!")).string
    await bob.send_line("still here")
    await bob.expect(r"bob: still here$")


async def test_reading_a_websocket_always_lets_other_tasks_run():
    client, server = await ws_pair()
    for _ in range(3):
        client.protocol.send_ping(b"")
    client.protocol.send_text(b"hello")
    await client.transport_stream.send_all(b"".join(client.protocol.data_to_send()))
    with trio.testing.assert_checkpoints():
        assert await server.receive_some(2) == b"he"  # read from the transport
    with trio.testing.assert_checkpoints():
        assert await server.receive_some() == b"llo\n"  # already held
