"""``--metrics``: /metrics scraped over HTTP as Prometheus would, and /healthz."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest
import trio
import trio.testing
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from test_cli import kill, read_log_until
from transport_harness import Harness

from trio_chat import ChatServer, Limits
from trio_chat.chat import Deliver, Member
from trio_chat.cli import main
from trio_chat.protocol import events as ev
from trio_chat.protocol.framing import LineBuffer
from trio_chat.protocol.moderation import Kicked
from trio_chat.server.metrics import Metrics, reason_label
from trio_chat.server.metrics_http import (
    MAX_CONNECTIONS,
    REQUEST_TIMEOUT,
    _serve_connection,
    parse_metrics_url,
    serve_metrics,
)
from trio_chat.server.outbox import Outbox
from trio_chat.testing import TextClient
from trio_chat.transports import carrier

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


class Scraper:
    """A chat on 127.0.0.1 with its metrics endpoint, scraped over HTTP."""

    def __init__(self, chat_port: int, metrics_port: int) -> None:
        self.chat_port = chat_port
        self.metrics_port = metrics_port
        self.base = f"http://127.0.0.1:{metrics_port}"
        self.streams: list[trio.SocketStream] = []

    async def connect(self, port: int | None = None) -> trio.SocketStream:
        stream = await trio.open_tcp_stream("127.0.0.1", port or self.chat_port)
        self.streams.append(stream)
        return stream

    async def client(self, nick: str) -> TextClient:
        client = TextClient(await self.connect())
        await client.login(nick)
        return client

    async def get(self, path: str, method: str = "GET") -> tuple[int, str, bytes]:
        """Status, content type and body of a request, made as any HTTP client does."""

        def fetch() -> tuple[int, str, bytes]:
            request = urllib.request.Request(self.base + path, method=method)
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    return answer.status, answer.headers["Content-Type"], answer.read()
            except urllib.error.HTTPError as error:
                return error.code, error.headers["Content-Type"], error.read()

        return await trio.to_thread.run_sync(fetch)

    async def samples(self) -> Samples:
        status, kind, body = await self.get("/metrics")
        assert status == 200
        assert kind == CONTENT_TYPE_LATEST
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(body.decode())
            for sample in family.samples
        }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
async def scraped(nursery) -> AsyncIterator[Callable[..., Awaitable[tuple[ChatServer, Scraper]]]]:
    """Starts a chat and its metrics endpoint on 127.0.0.1; ``serving=False``
    leaves the chat for the test to start."""
    scrapers: list[Scraper] = []

    async def start(limits: Limits, *, serving: bool = True) -> tuple[ChatServer, Scraper]:
        chat_listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        metrics_listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        server = ChatServer(limits)
        await nursery.start(serve_metrics, metrics_listeners, server.metrics)
        if serving:
            await nursery.start(server.serve, chat_listeners)
        else:
            server.listeners = chat_listeners  # type: ignore[attr-defined]
        port = chat_listeners[0].socket.getsockname()[1]
        scrapers.append(Scraper(port, metrics_listeners[0].socket.getsockname()[1]))
        return server, scrapers[-1]

    yield start
    for scraper in scrapers:
        for stream in scraper.streams:
            await trio.aclose_forcefully(stream)


@pytest.fixture
async def scraper(scraped) -> Scraper:
    return (await scraped(Limits(flood_rate=0)))[1]


async def test_counters_rise_as_clients_chat(scraper):
    with trio.fail_after(20):
        alice = await scraper.client("alice")
        bob = await scraper.client("bob")
        await alice.send_line("hello")
        await bob.expect(r"alice: hello$")
        before = await scraper.samples()
        assert value(before, "trio_chat_connections", transport="tcp", mode="text") == 2
        assert value(before, "trio_chat_connections_opened_total", transport="tcp") == 2

        for n in range(3):
            await alice.send_line(f"line {n}")
        await alice.send_line("/me waves")
        await bob.expect(r"~ alice waves$")
        after = await scraper.samples()
        said = value(after, "trio_chat_messages_total", kind="room") - value(
            before, "trio_chat_messages_total", kind="room"
        )
        assert said == 4
        # each message went to both members of the lobby, and nothing else happened
        delivered = value(after, "trio_chat_deliveries_total") - value(
            before, "trio_chat_deliveries_total"
        )
        assert delivered == 4 * 2
        appended = value(after, "trio_chat_store_seconds_count", operation="append")
        assert appended > value(before, "trio_chat_store_seconds_count", operation="append")
        assert value(after, "trio_chat_queued_bytes") >= 0

        await bob.send_line('/quit lunch with "carol"')
        await alice.expect(r"bob left #lobby")
        gone = await scraper.samples()
        assert value(gone, "trio_chat_disconnects_total", reason="quit") == 1
        assert value(gone, "trio_chat_connections", transport="tcp", mode="text") == 1


async def test_refusals_and_drops_are_counted_by_reason(scraped):
    # kick 0: the first line that has to wait ends the connection, whatever the timing
    limits = Limits(max_per_address=1, flood_burst=1, flood_rate=1, flood_kick=0)
    _, scraper = await scraped(limits)
    with trio.fail_after(20):
        alice = await scraper.client("alice")
        refused = TextClient(await scraper.connect())
        await refused.lines_until_closed()
        for n in range(2):  # past the burst
            await alice.send_line(f"spam {n}")
        with contextlib.suppress(trio.BrokenResourceError):  # closed with lines unread
            await alice.lines_until_closed()
        samples = await scraper.samples()
    assert value(samples, "trio_chat_refused_total", reason="too_many_connections") == 1
    assert value(samples, "trio_chat_disconnects_total", reason="excess_flood") == 1


async def test_healthz_is_200_while_serving_and_503_once_shutting_down(scraped, nursery):
    server, scraper = await scraped(Limits(), serving=False)
    with trio.fail_after(20):
        assert (await scraper.get("/healthz"))[0] == 503  # not listening yet
        await nursery.start(server.serve, server.listeners)
        assert await scraper.get("/healthz") == (200, "text/plain; charset=utf-8", b"ok\n")
        alice = await scraper.client("alice")

        server.shutdown()
        assert (await scraper.get("/healthz"))[0] == 503
        lines = await alice.lines_until_closed()
        assert lines[-1].endswith("server shutting down")
        assert (await scraper.get("/healthz"))[0] == 503


async def test_other_paths_and_methods_are_answered_plainly(scraper):
    with trio.fail_after(20):
        assert (await scraper.get("/"))[0] == 404
        assert (await scraper.get("/metrics", method="POST"))[0] == 405
        status, _, body = await scraper.get("/metrics", method="HEAD")
        assert (status, body) == (200, b"")
        # a request that is not HTTP gets a 400, and the endpoint goes on serving
        stream = await scraper.connect(scraper.metrics_port)
        await stream.send_all(b"HELLO\r\n\r\n")
        answer = b""
        while chunk := await stream.receive_some():
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 400")
        assert (await scraper.get("/healthz"))[0] == 200


async def test_the_server_command_serves_metrics_and_logs_json_lines():
    process = await trio.lowlevel.open_process(
        [
            *(sys.executable, "-m", "trio_chat", "server", "--listen", "tcp://127.0.0.1:0"),
            *("--db", ":memory:", "--metrics", "http://127.0.0.1:0/", "--log-format", "json"),
        ],
        stderr=subprocess.PIPE,
    )
    log = LineBuffer(1 << 16)
    scraper = None
    try:
        found = await read_log_until(
            process, log, r'"metrics on http://127\.0\.0\.1:(\d+)/metrics"'
        )
        metrics_port = int(found[1])
        found = await read_log_until(process, log, r'"listening on tcp://127\.0\.0\.1:(\d+)"')
        scraper = Scraper(int(found[1]), metrics_port)
        with trio.fail_after(20):
            alice = await scraper.client("alice")
            assert (await scraper.get("/healthz"))[0] == 200
            await alice.send_line("hi")
            await alice.expect(r"alice: hi$")
            samples = await scraper.samples()
            assert value(samples, "trio_chat_messages_total", kind="room") == 1
        await read_log_until(process, log, r'"event": "opened", "conn": 1')
        process.send_signal(signal.SIGTERM)
        await alice.lines_until_closed()
        closed = await read_log_until(process, log, r'"event": "closed".*')
        assert b'"nick": "alice"' in closed[0]
        assert b'"reason": "server shutting down"' in closed[0]
        with trio.fail_after(30):
            assert await process.wait() == 0
    finally:
        await kill(process)
        if scraper is not None:
            for stream in scraper.streams:
                await trio.aclose_forcefully(stream)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://127.0.0.1:9100/", "must start with http://"),
        ("http://127.0.0.1:9100/metrics", "give no path"),
        ("http://:9100/", "name the address"),
        ("http://127.0.0.1:99999/", "port"),
    ],
)
def test_a_bad_metrics_url_is_refused_at_start(url, problem, capsys):
    with pytest.raises(ValueError, match=problem):
        parse_metrics_url(url)
    with pytest.raises(SystemExit) as exited:
        main(["server", "--metrics", url])
    assert exited.value.code == 2
    assert problem in capsys.readouterr().err


def test_a_metrics_address_in_use_stops_the_server_at_start(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = ["server", "--db", "none", "--listen", "tcp://127.0.0.1:0"]
        assert main([*argv, "--metrics", f"http://127.0.0.1:{port}/"]) == 1
    assert f"cannot serve metrics on http://127.0.0.1:{port}/: " in capsys.readouterr().err


def test_a_port_left_out_is_9100():
    assert parse_metrics_url("http://[::1]") == ("::1", 9100)


async def test_a_batch_is_counted_in_one_pass_per_delivery_not_per_recipient():
    metrics = Metrics()
    crowd = tuple(Member(Outbox(max_events=10, max_bytes=1000)) for _ in range(50))
    now = datetime.now(UTC)
    batch = [
        Deliver(ev.Message(now, "#lobby", 1, "alice", "hi"), crowd),
        Deliver(ev.Action(now, "#lobby", 2, "alice", "waves"), crowd),
        Deliver(ev.Private(now, "alice", "bob", "psst"), crowd[:2]),
        Deliver(Kicked(now, "#lobby", 3, "alice", "bob", "spam"), crowd),
        Deliver(ev.Notice(now, "hello"), crowd[:1]),
    ]
    metrics.delivered(batch)
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in metrics.registry.collect()
        for s in family.samples
    }
    assert value(samples, "trio_chat_deliveries_total") == 50 * 3 + 2 + 1
    assert value(samples, "trio_chat_messages_total", kind="room") == 2
    assert value(samples, "trio_chat_messages_total", kind="private") == 1
    assert value(samples, "trio_chat_kicks_total") == 1


def test_reasons_that_carry_a_clients_words_are_labelled_by_kind_alone():
    assert reason_label("quit: see you at 5") == "quit"
    assert reason_label("disconnected by oper: spam") == "disconnected"
    assert reason_label("send queue exceeded") == "send_queue_exceeded"
    assert reason_label("anything else") == "other"


@pytest.mark.parametrize(
    ("kind", "transport"),
    [
        *[(kind, kind) for kind in ("memory", "tcp", "tls", "unix", "ws", "wss")],
        ("irc", "tcp"),
        ("ircs", "tls"),
    ],
)
async def test_a_connection_is_counted_under_what_carries_it(
    kind, transport, nursery, tmp_path, certs
):
    harness = Harness(kind, nursery, tmp_path, certs)
    listeners = await harness.listeners()
    try:
        with trio.fail_after(10):
            _, accepted = await harness.connected_pair(listeners[0])
        assert carrier(accepted) == transport
    finally:
        for stream in harness.streams:
            await trio.aclose_forcefully(stream)
        for listener in listeners:
            await listener.aclose()


async def test_a_scraper_that_stops_reading_is_let_go(autojump_clock):
    client, server = trio.testing.lockstep_stream_pair()  # an answer waits for its reader
    with trio.fail_after(REQUEST_TIMEOUT * 2):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_serve_connection, server, Metrics(), trio.CapacityLimiter(1))
            await client.send_all(b"GET /metrics HTTP/1.1\r\nHost: scraper\r\n\r\n")
        # the endpoint gave up on the answer and closed the connection
    with pytest.raises(trio.BrokenResourceError):
        await client.send_all(b"GET /healthz HTTP/1.1\r\nHost: scraper\r\n\r\n")


async def test_connections_past_the_most_served_at_once_are_closed(scraper):
    async def ask(stream: trio.SocketStream) -> bytes:
        await stream.send_all(b"GET /healthz HTTP/1.1\r\nHost: scraper\r\n\r\n")
        return await stream.receive_some()

    with trio.fail_after(20):
        held = [await scraper.connect(scraper.metrics_port) for _ in range(MAX_CONNECTIONS)]
        for stream in held:  # each is being served, and keeps its place
            assert (await ask(stream)).startswith(b"HTTP/1.1 200")
        one_more = await scraper.connect(scraper.metrics_port)
        with contextlib.suppress(trio.BrokenResourceError):
            assert await ask(one_more) == b""
        last = held.pop()  # gives its place up once answered
        await last.send_all(b"GET /healthz HTTP/1.1\r\nHost: scraper\r\nConnection: close\r\n\r\n")
        while await last.receive_some():
            pass
        assert (await scraper.get("/healthz"))[0] == 200
