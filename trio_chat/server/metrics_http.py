"""``--metrics http://HOST:PORT/``: ``/metrics`` and ``/healthz`` over HTTP.

HTTP is h11's (sans-IO, driven here by a short loop as in its trio example);
the text is prometheus_client's. The endpoint runs beside the chat and can
never end it: a connection that fails ends only itself.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import h11
import trio
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from trio_chat.server.metrics import Metrics

log = logging.getLogger(__name__)

DEFAULT_PORT = 9100
# Seconds a scraper has to send each request and read its answer before its
# connection is closed: one that stops reading cannot hold a task for ever.
REQUEST_TIMEOUT = 10.0
MAX_REQUEST_BYTES = 16 * 1024
# Connections served at once; more are closed as they come, so that scrapers
# cannot take the file descriptors the chat's clients need.
MAX_CONNECTIONS = 32
TEXT = "text/plain; charset=utf-8"


def parse_metrics_url(text: str) -> tuple[str, int]:
    """(host, port) of ``http://HOST[:PORT]/``; ValueError saying what is wrong."""
    url = urlsplit(text)
    if url.scheme != "http":
        raise ValueError(f"{text!r}: the metrics URL must start with http://")
    if url.path not in ("", "/") or url.query or url.fragment:
        raise ValueError(f"{text!r}: give no path (the endpoints are /metrics and /healthz)")
    try:
        port = url.port
    except ValueError:
        raise ValueError(f"{text!r}: the port is not a number from 0 to 65535") from None
    if not url.hostname:
        raise ValueError(f"{text!r}: name the address to listen on, e.g. http://127.0.0.1:9100/")
    return url.hostname, DEFAULT_PORT if port is None else port


@contextlib.asynccontextmanager
async def open_metrics_endpoint(url: str | None, metrics: Metrics) -> AsyncIterator[None]:
    """Serve ``metrics`` at ``url`` (nothing when None) while the block runs;
    raises OSError when the address cannot be listened on."""
    if url is None:
        yield
        return
    host, port = parse_metrics_url(url)
    try:
        listeners = await trio.open_tcp_listeners(port, host=host)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot serve metrics on {url}: {exc.strerror}") from None
    async with trio.open_nursery() as nursery:
        await nursery.start(serve_metrics, listeners, metrics)
        for listener in listeners:
            bound_host, bound_port = listener.socket.getsockname()[:2]
            shown = f"[{bound_host}]" if ":" in bound_host else bound_host
            log.info("metrics on http://%s:%d/metrics", shown, bound_port)
        yield
        nursery.cancel_scope.cancel()


async def serve_metrics(
    listeners: list[trio.SocketListener],
    metrics: Metrics,
    *,
    task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Answer HTTP requests on ``listeners`` until cancelled."""
    limiter = trio.CapacityLimiter(MAX_CONNECTIONS)
    handler = functools.partial(_serve_connection, metrics=metrics, limiter=limiter)
    await trio.serve_listeners(handler, listeners, task_status=task_status)


async def _serve_connection(
    stream: trio.SocketStream, metrics: Metrics, limiter: trio.CapacityLimiter
) -> None:
    try:
        limiter.acquire_nowait()
    except trio.WouldBlock:
        await trio.aclose_forcefully(stream)
        return
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_REQUEST_BYTES)
    try:
        while True:
            with trio.move_on_after(REQUEST_TIMEOUT) as cycle:
                request = event = await _next_event(conn, stream)
                while isinstance(event, h11.Request | h11.Data):  # a body means nothing here
                    event = await _next_event(conn, stream)
                if isinstance(request, h11.Request) and isinstance(event, h11.EndOfMessage):
                    await _respond(conn, stream, request, metrics)
            # too slow to ask or to read the answer, closed, or Connection: close
            if cycle.cancelled_caught or conn.our_state is not h11.DONE:
                return
            conn.start_next_cycle()
    except h11.RemoteProtocolError as exc:
        if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            with (
                trio.move_on_after(REQUEST_TIMEOUT),
                contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError),
            ):
                await _send(conn, stream, exc.error_status_hint, TEXT, b"bad request\n")
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    except Exception:
        log.exception("a metrics request failed")
    finally:
        limiter.release()
        await trio.aclose_forcefully(stream)


async def _next_event(conn: h11.Connection, stream: trio.SocketStream) -> object:
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        conn.receive_data(await stream.receive_some())


async def _respond(
    conn: h11.Connection, stream: trio.SocketStream, request: h11.Request, metrics: Metrics
) -> None:
    method, target = request.method, request.target.split(b"?")[0]
    if method not in (b"GET", b"HEAD"):
        status, kind, body = 405, TEXT, b"only GET and HEAD\n"
    elif target == b"/metrics":
        status, kind, body = 200, CONTENT_TYPE_LATEST, generate_latest(metrics.registry)
    elif target == b"/healthz":
        status, kind, body = (200, TEXT, b"ok\n") if metrics.ready else (503, TEXT, b"not ready\n")
    else:
        status, kind, body = 404, TEXT, b"see /metrics and /healthz\n"
    await _send(conn, stream, status, kind, b"" if method == b"HEAD" else body, length=len(body))


async def _send(
    conn: h11.Connection,
    stream: trio.SocketStream,
    status: int,
    kind: str,
    body: bytes,
    *,
    length: int | None = None,
) -> None:
    headers = [
        ("Content-Type", kind),
        ("Content-Length", str(len(body) if length is None else length)),
    ]
    if status == 405:
        headers.append(("Allow", "GET, HEAD"))
    data = conn.send(h11.Response(status_code=status, headers=headers))
    if body:
        data += conn.send(h11.Data(data=body))
    await stream.send_all(data + conn.send(h11.EndOfMessage()))
