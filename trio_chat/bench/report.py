"""What a run found: the figures as JSON and as a table a person reads."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from trio_chat.bench.load import BenchError, WorkerResult
from trio_chat.bench.options import BenchOptions

Report = dict[str, Any]


class ServerProbe:
    """Reads the CPU time and memory of the server processes whose PIDs are known."""

    def __init__(self, pids: tuple[tuple[str, int], ...]) -> None:
        self.pids = pids
        # phase -> (CPU seconds, RSS bytes) of each process, in the order of ``pids``
        self.samples: dict[str, list[tuple[float, int]]] = {}
        self._processes: list[Any] = []
        if not pids:
            return
        try:
            import psutil
        except ImportError:
            raise BenchError(
                "reading the server's CPU and memory needs psutil: pip install 'trio-chat[bench]'"
            ) from None
        for _, pid in pids:
            try:
                self._processes.append(psutil.Process(pid))
            except psutil.Error as exc:
                raise BenchError(f"server PID {pid}: {exc}") from None

    def sample(self, phase: str) -> None:
        if self._processes:
            self.samples[phase] = [
                (sum(p.cpu_times()[:2]), p.memory_info().rss) for p in self._processes
            ]


def summarize(
    options: BenchOptions, results: list[WorkerResult], probe: ServerProbe, window: float
) -> Report:
    received = sum(r.received for r in results)
    sent = sum(r.sent for r in results)
    readers = sum(r.readers for r in results)
    expected = sent * readers
    latencies = sorted(ns for r in results for ns in r.latencies_ns)
    dropped: dict[str, str] = {}
    for r in results:
        dropped |= r.dropped
    report: Report = {
        # host, port and server_pid: the first server and PID, as single-server reports had them
        "scenario": asdict(options)
        | {
            "host": options.servers[0][0],
            "port": options.servers[0][1],
            "server_pid": options.server_pids[0][1] if options.server_pids else None,
        },
        "window_s": round(window, 3),
        "messages_sent": sent,
        "deliveries_in_window": sum(r.in_window for r in results),
        "deliveries_per_s": round(sum(r.in_window for r in results) / window) if window else 0,
        "expected_deliveries": expected,
        "received_deliveries": received,
        "lost": max(0, expected - received),
        "duplicated": max(sum(r.duplicates for r in results), received - expected),
        "out_of_order": sum(r.reordered for r in results),
        # missing sequence numbers, as the decoding clients saw them
        "sequence_gaps": sum(r.gaps for r in results),
        "latency_ms": _percentiles(latencies),
        "clients_without_end": sum(r.unfinished for r in results),
        "dropped": dropped,
        "bench": {
            "procs": options.procs,
            "cpu_percent": round(100 * sum(r.cpu_seconds for r in results) / window, 1)
            if window
            else None,
        },
        "server": _server(options, probe, window),
    }
    return report


def _percentiles(latencies: list[int]) -> dict[str, float | int | None]:
    def at(fraction: float) -> float | None:
        if not latencies:
            return None
        rank = max(0, math.ceil(fraction * len(latencies)) - 1)
        return round(latencies[rank] / 1e6, 3)

    return {
        "samples": len(latencies),
        "p50": at(0.5),
        "p90": at(0.9),
        "p99": at(0.99),
        "max": at(1.0),
    }


def _server(options: BenchOptions, probe: ServerProbe, window: float) -> dict[str, Any]:
    """The figures of each process, and their sums at the top level."""
    samples = probe.samples
    if not samples:
        return {}
    last = samples.get("stop") or samples.get("registered") or samples["before"]
    processes: list[dict[str, Any]] = []
    for i, (name, pid) in enumerate(probe.pids):
        one: dict[str, Any] = {"name": name, "pid": pid}
        if "start" in samples and "stop" in samples and window:
            cpu = samples["stop"][i][0] - samples["start"][i][0]
            one["cpu_percent"] = round(100 * cpu / window, 1)
        one["rss_kib"] = last[i][1] // 1024
        if options.mode == "idle" and "registered" in samples:
            grown = samples["registered"][i][1] - samples["before"][i][1]
            one["rss_per_connection_kib"] = round(grown / 1024 / options.clients, 2)
        processes.append(one)
    out: dict[str, Any] = {"pid": probe.pids[0][1]}
    for key in ("cpu_percent", "rss_kib", "rss_per_connection_kib"):
        if key in processes[0]:
            out[key] = round(sum(p[key] for p in processes), 2)
    out["processes"] = processes
    return out


def table(report: Report) -> str:
    """The report as aligned ``name  value`` lines."""
    s = report["scenario"]
    lat = report["latency_ms"]
    server = report["server"]
    rows = [
        (
            "scenario",
            f"{s['mode']} ({s['codec']}), {s['clients']} clients"
            + ("" if s["mode"] == "idle" else f", {s['senders']} senders")
            + (f" at {s['rate']:g} msg/s" if s["mode"] == "rate" else "")
            + (f", window {s['window']}" if s["mode"] in ("fanout", "slow") else ""),
        ),
    ]
    if s["mode"] != "idle":
        rows += [
            ("deliveries/s", f"{report['deliveries_per_s']:,}"),
            ("messages sent", f"{report['messages_sent']:,}"),
            (
                "deliveries",
                f"{report['received_deliveries']:,} of {report['expected_deliveries']:,}"
                f" ({report['lost']} lost, {report['duplicated']} duplicated,"
                f" {report['out_of_order']} out of order)",
            ),
            (
                "latency ms",
                f"p50 {lat['p50']}  p90 {lat['p90']}  p99 {lat['p99']}  max {lat['max']}"
                f"  ({lat['samples']:,} samples)",
            ),
        ]
    for nick, reason in report["dropped"].items():
        rows.append(("dropped", f"{nick}: {reason}"))
    if server:
        several = len(server["processes"]) > 1
        for label, key, unit in (
            ("server CPU", "cpu_percent", "% of one core"),
            ("server RSS", "rss_kib", " KiB"),
            ("RSS/connection", "rss_per_connection_kib", " KiB"),
        ):
            if key not in server:
                continue
            value = f"{server[key]:,}{unit}"
            if several:
                each = ", ".join(f"{p['name']} {p[key]:,}" for p in server["processes"])
                value += f" in all ({each})"
            rows.append((label, value))
    if report["bench"]["cpu_percent"] is not None:
        rows.append(
            (
                "bench CPU",
                f"{report['bench']['cpu_percent']}% of one core"
                f" in {report['bench']['procs']} process(es)",
            )
        )
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)
