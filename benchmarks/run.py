"""Run the standard scenarios against trio-chat and the reference server.

    python benchmarks/run.py [--runs 3] [--duration 3] [--idle 10000]

Starts each server pinned to CPU 0 (the load on CPU 1 when the machine has
two cores or more), runs ``trio-chat bench`` for every scenario, takes the
median of the runs, and rewrites the results section of
docs/performance.md (between its ``results`` markers). Every raw report is
kept in benchmarks/results.json. Takes about four minutes.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import resource
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
RESULTS = ROOT / "benchmarks" / "results.json"
START, END = "<!-- results:start -->", "<!-- results:end -->"
PY = sys.executable

TRIO_CHAT = [
    *[PY, "-m", "trio_chat", "server", "--listen", "tcp://127.0.0.1:{port}"],
    *["--flood-rate", "0", "--max-clients", "0", "--max-per-address", "0"],
    *["--log-level", "warning", "--db", "{db}"],
]
# The same server keeping history in memory only: the baseline for the cost
# of storing every message in SQLite.
HISTORY_OFF = [part.replace("{db}", "none") for part in TRIO_CHAT]
HISTORY_OFF_SCENARIOS = ("fanout100", "fanout500")
REFERENCE = [PY, "benchmarks/reference_server.py", "{port}"]

Report = dict[str, Any]


def pinned(cpu: int, command: list[str]) -> list[str]:
    if (os.cpu_count() or 1) >= 2 and _has("taskset"):
        return ["taskset", "-c", str(cpu), *command]
    return command


def _has(program: str) -> bool:
    return any((Path(d) / program).exists() for d in os.environ["PATH"].split(os.pathsep))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def raise_file_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Server:
    def __init__(self, name: str, template: list[str]) -> None:
        self.name = name
        self.port = free_port()
        self.db = Path(tempfile.mkdtemp()) / "chat.db"  # a fresh history for each server
        self.command = pinned(0, [part.format(port=self.port, db=self.db) for part in template])
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            preexec_fn=raise_file_limit,  # noqa: PLW1509 - before exec, nothing else runs
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.log.seek(0)
                    raise SystemExit(f"{name} did not start: {self.log.read().decode()}") from None
                time.sleep(0.1)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def bench(server: Server, args: list[str]) -> tuple[Report, str]:
    command = pinned(1, [PY, "-m", "trio_chat", "bench", "--quiet", "--json", "-", *args])
    command += ["--connect", f"tcp://127.0.0.1:{server.port}", "--server-pid", str(server.pid)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"bench failed against {server.name}: {done.stderr}")
    out = done.stdout
    return json.loads(out[out.index("\n{") :]), shown(command, server)


def shown(command: list[str], server: Server) -> str:
    """``command`` as a reader would type it, with PORT and PID for the server's."""
    text = " ".join("python" if a == PY else shlex.quote(a) for a in command)
    text = text.replace(str(server.db), "chat.db")
    text = re.sub(rf"\b{server.port}\b", "PORT", text)
    return re.sub(rf"\b{server.pid}\b", "PID", text)


