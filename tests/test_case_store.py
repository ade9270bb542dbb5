"""The case store: schema migrations, append-only audit, idempotent cases and outbox, approval and dry-run gates."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from case_fixtures import ASSESSMENT, SHA, T0, action, context, decision

from sigtriage.model.decision import ActionKind, DecisionKind
from sigtriage.store.cases import CaseStore, case_key, stamp
from sigtriage.store.db import MIGRATIONS, connect




def _open(store: CaseStore, alert_id: str = "alert-1") -> str:
    return str(store.open_case(context(alert_id), sha256=SHA, baseline="golden@1", playbook="default@1",
                               now=T0)[0]["key"])


def _objects(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    return {(r["type"], r["name"]) for r in conn.execute("SELECT type, name FROM sqlite_master")
            if not r["name"].startswith("sqlite_")}


def test_migrations_create_the_schema_from_empty_and_are_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    first = connect(path)
    assert first.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    schema = _objects(first)
    assert {("table", t) for t in ("sightings", "cases", "notes", "actions", "audit")} <= schema
    assert {("trigger", "audit_no_update"), ("trigger", "audit_no_delete")} <= schema
    first.close()
    again = connect(path)
    assert again.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert _objects(again) == schema
    again.close()


def test_migration_2_upgrades_a_version_1_database_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = connect(path, MIGRATIONS[:1])
    old.execute("INSERT INTO sightings VALUES ('cert:x', 'h', 's', 't', 't')")
    old.close()
    new = connect(path)
    assert new.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert new.execute("SELECT COUNT(*) FROM sightings").fetchone()[0] == 1
    new.close()


def test_audit_rows_cannot_be_updated_or_deleted(store: CaseStore, conn: sqlite3.Connection) -> None:
    key = _open(store)
    store.audit(key, "gather", {"url": "x"}, {"ok": True}, now=T0)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE audit SET step = 'forged'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit")
    assert [r["step"] for r in conn.execute("SELECT step FROM audit ORDER BY id")] == ["case.open", "gather"]


def test_opening_the_same_triage_twice_gives_one_case(store: CaseStore, conn: sqlite3.Connection) -> None:
    first, created = store.open_case(context(), sha256=SHA.upper(), baseline="golden@1", playbook="default@1",
                                     now=T0)
    again, created_again = store.open_case(context(), sha256=SHA, baseline="golden@1", playbook="default@1", now=T0)
    assert (created, created_again) == (True, False)
    assert first == again
    assert first["key"] == case_key("alert-1", SHA, "golden@1", "default@1")
    assert (first["status"], first["host"], first["user"], first["sha256"]) == ("open", "ws-01", "CORP\\alice", SHA)
    assert json.loads(first["context_json"])["alert_id"] == "alert-1"
    other, _ = store.open_case(context(), sha256=SHA, baseline="golden@2", playbook="default@1", now=T0)
    assert other["key"] != first["key"]  # another baseline is another triage
    assert conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 2


@pytest.mark.parametrize(("kind", "status"), [(DecisionKind.AUTO_CLOSE, "closed"),
                                              (DecisionKind.ESCALATE, "escalated"),
                                              (DecisionKind.CONTAIN, "contained")])
def test_record_decision_sets_status_and_keeps_one_note_per_text(store: CaseStore, kind: DecisionKind,
                                                                  status: str) -> None:
    key = _open(store)
    for _ in range(2):
        store.record_decision(key, decision(kind), ASSESSMENT, "## Suspicious signer", now=T0)
    detail = store.case_detail(key)
    assert detail is not None
    case = detail["case"]
    assert (case["status"], case["decision"], case["severity"], case["verdict"], case["score"]) == (
        status, kind.value, 3, "suspicious", 55)
    assert json.loads(case["decision_json"])["playbook"] == "default@1"
    assert [n["markdown"] for n in detail["notes"]] == ["## Suspicious signer"]
    # the second recording of an already decided case is refused, and audited as such
    assert [a["step"] for a in detail["audit"]] == ["case.open", "case.decision", "case.decision.skipped"]


def test_record_error_and_unknown_cases(store: CaseStore) -> None:
    key = _open(store)
    store.record_error(key, "analysis failed", now=T0)
    case = store.get_case(key)
    assert case is not None and case["status"] == "error"
    assert store.get_case("nope") is None and store.case_detail("nope") is None
    with pytest.raises(KeyError):
        store.record_error("nope", "x", now=T0)


def test_enqueuing_the_same_actions_twice_stores_them_once(store: CaseStore, conn: sqlite3.Connection) -> None:
    key = _open(store)
    actions = [action("k-note"), action("k-close", ActionKind.CLOSE)]
    assert store.enqueue(key, actions, dry_run=False, now=T0) == 2
    assert store.enqueue(key, actions, dry_run=False, now=T0) == 0
    rows = conn.execute("SELECT idempotency_key, state, next_attempt_at FROM actions ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [("k-note", "pending", stamp(T0)), ("k-close", "pending", stamp(T0))]


def test_enqueue_refuses_an_action_without_idempotency_key(store: CaseStore, conn: sqlite3.Connection) -> None:
    key = _open(store)
    with pytest.raises(ValueError, match="idempotency key"):
        store.enqueue(key, [action("ok"), action("")], dry_run=False, now=T0)
    assert conn.execute("SELECT COUNT(*) FROM actions").fetchone()[0] == 0  # all or nothing


def test_approval_gate(store: CaseStore, conn: sqlite3.Connection) -> None:
    key = _open(store)
    store.enqueue(key, [action("k-iso", ActionKind.ISOLATE_HOST, approval=True)], dry_run=False, now=T0)
    assert conn.execute("SELECT state FROM actions").fetchone()[0] == "awaiting_approval"
    assert store.approve("k-iso", by="bob", now=T0)
    assert not store.approve("k-iso", by="bob", now=T0)  # already released
    assert not store.approve("unknown", by="bob", now=T0)
    assert conn.execute("SELECT state FROM actions").fetchone()[0] == "pending"
    audit = conn.execute("SELECT inputs_json FROM audit WHERE step = 'case.approve'").fetchall()
    assert [json.loads(r[0]) for r in audit] == [{"idempotency_key": "k-iso", "by": "bob"}]


def test_dry_run_actions_are_stored_apart_and_a_real_run_takes_them_over(store: CaseStore,
                                                                          conn: sqlite3.Connection) -> None:
    key = _open(store)
    actions = [action("k-note"), action("k-iso", ActionKind.ISOLATE_HOST, approval=True)]
    assert store.enqueue(key, actions, dry_run=True, now=T0) == 2
    assert {r[0] for r in conn.execute("SELECT state FROM actions")} == {"dry_run"}
    assert store.enqueue(key, actions, dry_run=True, now=T0) == 0
    assert store.enqueue(key, actions, dry_run=False, now=T0) == 2
    assert [r[0] for r in conn.execute("SELECT state FROM actions ORDER BY id")] == ["pending", "awaiting_approval"]
    assert store.enqueue(key, actions, dry_run=True, now=T0) == 0  # a later dry run changes nothing


def test_list_cases_newest_first_and_by_status(store: CaseStore) -> None:
    first = _open(store, "a-1")
    second = str(store.open_case(context("a-2"), sha256=SHA, baseline="golden@1", playbook="default@1",
                                 now=datetime(2025, 3, 2, tzinfo=T0.tzinfo))[0]["key"])
    store.record_decision(first, decision(DecisionKind.AUTO_CLOSE), ASSESSMENT, "n", now=datetime(
        2025, 3, 3, tzinfo=T0.tzinfo))
    assert [c["key"] for c in store.list_cases()] == [first, second]
    assert [c["key"] for c in store.list_cases(status="open")] == [second]
    assert [c["key"] for c in store.list_cases(limit=1)] == [first]
    assert "context_json" not in store.list_cases()[0]


def test_times_must_be_timezone_aware(store: CaseStore) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.open_case(context(), sha256=SHA, baseline="b", playbook="p", now=datetime(2025, 1, 1))
