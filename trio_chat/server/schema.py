"""The database's schema version, and the tables the server shares with
``trio-chat admin``.

``PRAGMA user_version`` holds the version. 0 is a database made before
versions were kept: its tables are those of ``sqlite.SCHEMA``. Upgrading only
ever adds tables, so a server of the version before keeps working on a
database the admin command upgraded under it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

VERSION = 1
# Raised in ``meta`` by each change the admin command makes, so a running
# server sees that it has something to re-read by reading one row.
ADMIN_SERIAL = "admin_serial"
# Seconds a writer waits for another connection's transaction to end.
BUSY_TIMEOUT = 10.0

ADMIN_SCHEMA = """
CREATE TABLE IF NOT EXISTS logins (
    nick TEXT PRIMARY KEY,       -- a registered nick, folded
    time TEXT NOT NULL           -- ISO 8601, UTC: its last sign-in with a password
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS server_bans (
    kind TEXT NOT NULL,          -- nick, account or address
    target TEXT NOT NULL,        -- a folded nick, or a network in CIDR form
    expires TEXT NOT NULL,       -- ISO 8601, UTC; '' for never
    reason TEXT NOT NULL,
    time TEXT NOT NULL,          -- when it was set
    PRIMARY KEY (kind, target)
) WITHOUT ROWID;
"""


class SchemaError(Exception):
    """A database this version of trio-chat cannot use."""


def check_version(db: sqlite3.Connection, path: str) -> None:
    (version,) = db.execute("PRAGMA user_version").fetchone()
    if version > VERSION:
        raise SchemaError(
            f"{path} has schema version {version}, and this trio-chat knows versions up to "
            f"{VERSION}: use the trio-chat that made it, or a newer one"
        )


def upgrade(db: sqlite3.Connection, path: str) -> None:
    """Add what this version's tables add; ``db`` commits each statement."""
    check_version(db, path)
    db.executescript(ADMIN_SCHEMA)
    db.execute(f"PRAGMA user_version = {VERSION}")


def open_existing(path: str) -> sqlite3.Connection:
    """The server's database at ``path``, for changing it beside a running server.

    Raises SchemaError when there is none, or it is not one this version knows.
    """
    if not Path(path).is_file():
        raise SchemaError(f"no database at {path}")
    db = sqlite3.connect(
        f"file:{quote(path)}?mode=rw", uri=True, isolation_level=None, timeout=BUSY_TIMEOUT
    )
    try:
        check_version(db, path)
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
        if "accounts" not in tables:
            raise SchemaError(f"{path} is not a trio-chat database")
        upgrade(db, path)
    except sqlite3.DatabaseError as exc:
        db.close()
        raise SchemaError(f"{path}: {exc}") from None
    except SchemaError:
        db.close()
        raise
    return db