def median_run(server: Server, args: list[str], runs: int, key: str) -> tuple[Report, str]:
    reports, typed = [], ""
    for _ in range(runs):
        report, typed = bench(server, args)
        reports.append(report)
        print(f"  {server.name:10} {' '.join(args):60} {_value(report, key)}", flush=True)
    reports.sort(key=lambda r: _value(r, key))
    return reports[len(reports) // 2], typed


def _value(report: Report, key: str) -> float:
    value: Any = report
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return float(value or 0)


def scenarios(duration: float) -> list[tuple[str, str, list[str], str]]:
    d = ["--duration", str(duration)]
    return [
        ("fanout100", "deliveries/s, 100 clients, 10 senders", ["--clients", "100", *d],
         "deliveries_per_s"),
        ("fanout500", "deliveries/s, 500 clients, 10 senders", ["--clients", "500", *d],
         "deliveries_per_s"),
        ("rate", "p99 latency at 1,000 msg/s to 100 clients",
         ["--mode", "rate", "--clients", "100", "--rate", "1000", *d], "latency_ms.p99"),
        ("fanout50", "deliveries/s, 50 clients (all read)", ["--clients", "50", *d],
         "deliveries_per_s"),
        # longer: the stalled client's socket buffers must fill before anything shows
        ("slow50", "others' deliveries/s, 1 of 50 never reads",
         ["--mode", "slow", "--clients", "50", "--duration", str(3 * duration)],
         "deliveries_per_s"),
        ("idle", "RSS per idle connection",
         ["--mode", "idle", "--clients", "{idle}"], "server.rss_per_connection_kib"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--idle", type=int, default=10_000, help="idle connections to trio-chat")
    parser.add_argument(
        "--reference-idle",
        type=int,
        default=1_000,
        help="idle connections to the reference server (it announces every join to all)",
    )
    args = parser.parse_args()
    raise_file_limit()
    started = time.monotonic()
    results: dict[str, dict[str, Any]] = {}
    commands: dict[str, str] = {}
    servers = {"trio-chat": TRIO_CHAT, "history off": HISTORY_OFF, "reference": REFERENCE}
    for name, template in servers.items():
        results[name] = {}
        for key, about, template_args, metric in scenarios(args.duration):
            if name == "history off" and key not in HISTORY_OFF_SCENARIOS:
                continue
            idle = args.idle if name == "trio-chat" else args.reference_idle
            bench_args = [a.format(idle=idle) for a in template_args]
            # a fresh server each time: the idle count must not see earlier runs' memory,
            # and a stalled reference server stays stalled
            server = Server(name, template)
            commands[f"{name} server"] = shown(server.command, server)
            try:
                runs = (
                    1 if key == "idle" or (key == "slow50" and name == "reference") else args.runs
                )
                report, typed = median_run(server, bench_args, runs, metric)
            finally:
                server.stop()
            results[name][key] = report
            commands[f"{name}, {key}: {about}"] = typed
    elapsed = time.monotonic() - started
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    write_doc(results, commands, args, elapsed)
    print(f"done in {elapsed:.0f} s; wrote {DOC.relative_to(ROOT)}")


def write_doc(
    results: dict[str, dict[str, Any]], commands: dict[str, str], args: argparse.Namespace,
    elapsed: float,
) -> None:  # fmt: skip
    t, r = results["trio-chat"], results["reference"]

    def rate(report: Report) -> str:
        return f"{report['deliveries_per_s'] / 1e6:.2f} M"

    def p99(report: Report) -> str:
        return f"{report['latency_ms']['p99']:.1f} ms"

    def slow(report: Report, base: Report) -> str:
        # per reading client, against the same room with no one stalled
        ratio = (report["deliveries_per_s"] / 49) / (base["deliveries_per_s"] / 50)
        dropped = (
            ", ".join(f"dropped: {why}" for why in report["dropped"].values()) or "not dropped"
        )
        return f"{rate(report)} ({ratio:.0%} of unstalled; {dropped})"

    def rss(report: Report) -> str:
        return f"{report['server']['rss_per_connection_kib']:.1f} KiB"

    rows = [
        ("trio-chat", t),
        ("reference (thread per client)", r),
    ]
    lines = [
        START,
        f"Measured {datetime.date.today().isoformat()} on {os.cpu_count()} cores"
        f" ({platform.machine()}, Python {platform.python_version()}, {platform.system()}),"
        f" median of {args.runs} runs of {args.duration:g} s"
        f" (one run for the idle count and for the stalled reference server);"
        f" the whole script took {elapsed / 60:.1f} minutes.",
        "",
        "| server | deliveries/s, 100 clients | deliveries/s, 500 clients"
        " | p99 latency, 1,000 msg/s to 100 clients | others' deliveries/s, 1 of 50 never reads"
        f" | RSS per idle connection ({args.idle:,} / {args.reference_idle:,}) |",
        "|---|---|---|---|---|---|",
    ]
    for name, res in rows:
        lines.append(
            f"| {name} | {rate(res['fanout100'])} | {rate(res['fanout500'])} | {p99(res['rate'])}"
            f" | {slow(res['slow50'], res['fanout50'])} | {rss(res['idle'])} |"
        )
    lines += [
        "",
        "trio-chat stores every message in SQLite before anyone sees it (`--db chat.db`);"
        " the same server keeping history in memory only (`--db none`) is measured for the"
        " fan-out scenarios, to show what storing costs (see the targets below).",
    ]
    lines += ["", "Server and load CPU during each timed window (% of one core), and losses:", ""]
    lines += [
        "| scenario | trio-chat CPU | its load's CPU | reference CPU | its load's CPU"
        " | lost / duplicated (trio-chat, reference) |",
        "|---|---|---|---|---|---|",
    ]
    for key in ("fanout100", "fanout500", "rate", "fanout50", "slow50"):
        lines.append(
            f"| {key} | {t[key]['server'].get('cpu_percent')} | {t[key]['bench']['cpu_percent']}"
            f" | {r[key]['server'].get('cpu_percent')} | {r[key]['bench']['cpu_percent']}"
            f" | {t[key]['lost']}/{t[key]['duplicated']}, {r[key]['lost']}/{r[key]['duplicated']} |"
        )
    lines += ["", "Targets:", ""]
    lines += [f"- {line}" for line in targets(t, r, results["history off"])]
    lines += ["", "Commands (PORT and PID are the server's):", "", "```"]
    lines.append("python benchmarks/run.py")
    for key, command in commands.items():
        lines += [f"# {key}", command]
    lines += ["```", END]
    text = DOC.read_text() if DOC.exists() else f"# Performance\n\n{START}\n{END}\n"
    before, _, rest = text.partition(START)
    _, _, after = rest.partition(END)
    DOC.write_text(before + "\n".join(lines) + after)


def targets(t: dict[str, Report], r: dict[str, Report], h: dict[str, Report]) -> list[str]:
    def verdict(ok: bool) -> str:
        return "**holds**" if ok else "**does not hold yet**"

    out = []
    for key, clients in (("fanout100", 100), ("fanout500", 500)):
        ok = t[key]["deliveries_per_s"] > r[key]["deliveries_per_s"]
        out.append(
            f"fan-out at {clients} clients above the thread-per-client design: {verdict(ok)}"
            f" ({t[key]['deliveries_per_s']:,} against {r[key]['deliveries_per_s']:,}/s);"
            " half of ngircd's: not measured (ngircd was not run side by side)"
        )
    ratio = (t["slow50"]["deliveries_per_s"] / 49) / (t["fanout50"]["deliveries_per_s"] / 50)
    dropped = list(t["slow50"]["dropped"].values())
    out.append(
        f"a client that never reads costs the others less than 10%: {verdict(ratio > 0.9)}"
        f" (they keep {ratio:.0%}); it is dropped with a reason: {verdict(bool(dropped))}"
        f" ({', '.join(dropped) or 'not dropped in the window'})"
    )
    p99 = t["rate"]["latency_ms"]["p99"]
    out.append(
        f"p99 latency under 2 ms at 1,000 msg/s to 100 clients: {verdict(p99 < 2)} ({p99} ms)"
    )
    idle = t["idle"]
    per = idle["server"]["rss_per_connection_kib"]
    out.append(
        f"{idle['scenario']['clients']:,} idle connections held, under 8 KiB each:"
        f" {verdict(per < 8)} ({per} KiB each)"
    )
    for key in HISTORY_OFF_SCENARIOS:
        on, off = t[key]["deliveries_per_s"], h[key]["deliveries_per_s"]
        out.append(
            f"{key}: throughput with SQLite history at least 80% of without:"
            f" {verdict(on >= 0.8 * off)} ({on / off:.0%}: {on:,} against {off:,}/s)"
        )
    return out


if __name__ == "__main__":
    main()
