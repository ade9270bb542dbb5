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
    # 2: triage cases, their notes, the action outbox and the append-only audit log (store/cases.py).
    # Times are fixed-width UTC ISO-8601 strings ('2025-01-02T03:04:05.000000Z') so text order is time order.
    """
    CREATE TABLE cases (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        alert_id TEXT,
        source_format TEXT NOT NULL,
        host TEXT,
        user TEXT,
        sha256 TEXT NOT NULL,
        baseline TEXT NOT NULL,
        playbook TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        decision TEXT,
        severity INTEGER,
        verdict TEXT,
        score INTEGER,
        status TEXT NOT NULL DEFAULT 'open'
            CHECK (status IN ('open', 'closed', 'escalated', 'contained', 'error')),
        context_json TEXT NOT NULL,
        assessment_json TEXT,
        decision_json TEXT
    );
    CREATE INDEX cases_status ON cases (status, updated_at);
    CREATE TABLE notes (
        id INTEGER PRIMARY KEY,
        case_key TEXT NOT NULL REFERENCES cases (key),
        markdown TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (case_key, markdown)
    );
    CREATE TABLE actions (
        id INTEGER PRIMARY KEY,
        idempotency_key TEXT NOT NULL UNIQUE,
        case_key TEXT NOT NULL REFERENCES cases (key),
        kind TEXT NOT NULL,
        connector TEXT NOT NULL,
        ref TEXT,
        params_json TEXT NOT NULL,
        requires_approval INTEGER NOT NULL CHECK (requires_approval IN (0, 1)),
        state TEXT NOT NULL
            CHECK (state IN ('pending', 'in_flight', 'delivered', 'failed', 'awaiting_approval', 'dry_run')),
        attempts INTEGER NOT NULL DEFAULT 0,
        claims INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT,
        lease_until TEXT,
        last_error TEXT,
        response_json TEXT,
        created_at TEXT NOT NULL,
        delivered_at TEXT
    );
    CREATE INDEX actions_due ON actions (state, next_attempt_at);
    CREATE INDEX actions_case ON actions (case_key, id);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        case_key TEXT NOT NULL REFERENCES cases (key),
        step TEXT NOT NULL,
        inputs_json TEXT NOT NULL,
        result_json TEXT NOT NULL
    );
    CREATE INDEX audit_case ON audit (case_key, id);
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
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
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
    except (OSError, sqlite3.Error) as exc:
        raise InputError(f"cannot open the database (store.path): {exc}", context=str(path)) from exc
    _migrate(conn, migrations, path)
    return conn


def _migrate(conn: sqlite3.Connection, migrations: tuple[str, ...], path: Path) -> None:
    with transaction(conn):
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(migrations):
            raise InputError(f"database schema version {version} is newer than this sigtriage knows "
                             f"({len(migrations)}); upgrade sigtriage", context=str(path))
        for number, script in enumerate(migrations[version:], start=version + 1):
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")


def _statements(script: str) -> Iterator[str]:
    """The statements of a migration script. Not `executescript`, which commits the open transaction first; and
    not a plain split on ';', which would cut a CREATE TRIGGER at the ';' inside its BEGIN ... END body."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip("; \n\t"):
                yield pending
            pending = ""


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
