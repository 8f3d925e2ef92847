"""One benchmark run: the load's phases, in one process or several, and the report.

Every load process goes through the same phases; between two phases they all
meet (a barrier), so the timed window starts when every client is connected
and the room is quiet, and it is the same window for all of them.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.queues
import multiprocessing.synchronize
import os
import resource
import secrets
import sys
import time
from collections.abc import Callable

from trio_chat.bench.load import BenchError, Load, WorkerResult
from trio_chat.bench.options import BenchOptions
from trio_chat.bench.report import Report, ServerProbe, summarize

# Seconds the server gets to settle before its memory is read.
SETTLE = 1.0
BARRIER_TIMEOUT = 300.0

Sync = Callable[[str], None]


def phases(options: BenchOptions) -> list[str]:
    if options.mode == "idle":
        return ["registered", "measured"]
    return ["registered", "start", "stop", "drained"]


def drive(options: BenchOptions, worker: int, tag: str, sync: Sync, *, show: bool) -> WorkerResult:
    """Run this process's clients through every phase."""
    raise_file_limit()
    load = Load(options, range(worker, options.clients, options.procs), tag)
    progress = _printer(show)
    try:
        load.connect(progress)
        sync("registered")
        if options.mode == "idle":
            sync("measured")
            return load.finish()
        load.mark_never_reading()
        if worker == 0:
            load.send_control("sync")
        load.wait_control("sync")
        load.start_counting()
        sync("start")
        load.run_window(options.duration, progress)
        sync("stop")
        load.wait_echoes()
        sync("drained")
        if worker == 0:
            load.send_control("end")
        load.wait_control("end", timeout=10.0)
        return load.finish()
    finally:
        progress("")
        load.close()


def run_bench(options: BenchOptions, *, show_progress: bool = False) -> Report:
    """Run the scenario ``options`` describes against a running server."""
    if problem := options.problem():
        raise BenchError(problem)
    probe = ServerProbe(options.server_pids)
    tag = secrets.token_hex(2)
    marks: dict[str, float] = {}

    def on_phase(phase: str) -> None:
        marks[phase] = time.monotonic()
        if phase == "registered":
            if options.mode == "idle":
                time.sleep(SETTLE)
            probe.sample("registered")
        elif phase in ("start", "stop"):
            probe.sample(phase)

    probe.sample("before")
    if options.procs == 1:
        results = [drive(options, 0, tag, on_phase, show=show_progress)]
    else:
        results = _run_processes(options, tag, on_phase, show_progress)
    window = marks.get("stop", 0.0) - marks.get("start", 0.0)
    return summarize(options, results, probe, window)


def _run_processes(
    options: BenchOptions, tag: str, on_phase: Sync, show_progress: bool
) -> list[WorkerResult]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(options.procs + 1, timeout=BARRIER_TIMEOUT)
    results: multiprocessing.queues.Queue[tuple[int, WorkerResult | str]] = context.Queue()
    workers = [
        context.Process(
            target=_worker_main,
            args=(options, worker, tag, barrier, results),
            kwargs={"show": show_progress and worker == 0},
            daemon=True,
        )
        for worker in range(options.procs)
    ]
    for process in workers:
        process.start()
    try:
        for phase in phases(options):
            barrier.wait()
            on_phase(phase)
        collected = [results.get(timeout=BARRIER_TIMEOUT) for _ in workers]
    except Exception as exc:
        barrier.abort()
        raise BenchError(f"a load process failed: {exc}") from None
    finally:
        for process in workers:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
    failures = [found for _, found in collected if isinstance(found, str)]
    if failures:
        raise BenchError(failures[0])
    return [
        found for _, found in sorted(collected, key=lambda r: r[0]) if not isinstance(found, str)
    ]


def _worker_main(
    options: BenchOptions,
    worker: int,
    tag: str,
    barrier: multiprocessing.synchronize.Barrier,
    results: multiprocessing.queues.Queue[tuple[int, WorkerResult | str]],
    *,
    show: bool,
) -> None:
    def sync(_phase: str) -> None:
        barrier.wait()

    try:
        results.put((worker, drive(options, worker, tag, sync, show=show)))
    except Exception as exc:
        barrier.abort()
        results.put((worker, f"load process {worker}: {exc}"))


def raise_file_limit() -> None:
    """Allow as many sockets as the system lets this process have."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _printer(show: bool) -> Callable[[str], None]:
    if not show:
        return lambda _line: None
    pid = os.getpid()

    def show_line(line: str) -> None:
        text = f"[{pid}] {line}" if line else ""
        print(f"\r{text:79}\r", end="", file=sys.stderr, flush=True)

    return show_line
