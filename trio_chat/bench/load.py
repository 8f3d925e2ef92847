"""The load: many chat clients on plain non-blocking sockets in one epoll loop.

A framework costs more per read than the server it measures would, so the
load uses bare sockets and one ``epoll`` (Linux). Most clients only count the
deliveries they receive (``bytes.count`` of a marker that every benchmark
payload starts with); the senders and a few sample clients decode every line
for its sender, sequence number and send time, which gives the latency and
reveals lost, duplicated or reordered deliveries.

It is installed with the package, not kept with the tests, because it is
the engine of ``trio-chat bench``, a user command: an operator measures their
own server (fan-out rate, latency, memory per connection) on their own
machines, from wherever trio-chat is installed and with no source checkout
(docs/performance.md describes the command and what its numbers mean).
"""

from __future__ import annotations

import functools
import json
import math
import re
import select
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from trio_chat.bench.options import BenchOptions

MARKER = b"BENCH:"
CONTROL = "CTRL:"
# Registration is done in waves, so the listen backlog never overflows.
CONNECT_WAVE = 250
READ_SIZE = 1 << 18
# A phase that waits on the server gives up after this many seconds.
PHASE_TIMEOUT = 60.0
_LEFT_TEXT = re.compile(rb"^\[[^]]*\] \* (\S+) left \S+ \((.*)\)$")


class BenchError(Exception):
    """The benchmark cannot go on; the text says why."""


@dataclass(slots=True)
class Client:
    index: int
    nick: str
    sock: socket.socket
    sender: int | None = None  # its number among the senders
    decodes: bool = False
    reads: bool = True
    registered: bool = False
    waiting_for: bytes = b""  # a control token it has not seen yet
    received: int = 0  # benchmark deliveries since counting began
    sent: int = 0
    echoed: int = 0  # its own messages it has received back
    out: bytearray = field(default_factory=bytearray)
    tail: bytes = b""  # a marker can straddle two reads
    control_tail: bytes = b""
    partial: bytes = b""  # a decoder's unfinished line


@dataclass
class WorkerResult:
    """What one load process saw; results of several processes add up."""

    received: int = 0  # deliveries received since the start
    in_window: int = 0  # ... of which during the timed window
    sent: int = 0
    latencies_ns: list[int] = field(default_factory=list)
    duplicates: int = 0
    gaps: int = 0  # missing sequence numbers seen by decoding clients
    reordered: int = 0
    dropped: dict[str, str] = field(default_factory=dict)  # nick -> reason seen in notices
    cpu_seconds: float = 0.0  # this process's CPU during the window
    readers: int = 0  # clients expected to receive every message
    unfinished: int = 0  # clients that never saw the end marker


