"""One of several processes triaging the same alerts into one database at once (run by test_outbox.py).

    outbox_worker.py DB CALLS_DB GO_FILE WORKER_NUMBER CASES

Waits for GO_FILE, then for each case (in an order of its own): opens the case, records the decision, enqueues
the case's three shared actions plus a note of its own, and flushes a few actions; at the end it flushes until
nothing is left. Its connector records every call in CALLS_DB and fails the first call of every 'tag' action
(retryable). Prints {"created": cases this worker created}.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from case_fixtures import ASSESSMENT, OK, SHA, action, context, decision

from sigtriage.act.outbox import flush
from sigtriage.model.decision import Action, ActionKind, ActionResult
from sigtriage.net.retry import RetryPolicy
from sigtriage.store.cases import CaseStore
from sigtriage.store.db import connect

CALLS_SCHEMA = ("CREATE TABLE calls (id INTEGER PRIMARY KEY, idempotency_key TEXT NOT NULL, ok INTEGER NOT NULL,"
                " pid INTEGER NOT NULL)",)
POLICY = RetryPolicy(max_attempts=5, backoff_base=0.0)


def now() -> datetime:
    return datetime.now(timezone.utc)


class Recording:
    def __init__(self, path: Path) -> None:
        self.conn = connect(path, CALLS_SCHEMA)

    def execute(self, action: Action) -> ActionResult:
        # No lock is needed: only one worker at a time holds a claim on an action (what the test checks).
        seen = self.conn.execute("SELECT COUNT(*) FROM calls WHERE idempotency_key = ?",
                                 (action.idempotency_key,)).fetchone()[0]
        ok = not (action.kind is ActionKind.TAG and seen == 0)
        self.conn.execute("INSERT INTO calls (idempotency_key, ok, pid) VALUES (?, ?, ?)",
                          (action.idempotency_key, ok, os.getpid()))
        return OK if ok else ActionResult(ok=False, retryable=True, detail="busy")


def main(db: Path, calls_db: Path, go: Path, worker: int, cases: int) -> None:
    (go.parent / f"ready-{worker}").touch()
    while not go.exists():
        time.sleep(0.005)
    store = CaseStore(connect(db))
    connectors = {"memory": Recording(calls_db)}
    created = 0
    for n in [(worker + i) % cases for i in range(cases)]:
        row, new = store.open_case(context(f"alert-{n}"), sha256=SHA, baseline="golden@1", playbook="default@1",
                                   now=now())
        created += new
        key = str(row["key"])
        store.record_decision(key, decision(), ASSESSMENT, f"note for case {n}", now=now())
        shared = [action(f"{n}-note"), action(f"{n}-tag", ActionKind.TAG), action(f"{n}-close", ActionKind.CLOSE)]
        store.enqueue(key, [*shared, action(f"{n}-from-{worker}")], dry_run=False, now=now())
        flush(store, connectors, now=now, policy=POLICY, max_actions=3)
    # Until nothing is claimable; what another worker still holds, that worker finishes.
    while True:
        report = flush(store, connectors, now=now, policy=POLICY, max_actions=1000)
        if report.delivered + report.retried + report.failed == 0:
            break
    print(json.dumps({"created": created}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
