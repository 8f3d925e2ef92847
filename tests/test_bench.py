"""``trio-chat bench`` against the real server over TCP: a short run of each
scenario, checking that its report is well formed and counts every delivery.
Nothing here asserts a speed."""

from __future__ import annotations

import json
import os
import re
import signal
import sys

import pytest
import trio
from test_cli import kill
from test_cli import start_server as start_server_process

from trio_chat import serve
from trio_chat.bench import BenchError, BenchOptions, run_bench, table
from trio_chat.protocol.framing import LineBuffer
from trio_chat.server import Limits
from trio_chat.transports import open_listeners, parse_url
from trio_chat.transports.urls import bound_url

pytest.importorskip("psutil", reason="the server's CPU and memory are read with psutil")

UNLIMITED = {"flood_rate": 0.0, "max_clients": 0, "max_per_address": 0}


async def start_server(nursery: trio.Nursery, **limits: object) -> int:
    url = parse_url("tcp://127.0.0.1:0")
    listeners = await open_listeners(url)
    await nursery.start(
        lambda task_status: serve(listeners, limits=Limits(**limits), task_status=task_status)
    )
    return bound_url(url, listeners[0]).port


async def bench(*ports: int, **options: object) -> dict[str, object]:
    options.setdefault("server_pids", (("server", os.getpid()),))
    servers = tuple(("127.0.0.1", port) for port in ports)
    chosen = BenchOptions(servers=servers, duration=1.0, **options)  # type: ignore[arg-type]
    return await trio.to_thread.run_sync(run_bench, chosen)


@pytest.mark.parametrize("codec", ["text", "json"])
async def test_fanout_counts_every_delivery(nursery, codec):
    port = await start_server(nursery, **UNLIMITED)
    report = await bench(port, codec=codec, clients=8, senders=3, window=4, samples=2)
    sent = report["messages_sent"]
    assert sent >= 3 * 4
    assert report["expected_deliveries"] == sent * 8
    assert report["received_deliveries"] == sent * 8
    assert report["lost"] == report["duplicated"] == report["out_of_order"] == 0
    assert report["sequence_gaps"] == 0
    assert 0 < report["deliveries_in_window"] <= report["received_deliveries"]
    assert report["deliveries_per_s"] > 0
    latency = report["latency_ms"]
    # the three senders and two samples decode every message
    assert latency["samples"] == 5 * sent
    assert 0 <= latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
    assert report["server"]["rss_kib"] > 0
    assert "cpu_percent" in report["server"]
    assert report["dropped"] == {}
    text = table(report)
    assert f"{report['received_deliveries']:,} of {report['expected_deliveries']:,}" in text
    assert "server CPU" in text
    json.dumps(report)  # the JSON report


async def test_load_spread_over_processes_counts_every_delivery(nursery):
    port = await start_server(nursery, **UNLIMITED)
    report = await bench(port, clients=6, senders=2, window=4, procs=2)
    assert report["bench"]["procs"] == 2
    assert report["messages_sent"] >= 2 * 4
    assert report["received_deliveries"] == report["messages_sent"] * 6
    assert report["lost"] == report["duplicated"] == 0


async def test_fixed_rate_sends_at_the_rate(nursery):
    port = await start_server(nursery, **UNLIMITED)
    report = await bench(port, mode="rate", clients=5, senders=2, rate=200.0)
    # one second at 200 a second, give or take the last tick
    assert 190 <= report["messages_sent"] <= 210
    assert report["received_deliveries"] == report["messages_sent"] * 5
    assert report["lost"] == 0


async def test_slow_reader_is_dropped_and_others_get_everything(nursery):
    port = await start_server(nursery, outbox_size=20, **UNLIMITED)
    # two senders with four in flight each stay within the readers' outboxes of 20
    report = await bench(port, mode="slow", clients=6, senders=2, window=4, payload=2000)
    assert report["dropped"] == {next(iter(report["dropped"])): "send queue exceeded"}
    # the five clients that read receive every message
    assert report["received_deliveries"] == report["messages_sent"] * 5
    assert report["lost"] == 0


async def test_idle_connections_report_memory_per_connection(nursery):
    port = await start_server(nursery, **UNLIMITED)
    report = await bench(port, mode="idle", clients=30)
    assert report["server"]["rss_per_connection_kib"] is not None
    assert "RSS/connection" in table(report)


async def test_a_refused_client_is_an_error(nursery):
    port = await start_server(nursery, flood_rate=0.0, max_clients=3)
    with pytest.raises(BenchError, match="full"):
        await bench(port, clients=5, senders=1)


async def test_bench_command_prints_a_table_and_json(nursery):
    port = await start_server(nursery, **UNLIMITED)
    done = await trio.run_process(
        [
            sys.executable, "-m", "trio_chat", "bench", "--quiet",
            "--connect", f"tcp://127.0.0.1:{port}",
            "--clients", "4", "--senders", "1", "--duration", "0.5", "--json", "-",
        ],
        capture_stdout=True,
    )  # fmt: skip
    out = done.stdout.decode()
    assert out.startswith("scenario ")
    report = json.loads(out[out.index("{") :])
    assert report["lost"] == 0
    assert report["received_deliveries"] == report["messages_sent"] * 4


async def test_clients_are_spread_over_the_servers_of_one_chat(redis_server):
    flags = ("--flood-rate", "0", "--max-clients", "0", "--max-per-address", "0")
    servers = [await start_server_process("--broker", redis_server.url, *flags) for _ in range(2)]
    try:
        pids = tuple((f"s{i}", process.pid) for i, (process, _, _) in enumerate(servers))
        report = await bench(
            *(port for _, port, _ in servers), clients=6, senders=2, server_pids=pids
        )
        assert report["received_deliveries"] == report["messages_sent"] * 6 > 0
        assert report["lost"] == report["duplicated"] == report["out_of_order"] == 0
        each = report["server"]["processes"]
        assert [(p["name"], p["pid"]) for p in each] == list(pids)
        assert report["server"]["rss_kib"] == sum(p["rss_kib"] for p in each)
        assert "server CPU" in table(report)
        # client i went to server i % 2: its log closes the nicknames ending in i
        closed = []
        for process, _, log in servers:
            process.send_signal(signal.SIGTERM)
            closed.append(sorted(await closed_clients(process, log)))
        assert closed == [[0, 2, 4], [1, 3, 5]]
    finally:
        for process, _, _ in servers:
            await kill(process)


async def closed_clients(process: trio.Process, log: LineBuffer) -> list[int]:
    """The bench clients' numbers in a server's "closed" log lines, read until it exits."""
    assert process.stderr is not None
    found = []
    with trio.fail_after(30):
        while not log.at_eof:
            while isinstance(line := log.next_line(), bytes):
                if closed := re.search(rb" closed from .*\(nick b[0-9a-f]{4}(\d+)\)", line):
                    found.append(int(closed[1]))
            log.feed(bytes(await process.stderr.receive_some()))
    return found
