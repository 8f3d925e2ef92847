"""What a run found: the figures as JSON and as a table a person reads."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from trio_chat.bench.load import BenchError, WorkerResult
from trio_chat.bench.options import BenchOptions

Report = dict[str, Any]


class ServerProbe:
    """Reads the server process's CPU time and memory, when its PID is known."""

    def __init__(self, pid: int | None) -> None:
        self.samples: dict[str, tuple[float, int]] = {}  # phase -> (CPU seconds, RSS bytes)
        self._process: Any = None
        if pid is not None:
            try:
                import psutil
            except ImportError:
                raise BenchError(
                    "reading the server's CPU and memory needs psutil: "
                    "pip install 'trio-chat[bench]'"
                ) from None
            try:
                self._process = psutil.Process(pid)
            except psutil.Error as exc:
                raise BenchError(f"server PID {pid}: {exc}") from None

    def sample(self, phase: str) -> None:
        if self._process is not None:
            cpu = self._process.cpu_times()
            self.samples[phase] = (cpu.user + cpu.system, self._process.memory_info().rss)


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
        "scenario": asdict(options),
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
    samples = probe.samples
    if not samples:
        return {}
    out: dict[str, Any] = {"pid": options.server_pid}
    if "start" in samples and "stop" in samples and window:
        cpu = samples["stop"][0] - samples["start"][0]
        out["cpu_percent"] = round(100 * cpu / window, 1)
    last = samples.get("stop") or samples.get("registered") or samples["before"]
    out["rss_kib"] = last[1] // 1024
    if options.mode == "idle" and "registered" in samples:
        grown = samples["registered"][1] - samples["before"][1]
        out["rss_per_connection_kib"] = round(grown / 1024 / options.clients, 2)
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
        if "cpu_percent" in server:
            rows.append(("server CPU", f"{server['cpu_percent']}% of one core"))
        rows.append(("server RSS", f"{server['rss_kib']:,} KiB"))
        if "rss_per_connection_kib" in server:
            rows.append(("RSS/connection", f"{server['rss_per_connection_kib']} KiB"))
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
