"""The outbox: retries with backoff and Retry-After, leases, ordering within a case, gates, and several processes
flushing one database at once."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from case_fixtures import OK, SHA, Clock, action, context

from sigtriage.act.outbox import FlushReport, flush
from sigtriage.model.decision import Action, ActionKind, ActionResult
from sigtriage.net.retry import RetryPolicy
from sigtriage.store.cases import CaseStore, stamp
from sigtriage.store.db import connect

POLICY = RetryPolicy(max_attempts=4, backoff_base=10.0, max_backoff=60.0)
BUSY = ActionResult(ok=False, retryable=True, detail="503 from remote")
REFUSED = ActionResult(ok=False, retryable=False, detail="400: unknown alert")


class Scripted:
    """A connector that answers from a per-key script (then OK forever) and records every call."""

    def __init__(self, **scripts: list[ActionResult]) -> None:
        self.scripts = scripts
        self.calls: list[str] = []

    def execute(self, action: Action) -> ActionResult:
        self.calls.append(action.idempotency_key)
        script = self.scripts.get(action.idempotency_key.replace("-", "_"), [])
        return script.pop(0) if script else OK




def _case(store: CaseStore, *actions: Action, alert_id: str = "alert-1", dry_run: bool = False) -> str:
    row, _ = store.open_case(context(alert_id), sha256=SHA, baseline="golden@1", playbook="default@1",
                             now=Clock()())
    store.enqueue(str(row["key"]), actions, dry_run=dry_run, now=Clock()())
    return str(row["key"])


def _state(conn: sqlite3.Connection, key: str) -> sqlite3.Row:
    row: sqlite3.Row = conn.execute("SELECT * FROM actions WHERE idempotency_key = ?", (key,)).fetchone()
    return row


def test_retryable_failures_back_off_then_deliver_exactly_once(store: CaseStore, conn: sqlite3.Connection) -> None:
    remote, clock = Scripted(k_note=[BUSY, BUSY]), Clock()
    _case(store, action("k-note"))
    assert flush(store, {"memory": remote}, now=clock, policy=POLICY) == FlushReport(0, 1, 0, 0)
    assert _state(conn, "k-note")["next_attempt_at"] == stamp(clock() + timedelta(seconds=10))
    assert flush(store, {"memory": remote}, now=clock, policy=POLICY) == FlushReport(0, 0, 0, 0)  # not due yet
    clock.advance(10)
    assert flush(store, {"memory": remote}, now=clock, policy=POLICY) == FlushReport(0, 1, 0, 0)
    assert _state(conn, "k-note")["next_attempt_at"] == stamp(clock() + timedelta(seconds=20))  # doubled
    clock.advance(20)
    assert flush(store, {"memory": remote}, now=clock, policy=POLICY) == FlushReport(1, 0, 0, 0)
    clock.advance(3600)
    assert flush(store, {"memory": remote}, now=clock, policy=POLICY) == FlushReport(0, 0, 0, 0)
    assert remote.calls == ["k-note"] * 3
    row = _state(conn, "k-note")
    assert (row["state"], row["attempts"], row["delivered_at"]) == ("delivered", 3, stamp(clock.at - timedelta(
        seconds=3600)))
    assert json.loads(row["response_json"]) == {"id": "remote-1"}
    steps = [r[0] for r in conn.execute("SELECT step FROM audit WHERE step LIKE 'outbox.%' ORDER BY id")]
    assert steps == ["outbox.retry", "outbox.retry", "outbox.delivered"]


def test_retryable_failures_stop_at_max_attempts(store: CaseStore, conn: sqlite3.Connection) -> None:
    remote, clock = Scripted(k_note=[BUSY] * 9), Clock()
    _case(store, action("k-note"))
    for _ in range(POLICY.max_attempts):
        flush(store, {"memory": remote}, now=clock, policy=POLICY)
        clock.advance(POLICY.max_backoff)
    row = _state(conn, "k-note")
    assert (row["state"], row["attempts"], row["last_error"]) == ("failed", 4, "503 from remote")
    assert len(remote.calls) == POLICY.max_attempts


def test_non_retryable_failure_and_missing_connector_fail_at_once(store: CaseStore, conn: sqlite3.Connection) -> None:
    remote = Scripted(k_note=[REFUSED])
    _case(store, action("k-note"), action("k-hook", ActionKind.NOTIFY, connector="webhook"), alert_id="a")
    _case(store, action("k-other", connector="webhook"), alert_id="b")
    assert flush(store, {"memory": remote}, now=Clock(), policy=POLICY) == FlushReport(0, 0, 2, 1)
    assert _state(conn, "k-note")["last_error"] == "400: unknown alert"
    assert "no connector 'webhook'" in _state(conn, "k-other")["last_error"]
    assert _state(conn, "k-hook")["state"] == "pending"  # behind the failed note of its case


def test_retry_after_is_honoured_when_longer_than_the_backoff(store: CaseStore, conn: sqlite3.Connection) -> None:
    slow = ActionResult(ok=False, retryable=True, detail="429", response={"retry_after": 120})
    quick = ActionResult(ok=False, retryable=True, detail="429", response={"retry_after": 1})
    remote, clock = Scripted(k_note=[slow, quick]), Clock()
    _case(store, action("k-note"))
    flush(store, {"memory": remote}, now=clock, policy=POLICY)
    assert _state(conn, "k-note")["next_attempt_at"] == stamp(clock() + timedelta(seconds=120))
    clock.advance(119)
    assert flush(store, {"memory": remote}, now=clock, policy=POLICY).retried == 0
    clock.advance(1)
    flush(store, {"memory": remote}, now=clock, policy=POLICY)
    assert _state(conn, "k-note")["next_attempt_at"] == stamp(clock() + timedelta(seconds=20))  # backoff wins


def test_an_expired_lease_is_retaken_and_the_dead_claim_cannot_settle(store: CaseStore,
                                                                       conn: sqlite3.Connection) -> None:
    remote, clock = Scripted(), Clock()
    _case(store, action("k-note"), action("k-close", ActionKind.CLOSE))
    crashed = store.claim_next(now=clock(), lease_until=clock() + timedelta(seconds=60))
    assert crashed is not None and crashed.action.idempotency_key == "k-note"
    assert flush(store, {"memory": remote}, now=clock, policy=POLICY) == FlushReport(0, 0, 0, 1)  # lease still held
    clock.advance(60)
    assert flush(store, {"memory": remote}, now=clock, policy=POLICY) == FlushReport(2, 0, 0, 0)
    assert remote.calls == ["k-note", "k-close"]
    assert _state(conn, "k-note")["attempts"] == 2
    assert not store.settle(crashed, "delivered", OK, now=clock())  # the dead worker wakes up: only audited
    assert conn.execute("SELECT COUNT(*) FROM audit WHERE step = 'outbox.lost_claim'").fetchone()[0] == 1


def test_a_dead_claim_cannot_settle_a_claim_taken_after_a_requeue(store: CaseStore, conn: sqlite3.Connection) -> None:
    remote, clock = Scripted(k_note=[REFUSED]), Clock()
    _case(store, action("k-note"))
    dead = store.claim_next(now=clock(), lease_until=clock() + timedelta(seconds=60))
    clock.advance(60)
    assert flush(store, {"memory": remote}, now=clock, policy=POLICY).failed == 1
    assert store.requeue("k-note", by="bob", now=clock())
    live = store.claim_next(now=clock(), lease_until=clock() + timedelta(seconds=60))
    assert dead is not None and live is not None and live.attempt == dead.attempt == 1
    assert not store.settle(dead, "failed", REFUSED, now=clock())
    assert _state(conn, "k-note")["state"] == "in_flight"
    assert store.settle(live, "delivered", OK, now=clock())


def test_an_action_that_keeps_killing_its_worker_is_failed_without_another_call(store: CaseStore,
                                                                                conn: sqlite3.Connection) -> None:
    remote, clock = Scripted(), Clock()
    _case(store, action("k-note"))
    for _ in range(POLICY.max_attempts):
        assert store.claim_next(now=clock(), lease_until=clock() + timedelta(seconds=60)) is not None
        clock.advance(61)
    assert flush(store, {"memory": remote}, now=clock, policy=POLICY) == FlushReport(0, 0, 1, 0)
    assert remote.calls == []
    assert "lease expired" in _state(conn, "k-note")["last_error"]


def test_a_case_is_delivered_in_enqueue_order_and_a_close_never_overtakes_a_failed_note(
        store: CaseStore, conn: sqlite3.Connection) -> None:
    remote, clock = Scripted(k_note=[BUSY, REFUSED]), Clock()
    _case(store, action("k-note"), action("k-close", ActionKind.CLOSE), alert_id="a")
    _case(store, action("k-b1"), action("k-b2", ActionKind.CLOSE), alert_id="b")
    assert flush(store, {"memory": remote}, now=clock, policy=POLICY) == FlushReport(2, 1, 0, 1)
    clock.advance(10)
    assert flush(store, {"memory": remote}, now=clock, policy=POLICY) == FlushReport(0, 0, 1, 1)
    clock.advance(3600)
    assert flush(store, {"memory": remote}, now=clock, policy=POLICY) == FlushReport(0, 0, 0, 1)
    assert _state(conn, "k-close")["state"] == "pending"
    assert remote.calls == ["k-note", "k-b1", "k-b2", "k-note"]
    assert store.requeue("k-note", by="bob", now=clock())  # the cause was fixed
    assert flush(store, {"memory": remote}, now=clock, policy=POLICY) == FlushReport(2, 0, 0, 0)
    assert remote.calls[-2:] == ["k-note", "k-close"]


def test_approval_gated_actions_wait_for_approval_and_hold_nothing_back(store: CaseStore) -> None:
    remote, clock = Scripted(), Clock()
    _case(store, action("k-note"), action("k-iso", ActionKind.ISOLATE_HOST, approval=True),
          action("k-tag", ActionKind.TAG))
    assert flush(store, {"memory": remote}, now=clock, policy=POLICY).delivered == 2
    assert remote.calls == ["k-note", "k-tag"]
    store.approve("k-iso", by="bob", now=clock())
    assert flush(store, {"memory": remote}, now=clock, policy=POLICY).delivered == 1
    assert remote.calls[-1] == "k-iso"


def test_dry_run_actions_are_never_delivered(store: CaseStore, conn: sqlite3.Connection) -> None:
    remote, clock = Scripted(), Clock()
    _case(store, action("k-note"), action("k-close", ActionKind.CLOSE), dry_run=True)
    clock.advance(10 ** 6)
    assert flush(store, {"memory": remote}, now=clock, policy=POLICY) == FlushReport(0, 0, 0, 0)
    assert remote.calls == []
    assert {r[0] for r in conn.execute("SELECT state FROM actions")} == {"dry_run"}


def test_max_actions_bounds_one_flush(store: CaseStore) -> None:
    remote = Scripted()
    for n in range(3):
        _case(store, action(f"k-{n}"), alert_id=f"a-{n}")
    assert flush(store, {"memory": remote}, now=Clock(), policy=POLICY, max_actions=2).delivered == 2
    assert flush(store, {"memory": remote}, now=Clock(), policy=POLICY).delivered == 1


# --- several processes at once ---------------------------------------------------------------------------------

WORKERS, CASES = 4, 6
WORKER = Path(__file__).with_name("outbox_worker.py")


def test_processes_flushing_one_database_at_once_lose_and_repeat_nothing(tmp_path: Path) -> None:
    """Each worker opens the same (initially empty) database, opens the same cases, enqueues overlapping actions
    and flushes, all at once; a recording connector fails some first calls. Afterwards every case exists once,
    every action was delivered exactly once and in order, and the audit log accounts for every call."""
    db, calls_db, go = tmp_path / "s.db", tmp_path / "calls.db", tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, str(WORKER), str(db), str(calls_db), str(go), str(n), str(CASES)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in range(WORKERS)]
    deadline = time.monotonic() + 15
    while len(list(tmp_path.glob("ready-*"))) < WORKERS and time.monotonic() < deadline:
        time.sleep(0.02)  # start them together, once every interpreter has imported sigtriage
    go.touch()
    outputs = [p.communicate(timeout=30) for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    created = sum(json.loads(out)["created"] for out, _ in outputs)

    conn, calls = connect(db), sqlite3.connect(calls_db)
    try:
        assert created == CASES
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM cases").fetchone()[:] == (CASES, CASES)
        actions = {r["idempotency_key"]: r for r in conn.execute("SELECT * FROM actions")}
        # per case: 3 shared actions and one note per worker
        assert len(actions) == CASES * (3 + WORKERS)
        assert {r["state"] for r in actions.values()} == {"delivered"}

        ok = Counter(k for (k,) in calls.execute("SELECT idempotency_key FROM calls WHERE ok"))
        failed = Counter(k for (k,) in calls.execute("SELECT idempotency_key FROM calls WHERE NOT ok"))
        assert ok == Counter(dict.fromkeys(actions, 1))  # every action delivered exactly once
        assert set(failed) == {k for k, r in actions.items() if r["kind"] == "tag"} and set(failed.values()) == {1}

        # in each case, deliveries happened in enqueue order
        delivered_order = [k for (k,) in calls.execute("SELECT idempotency_key FROM calls WHERE ok ORDER BY id")]
        for case in {r["case_key"] for r in actions.values()}:
            ids = [actions[k]["id"] for k in delivered_order if actions[k]["case_key"] == case]
            assert ids == sorted(ids)

        steps = Counter((r["case_key"], r["step"]) for r in conn.execute("SELECT case_key, step FROM audit"))
        per_action = Counter(json.loads(r["inputs_json"])["idempotency_key"] for r in conn.execute(
            "SELECT inputs_json FROM audit WHERE step = 'outbox.delivered'"))
        assert per_action == ok
        assert sum(n for (_, step), n in steps.items() if step == "outbox.retry") == sum(failed.values())
        for case in {r["case_key"] for r in actions.values()}:
            # one decision per case; every other worker's attempt is refused (first completed decision wins)
            assert steps[(case, "case.open")] == 1 and steps[(case, "case.decision")] == 1
            assert steps[(case, "case.decision.skipped")] == WORKERS - 1
    finally:
        conn.close()
        calls.close()
