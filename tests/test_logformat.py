"""``--log-format json``: one JSON object a line, a client's words only inside fields."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest
import trio.testing

from trio_chat.protocol import events as ev
from trio_chat.server.logformat import TEXT_FORMAT, JsonFormatter, fields
from trio_chat.testing import JsonClient

HOSTILE = 'mallory" , "level": "ERROR"\n{"event": "forged"}\u2028x'


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("trio_chat.server", logging.INFO, __file__, 1, message, args, None)
    made.__dict__.update(extra)
    return made


def test_an_events_fields_stay_inside_one_line_whatever_they_hold():
    line = JsonFormatter().format(
        record(
            "#%d closed from %s (nick %s)",
            7,
            "192.0.2.1",
            HOSTILE,
            **fields("closed", conn=7, address="192.0.2.1", nick=HOSTILE, reason=HOSTILE),
        )
    )
    assert "\n" not in line
    assert line.isascii()  # so no reader takes U+2028 for a line break either
    parsed = json.loads(line)
    assert parsed.keys() == {"time", "level", "event", "conn", "address", "nick", "reason"}
    assert parsed["event"] == "closed"
    assert parsed["nick"] == parsed["reason"] == HOSTILE
    assert parsed["level"] == "INFO"
    assert parsed["time"].endswith("Z")


def test_a_line_without_an_event_keeps_the_servers_own_message():
    parsed = json.loads(JsonFormatter().format(record("listening on %s", "tcp://127.0.0.1:1")))
    assert parsed["event"] == "log"
    assert parsed["message"] == "listening on tcp://127.0.0.1:1"


def test_a_traceback_is_one_field_of_one_line():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        failed = record("#%d from %s failed", 1, "::1", **fields("failed", conn=1))
        failed.exc_info = sys.exc_info()
    line = JsonFormatter().format(failed)
    assert "\n" not in line
    assert "RuntimeError: boom" in json.loads(line)["exception"]


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The server's log, as --log-format json writes it."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("trio_chat")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield out
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def test_a_clients_quit_message_is_only_a_field_of_its_closed_line(start_chat, json_log):
    _, listener = await start_chat()
    mallory = await JsonClient.connect(listener, address="192.0.2.9")
    await mallory.login("mallory")
    await mallory.send(ev.Quit('bye " "event": "forged"\n'))
    await mallory.expect(ev.Bye)
    with pytest.raises(EOFError):
        await mallory.receive()
    await trio.testing.wait_all_tasks_blocked()  # the server has logged the close
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    closed = [line for line in lines if line["event"] == "closed"]
    assert len(closed) == 1
    assert closed[0]["nick"] == "mallory"
    assert closed[0]["address"] == "192.0.2.9"
    assert closed[0]["reason"].startswith('quit: bye " "event": "forged"')
    assert "message" not in closed[0]
    assert not [line for line in lines if line["event"] == "forged"]


def test_the_text_format_is_unchanged():
    formatter = logging.Formatter(TEXT_FORMAT)
    made = record("#%d opened from %s", 3, "::1", **fields("opened", conn=3, address="::1"))
    assert formatter.format(made).endswith(" INFO #3 opened from ::1")
