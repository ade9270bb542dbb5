"""One SQLite database file, in WAL mode, with versioned migrations applied on open.

WAL lets several triage processes read while one writes; `busy_timeout` makes writers queue instead of failing.
Every migration is a step in MIGRATIONS; the applied version is kept in `PRAGMA user_version`.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sigtriage.errors import InputError

BUSY_TIMEOUT_MS = 30_000

MIGRATIONS: tuple[str, ...] = (
    # 1: prevalence of certificates and publishers; one row per (key, host, file) so re-runs do not inflate counts
    """
    CREATE TABLE sightings (
        key TEXT NOT NULL,
        host TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        PRIMARY KEY (key, host, sha256)
    );
    CREATE INDEX sightings_key ON sightings (key);
    """,
)


def default_path() -> Path:
    """$SIGTRIAGE_HOME/sigtriage.db, else the XDG state directory."""
    home = os.environ.get("SIGTRIAGE_HOME")
    if home:
        return Path(home) / "sigtriage.db"
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return state / "sigtriage" / "sigtriage.db"


def connect(path: Path, migrations: tuple[str, ...] = MIGRATIONS) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise InputError(f"cannot open the database: {exc}", context=str(path)) from exc
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    _migrate(conn, migrations, path)
    return conn


def _migrate(conn: sqlite3.Connection, migrations: tuple[str, ...], path: Path) -> None:
    with transaction(conn):
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(migrations):
            raise InputError(f"database schema version {version} is newer than this sigtriage knows "
                             f"({len(migrations)}); upgrade sigtriage", context=str(path))
        for number, script in enumerate(migrations[version:], start=version + 1):
            for statement in filter(str.strip, script.split(";")):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE: take the write lock up front, so concurrent writers wait (busy_timeout) and never
    fail half-way through a read-then-write."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
