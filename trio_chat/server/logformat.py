"""The server's log: lines for people, or one JSON object a line for machines.

A line that tells of a connection or an account carries ``fields``: the
event's name and its values (connection id, address, nick...). The text
format writes the message as ever; the JSON format writes the fields instead
of the message, so that what a client chose (a nick, a quit message) is only
ever a JSON string inside a field and cannot end the line or pass for the
server's own words. docs/operating.md#logging lists the events.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def fields(event: str, **values: object) -> dict[str, Any]:
    """What a log call gives as ``extra=`` to be an ``event`` with ``values``."""
    return {"event": event, "fields": values}


class JsonFormatter(logging.Formatter):
    """time, level, event and the event's fields; the message only for lines
    without an event (the server's own words: listening, shutting down...)."""

    def format(self, record: logging.LogRecord) -> str:
        time = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line: dict[str, object] = {
            "time": time.replace("+00:00", "Z"),
            "level": record.levelname,
            "event": getattr(record, "event", "log"),
        }
        values = getattr(record, "fields", None)
        if isinstance(values, dict):
            line.update(values)
        else:
            line["logger"] = record.name
            line["message"] = record.getMessage()
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        # ASCII: no character a reader could take for a line break (U+2028...).
        return json.dumps(line, ensure_ascii=True, default=str)


def configure(level: str, log_format: LogFormat = "text") -> None:
    """Send the log to stderr at ``level``, in ``log_format``."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    logging.basicConfig(level=level.upper(), handlers=[handler])
