"""What the configuration files (client.toml, the server's) say about a key."""

from __future__ import annotations

import re


def where(text: str, key: str) -> str:
    """ "line N: " for the line that sets ``key``, or opens it as a table;
    tomllib does not say."""
    pattern = re.compile(rf"""\s*(\[+\s*)?["']?{re.escape(key)}["']?\s*[=\]]""")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return f"line {number}: "
    return ""


def toml_type(value: object) -> str:
    names = {str: "a string", bool: "true or false", int: "a number", float: "a number"}
    names |= {list: "a list", dict: "a table"}
    return names.get(type(value), "a date or time")
