"""How often the organisation has seen a certificate or a publisher: first/last seen, sightings, hosts."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime, timezone

from sigtriage.model.codec import parse_datetime
from sigtriage.model.evidence import Prevalence
from sigtriage.store.db import transaction


def certificate_key(sha256: str) -> str:
    return f"cert:{sha256.lower()}"


def publisher_key(normalised_name: str) -> str:
    return f"publisher:{normalised_name}"


class PrevalenceStore:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def lookup(self, keys: Iterable[str], *, excluding_host: str | None = None,
               excluding_sha256: str | None = None) -> tuple[Prevalence, ...]:
        """Prevalence of each key, not counting the sighting being assessed (its host and file), so that
        re-assessing the same alert gives the same answer."""
        found = []
        for key in keys:
            row = self._conn.execute(
                "SELECT MIN(first_seen) AS first, MAX(last_seen) AS last, COUNT(*) AS n, COUNT(DISTINCT host) AS h"
                " FROM sightings WHERE key = ? AND NOT (host = ? AND sha256 = ?)",
                (key, excluding_host or "", excluding_sha256 or ""),
            ).fetchone()
            found.append(Prevalence(
                key=key,
                first_seen=parse_datetime(row["first"]) if row["first"] else None,
                last_seen=parse_datetime(row["last"]) if row["last"] else None,
                sightings=row["n"],
                hosts=row["h"],
            ))
        return tuple(found)

    def record(self, keys: Iterable[str], *, host: str, sha256: str, when: datetime) -> None:
        stamp = when.astimezone(timezone.utc).isoformat()
        with transaction(self._conn):
            for key in keys:
                self._conn.execute(
                    "INSERT INTO sightings (key, host, sha256, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT (key, host, sha256) DO UPDATE SET"
                    " first_seen = MIN(first_seen, excluded.first_seen), last_seen = MAX(last_seen, excluded.last_seen)",
                    (key, host, sha256.lower(), stamp, stamp),
                )