class Load:
    """This process's share of the clients, driven through the phases."""

    def __init__(self, options: BenchOptions, indexes: Iterable[int], tag: str) -> None:
        self.options = options
        self.tag = tag
        if not hasattr(select, "epoll"):
            raise BenchError("the benchmark needs Linux (epoll)")
        self.epoll = select.epoll()
        self.by_fd: dict[int, Client] = {}
        self._buffer = bytearray(READ_SIZE)
        self.clients: list[Client] = []
        self.result = WorkerResult()
        self.counting = False
        self.window_end_ns = 0
        self.start_ns = 0
        # per sender number: the last sequence number each decoder saw
        self._last_seq: dict[tuple[int, int], int] = {}
        self._indexes = list(indexes)
        self._samples = sample_indexes(options)
        self._payload_pad = "x" * options.payload
        self.windowed = options.mode in ("fanout", "slow")
        self._addresses = [
            socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
            for host, port in options.servers
        ]

    # ----------------------------------------------------------- connecting

    def connect(self, progress: Callable[[str], None]) -> None:
        options = self.options
        for start in range(0, len(self._indexes), CONNECT_WAVE):
            wave = [self._open(i) for i in self._indexes[start : start + CONNECT_WAVE]]
            self.clients += wave
            if not self._run_until(functools.partial(_all_registered, wave)):
                raise BenchError(f"no welcome from the server in {PHASE_TIMEOUT:g} s")
            if options.mode == "idle":
                # out of the lobby, so the next wave's joins reach only the wave
                for client in wave:
                    self._queue(client, self._line(part=True))
            progress(f"connected {len(self.clients)} of {len(self._indexes)} clients")

    def _open(self, index: int) -> Client:
        options = self.options
        family, kind, proto, _, address = self._addresses[index % len(self._addresses)]
        sock = socket.socket(family, kind, proto)
        if options.mode == "slow" and index == options.clients - 1:
            # A small window makes the never-reading client's backlog reach
            # the server's outbox in seconds rather than after megabytes.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(address)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        client = Client(index, f"b{self.tag}{index}", sock)
        if index < options.senders and options.mode in ("fanout", "rate", "slow"):
            client.sender = index
        client.decodes = client.sender is not None or index in self._samples
        self.by_fd[sock.fileno()] = client
        self.epoll.register(sock.fileno(), select.EPOLLIN)
        self._queue(client, self._line(hello=client.nick))
        return client

    # ---------------------------------------------------------------- phases

    def start_counting(self) -> None:
        self.counting = True

    def mark_never_reading(self) -> None:
        for client in self.clients:
            if self.options.mode == "slow" and client.index == self.options.clients - 1:
                client.reads = False
                self.epoll.unregister(client.sock.fileno())

    def send_control(self, word: str) -> None:
        """The first client says a control line every member will receive."""
        self._queue(self.clients[0], self._line(text=f"{CONTROL}{word}:{self.tag}"))

    def wait_control(self, word: str, *, timeout: float = PHASE_TIMEOUT) -> None:
        token = f"{CONTROL}{word}:{self.tag}".encode()
        readers = [c for c in self.clients if c.reads]
        for client in readers:
            client.waiting_for = token
        if not self._run_until(lambda: not any(c.waiting_for for c in readers), timeout):
            self.result.unfinished = sum(1 for c in readers if c.waiting_for)

    def run_window(self, duration: float, progress: Callable[[str], None]) -> None:
        """Send and receive for ``duration`` seconds; counts deliveries in it."""
        senders = [c for c in self.clients if c.sender is not None]
        self.start_ns = time.monotonic_ns()
        self.window_end_ns = self.start_ns + int(duration * 1e9)
        cpu = time.process_time()
        options = self.options
        if options.mode == "rate":
            per_sender = options.rate / max(1, options.senders)
            next_progress = self.start_ns
            while (now := time.monotonic_ns()) < self.window_end_ns:
                ticks = (now - self.start_ns) / 1e9 * per_sender
                for client in senders:
                    # staggered, so that the senders' messages do not arrive in bursts
                    assert client.sender is not None
                    due = math.floor(ticks - client.sender / options.senders) + 1
                    while client.sent < due:
                        self._send_message(client)
                self._poll(0.0005)
                if now >= next_progress:
                    next_progress += 1_000_000_000
                    progress(self._progress_line(now))
        else:
            for client in senders:
                for _ in range(options.window):
                    self._send_message(client)
            next_progress = self.start_ns
            pause = options.read_interval / 1000
            while (now := time.monotonic_ns()) < self.window_end_ns:
                self._poll(0.05)
                if pause:
                    # Letting lines pile up in the socket buffers makes a
                    # read cheaper per line: the load must cost less than
                    # the server it measures.
                    time.sleep(pause)
                if now >= next_progress:
                    next_progress += 1_000_000_000
                    progress(self._progress_line(now))
        self.result.cpu_seconds = time.process_time() - cpu
        self.result.in_window = sum(c.received for c in self.clients)

    def _progress_line(self, now: int) -> str:
        elapsed = (now - self.start_ns) / 1e9
        got = sum(c.received for c in self.clients)
        rate = got / elapsed if elapsed > 0 else 0.0
        line = f"{elapsed:5.1f} s  {got} deliveries  {rate / 1e6:.3f} M/s"
        procs = self.options.procs
        return line if procs == 1 else f"{line} in the first of {procs} processes"

    def wait_echoes(self, timeout: float = 10.0) -> None:
        """Let every message a sender sent come back to it."""
        senders = [c for c in self.clients if c.sender is not None and c.reads]
        self._run_until(lambda: all(c.echoed >= c.sent for c in senders), timeout)

    def finish(self) -> WorkerResult:
        result = self.result
        result.received = sum(c.received for c in self.clients)
        result.sent = sum(c.sent for c in self.clients)
        result.readers = sum(1 for c in self.clients if c.reads)
        return result

    def close(self) -> None:
        for client in self.clients:
            client.sock.close()
        self.clients = []
        self.epoll.close()

    # ----------------------------------------------------------------- wire

    def _line(self, *, hello: str = "", text: str = "", part: bool = False) -> bytes:
        json_mode = self.options.codec == "json"
        if hello:
            request: dict[str, str] = {"type": "hello", "nick": hello}
            plain = hello
        elif part:
            request, plain = {"type": "part"}, "/part"
        else:
            request, plain = {"type": "say", "text": text}, text
        return ((json.dumps(request) if json_mode else plain) + "\n").encode()

    def _send_message(self, client: Client) -> None:
        assert client.sender is not None
        head = f"BENCH:{client.sender}:{client.sent}:{time.monotonic_ns()}:"
        text = (head + self._payload_pad)[: max(len(head), self.options.payload)]
        client.sent += 1
        self._queue(client, self._line(text=text))

    def _queue(self, client: Client, data: bytes) -> None:
        if client.out:
            client.out += data
            return
        try:
            written = client.sock.send(data)
        except BlockingIOError:
            written = 0
        except OSError as exc:
            raise BenchError(f"client {client.nick}: {exc}") from None
        if written < len(data):
            client.out += data[written:]
            self._watch(client)

    def _watch(self, client: Client) -> None:
        events = select.EPOLLOUT | (select.EPOLLIN if client.reads else 0)
        self.epoll.modify(client.sock.fileno(), events)

    def _flush(self, client: Client) -> None:
        try:
            written = client.sock.send(client.out)
        except BlockingIOError:
            return
        del client.out[:written]
        if not client.out:
            self.epoll.modify(client.sock.fileno(), select.EPOLLIN if client.reads else 0)

    # ----------------------------------------------------------------- loop

    def _run_until(self, done: Callable[[], bool], timeout: float = PHASE_TIMEOUT) -> bool:
        """Serve the clients until ``done()``; False if ``timeout`` passes first."""
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                return False
            self._poll(0.05)
        return True

    def _poll(self, timeout: float) -> None:
        by_fd = self.by_fd
        for fd, mask in self.epoll.poll(timeout):
            client = by_fd[fd]
            if mask & select.EPOLLOUT:
                self._flush(client)
            if mask & ~select.EPOLLOUT:
                self._read(client)

    def _read(self, client: Client) -> None:
        buffer = self._buffer
        try:
            size = client.sock.recv_into(buffer)
        except BlockingIOError:
            return
        except OSError as exc:
            raise BenchError(f"client {client.nick}: {exc}") from None
        if not size:
            raise BenchError(f"the server closed the connection of {client.nick}")
        if self.counting and not (client.decodes or client.waiting_for):
            # the hot path: most clients only count, without copying the data
            keep = len(MARKER) - 1
            edge = client.tail + buffer[: min(keep, size)]
            client.received += buffer.count(MARKER, 0, size) + edge.count(MARKER)
            client.tail = bytes(buffer[size - keep : size] if size >= keep else edge[-keep:])
            return
        data = bytes(buffer[:size])
        if not client.registered:
            client.partial += data
            self._register(client)
            return
        if token := client.waiting_for:
            seen = client.control_tail + data
            client.control_tail = seen[1 - len(token) :]
            if token in seen:
                client.waiting_for = client.control_tail = b""
        if client.decodes:
            self._decode(client, data)
        elif self.counting:
            seen = client.tail + data
            client.received += seen.count(MARKER)
            client.tail = seen[1 - len(MARKER) :]

    def _register(self, client: Client) -> None:
        json_mode = self.options.codec == "json"
        for line in client.partial.split(b"\n")[:-1]:
            if line.startswith(b"! ") or b'"type":"error"' in line:
                raise BenchError(
                    f"the server refused {client.nick}: {line.decode(errors='replace')}"
                )
            if (b'"type":"welcome"' in line) if json_mode else (b"* welcome, " in line):
                client.registered = True
                client.partial = b""
                return

    def _decode(self, client: Client, data: bytes) -> None:
        lines = (client.partial + data).split(b"\n")
        client.partial = lines.pop()
        now = time.monotonic_ns()
        for line in lines:
            at = line.find(MARKER)
            if at < 0:
                self._notice(line)
                continue
            if not self.counting:
                continue
            sender_s, seq_s, sent_s, _ = line[at + len(MARKER) :].split(b":", 3)
            sender, seq = int(sender_s), int(seq_s)
            client.received += 1
            self.result.latencies_ns.append(now - int(sent_s))
            if sender == client.sender:
                client.echoed += 1
                if self.windowed and now < self.window_end_ns:
                    self._send_message(client)
            key = (client.index, sender)
            last = self._last_seq.get(key, -1)
            if seq <= last:
                self.result.duplicates += seq == last
                self.result.reordered += seq < last
                continue
            self.result.gaps += seq - last - 1
            self._last_seq[key] = seq

    def _notice(self, line: bytes) -> None:
        """Note who was dropped and why, from the notices a decoder sees."""
        if self.options.codec == "json":
            if b'"type":"left"' in line:
                left = json.loads(line)
                self.result.dropped[left["nick"]] = left["reason"]
        elif found := _LEFT_TEXT.search(line):
            self.result.dropped[found[1].decode()] = found[2].decode()


def _all_registered(clients: list[Client]) -> bool:
    return all(c.registered for c in clients)


def sample_indexes(options: BenchOptions) -> set[int]:
    """Clients beyond the senders that decode every line, spread evenly."""
    never_reads = options.mode == "slow"
    rest = range(options.senders, options.clients - never_reads)
    step = max(1, len(rest) // max(1, options.samples))
    return set(list(rest[::step])[: options.samples])
