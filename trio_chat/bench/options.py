"""What a benchmark run does: its scenario and its size."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal["fanout", "rate", "idle", "slow"]
Codec = Literal["text", "json"]


@dataclass(frozen=True, slots=True)
class BenchOptions:
    servers: tuple[tuple[str, int], ...] = (("127.0.0.1", 58000),)
    """(host, port) of each server of the chat; client i connects to server i % len(servers)."""
    mode: Mode = "fanout"
    """fanout: senders keep ``window`` messages in flight; rate: senders send
    ``rate`` messages a second in all; idle: connections that do nothing;
    slow: fanout while the last client never reads."""
    codec: Codec = "text"
    clients: int = 100
    senders: int = 10
    window: int = 32
    """Messages each sender has sent and not yet received back (fanout, slow)."""
    rate: float = 1000.0
    """Messages a second offered by all senders together (rate)."""
    read_interval: float = 2.0
    """Milliseconds the load sleeps between reads (fanout, slow): more lines per read."""
    duration: float = 5.0
    payload: int = 64
    """Bytes of message text, send time and sequence number included."""
    samples: int = 4
    """Clients beyond the senders that decode every line, for latency and order."""
    procs: int = 1
    """Processes the clients are spread over."""
    server_pids: tuple[tuple[str, int], ...] = ()
    """(name, PID) of processes whose CPU and memory the report gives, each and summed."""

    def problem(self) -> str | None:
        """Why these options cannot run, or None."""
        if not self.servers:
            return "need at least one server"
        if self.clients < 1:
            return "need at least one client"
        if self.mode != "idle" and not 1 <= self.senders <= self.clients:
            return "senders must be between 1 and the number of clients"
        if self.mode == "slow" and self.senders >= self.clients:
            return "the slow mode needs a client beyond the senders"
        if self.procs < 1 or self.procs > self.clients:
            return "procs must be between 1 and the number of clients"
        if self.duration <= 0 or self.window < 1 or self.rate <= 0:
            return "duration, window and rate must be positive"
        return None
