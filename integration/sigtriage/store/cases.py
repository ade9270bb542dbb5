"""The embedded case store: one case per triage, its notes, the action outbox and the append-only audit log.

Every write is one `transaction()` (BEGIN IMMEDIATE), and every state change writes its audit row in that same
transaction, so the audit log can never miss a change nor record one that was rolled back. Re-running a triage
is safe: the case key and each action's idempotency key are stable, and both are inserted at most once.

The outbox rows are delivered by `sigtriage.act.outbox.flush`; the claim/settle SQL lives here, next to the
schema it depends on.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from sigtriage.model.assessment import Assessment
from sigtriage.model.codec import dumps, to_plain
from sigtriage.model.context import ExecutionContext
from sigtriage.model.decision import Action, ActionKind, ActionResult, Decision, DecisionKind, Target
from sigtriage.store.db import transaction

Row = dict[str, Any]

_STATUS = {DecisionKind.AUTO_CLOSE: "closed", DecisionKind.ESCALATE: "escalated", DecisionKind.CONTAIN: "contained"}

# Columns for list views: everything but the (large) JSON documents.
_SUMMARY = ("key, alert_id, source_format, host, user, sha256, baseline, playbook, created_at, updated_at, "
            "decision, severity, verdict, score, status")

# States that hold back the later actions of the same case (see `claim_next`).
_BLOCKING = "('pending', 'in_flight', 'failed')"

Settled = Literal["delivered", "pending", "failed"]


def stamp(when: datetime) -> str:
    """Fixed-width UTC ISO-8601, so that comparing the stored text compares the times. Naive datetimes are
    refused: their zone is a guess, and a wrong guess reorders retries and leases."""
    if when.tzinfo is None:
        raise ValueError(f"naive datetime {when.isoformat()}: pass a timezone-aware time")
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def case_key(alert_id: str | None, sha256: str, baseline: str, playbook: str) -> str:
    """The triage key: the same alert, file, baseline and playbook is the same case, however often it is run."""
    # A JSON array, not a joined string: distinct tuples always encode differently.
    parts = [alert_id or "", sha256.lower(), baseline, playbook]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Claim:
    """An action taken by one worker for one attempt, until `lease_until`."""

    id: int
    case_key: str
    action: Action
    attempt: int
    """1-based, counted since the action was enqueued or requeued."""
    token: int
    """The action's claim count, which never goes back: a worker whose lease expired cannot settle a newer claim."""


class CaseStore:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    # --- cases -------------------------------------------------------------------------------------------------

    def open_case(self, context: ExecutionContext, *, sha256: str, baseline: str, playbook: str,
                  now: datetime) -> tuple[Row, bool]:
        """The case of this triage, created if new: (case row, created)."""
        key = case_key(context.alert_id, sha256, baseline, playbook)
        at = stamp(now)
        with transaction(self._conn):
            created = self._conn.execute(
                "INSERT OR IGNORE INTO cases (key, alert_id, source_format, host, user, sha256, baseline, playbook,"
                " created_at, updated_at, context_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, context.alert_id, context.source_format, context.host, context.user, sha256.lower(), baseline,
                 playbook, at, at, dumps(context)),
            ).rowcount == 1
            if created:
                self._audit(key, "case.open", {"alert_id": context.alert_id, "sha256": sha256.lower(),
                                               "baseline": baseline, "playbook": playbook}, {"created": True}, at)
            row = self._conn.execute("SELECT * FROM cases WHERE key = ?", (key,)).fetchone()
        return dict(row), created

    def get_case(self, key: str) -> Row | None:
        row = self._conn.execute("SELECT * FROM cases WHERE key = ?", (key,)).fetchone()
        return dict(row) if row else None

    def record_decision(self, key: str, decision: Decision, assessment: Assessment | Mapping[str, Any],
                        note_markdown: str, *, now: datetime, failure: str | None = None) -> bool:
        """Store the decision, the assessment it was made on and the case note, and set the status from the
        decision ('error' with `failure`). `assessment` may also be an Assessment's plain JSON form.

        Only the first completed decision of a case counts: when concurrent runs of one triage race, the update
        is conditional inside the write transaction, the loser records nothing and returns False (and should
        replay the winner's decision). A case whose earlier run failed can be decided again."""
        plain = to_plain(assessment)
        at = stamp(now)
        status = "error" if failure else _STATUS[decision.decision]
        with transaction(self._conn):
            updated = self._conn.execute(
                "UPDATE cases SET decision = ?, severity = ?, verdict = ?, score = ?, status = ?, assessment_json = ?,"
                " decision_json = ?, updated_at = ? WHERE key = ? AND (decision_json IS NULL OR status = 'error')",
                (decision.decision.value, decision.severity, plain["verdict"], plain["score"], status, dumps(plain),
                 dumps(decision), at, key)).rowcount
            if not updated:
                if self.get_case(key) is None:
                    raise KeyError(f"no case {key}")
                self._audit(key, "case.decision.skipped", {"decision": decision.decision},
                            {"reason": "the case was already decided (a concurrent or earlier run)"}, at)
                return False
            # A re-run that writes the same note adds nothing; a different note (new evidence) is kept as history.
            self._conn.execute("INSERT OR IGNORE INTO notes (case_key, markdown, created_at) VALUES (?, ?, ?)",
                               (key, note_markdown, at))
            self._audit(key, "case.decision", {"verdict": plain["verdict"], "score": plain["score"]},
                        {"decision": decision.decision, "severity": decision.severity, "status": status,
                         "reasons": decision.reasons, "playbook": decision.playbook}, at)
            if failure:
                self._audit(key, "case.error", {}, {"error": failure}, at)
        return True

    def record_error(self, key: str, message: str, *, now: datetime) -> None:
        """The triage of this case failed: status 'error', and why."""
        at = stamp(now)
        with transaction(self._conn):
            self._update_case(key, "status = 'error', updated_at = ?", (at,))
            self._audit(key, "case.error", {}, {"error": message}, at)

    def list_cases(self, limit: int = 50, status: str | None = None) -> list[Row]:
        """The most recently updated cases, without their JSON documents."""
        where, args = ("WHERE status = ?", (status,)) if status else ("", ())
        rows = self._conn.execute(f"SELECT {_SUMMARY} FROM cases {where} ORDER BY updated_at DESC, id DESC LIMIT ?",
                                  (*args, limit)).fetchall()
        return [dict(r) for r in rows]

    def case_detail(self, key: str) -> Row | None:
        """The case with its notes, actions (in delivery order) and audit trail; JSON columns as stored."""
        case = self.get_case(key)
        if case is None:
            return None
        return {
            "case": case,
            **{table: [dict(r) for r in self._conn.execute(
                f"SELECT * FROM {table} WHERE case_key = ? ORDER BY id", (key,))]
               for table in ("notes", "actions", "audit")},
        }

    # --- outbox: enqueue and gates -----------------------------------------------------------------------------

    def enqueue(self, key: str, actions: Iterable[Action], *, dry_run: bool, now: datetime) -> int:
        """Add actions to the outbox in the given order (their delivery order); returns how many were new.

        An action whose idempotency key is already stored is left as it is: re-running a triage never repeats
        a side effect. The one exception: a real run takes over an action a dry run stored, because the dry run
        delivered nothing and must not stop the real one."""
        at = stamp(now)
        added: list[str] = []
        with transaction(self._conn):
            for action in actions:
                if not action.idempotency_key:
                    raise ValueError(f"{action.kind.value} action without an idempotency key")
                state = "dry_run" if dry_run else "awaiting_approval" if action.requires_approval else "pending"
                cursor = self._conn.execute(
                    "INSERT INTO actions (idempotency_key, case_key, kind, connector, ref, params_json,"
                    " requires_approval, state, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (idempotency_key) DO UPDATE SET state = excluded.state,"
                    " next_attempt_at = excluded.next_attempt_at"
                    " WHERE actions.state = 'dry_run' AND excluded.state != 'dry_run'",
                    (action.idempotency_key, key, action.kind.value, action.target.connector, action.target.ref,
                     dumps(action.params), int(action.requires_approval), state,
                     at if state == "pending" else None, at),
                )
                if cursor.rowcount:
                    added.append(action.idempotency_key)
            self._audit(key, "case.enqueue", {"dry_run": dry_run}, {"added": added}, at)
        return len(added)

    def approve(self, idempotency_key: str, *, by: str, now: datetime) -> bool:
        """Release an approval-gated action for delivery; False if it is not awaiting approval."""
        return self._release(idempotency_key, "awaiting_approval", "case.approve", by, now)

    def action_keys(self, *, state: str) -> list[str]:
        """Idempotency keys of the actions in `state`, oldest first."""
        return [r[0] for r in self._conn.execute(
            "SELECT idempotency_key FROM actions WHERE state = ? ORDER BY id", (state,))]

    def requeue(self, idempotency_key: str, *, by: str, now: datetime) -> bool:
        """Give a failed action a fresh set of attempts (once its cause is fixed); False if it has not failed.
        Until then, a failed action holds back the later actions of its case."""
        return self._release(idempotency_key, "failed", "case.requeue", by, now)

    def _release(self, idempotency_key: str, from_state: str, step: str, by: str, now: datetime) -> bool:
        at = stamp(now)
        with transaction(self._conn):
            row = self._conn.execute(
                "UPDATE actions SET state = 'pending', attempts = 0, next_attempt_at = ?, lease_until = NULL"
                " WHERE idempotency_key = ? AND state = ? RETURNING case_key", (at, idempotency_key, from_state),
            ).fetchone()
            if row:
                self._audit(row["case_key"], step, {"idempotency_key": idempotency_key, "by": by},
                            {"state": "pending"}, at)
        return row is not None

    # --- outbox: delivery (used by sigtriage.act.outbox) -------------------------------------------------------

    def claim_next(self, *, now: datetime, lease_until: datetime) -> Claim | None:
        """Take the oldest deliverable action for one attempt: pending and due, or in flight with an expired
        lease (its worker died). An action is deliverable only if no earlier action of its case is pending, in
        flight or failed: a case's actions go out in enqueue order, and a close never overtakes a note that has
        not been delivered. Approval-gated and dry-run actions hold nothing back (a human may never approve).

        One transaction: two workers can never claim the same action."""
        at = stamp(now)
        with transaction(self._conn):
            row = self._conn.execute(
                "UPDATE actions SET state = 'in_flight', lease_until = :lease, attempts = attempts + 1,"
                " claims = claims + 1"
                " WHERE id = (SELECT a.id FROM actions a"
                "  WHERE ((a.state = 'pending' AND a.next_attempt_at <= :now)"
                "      OR (a.state = 'in_flight' AND a.lease_until <= :now))"
                "  AND NOT EXISTS (SELECT 1 FROM actions b WHERE b.case_key = a.case_key AND b.id < a.id"
                f"                   AND b.state IN {_BLOCKING})"
                "  ORDER BY a.id LIMIT 1)"
                " RETURNING *",
                {"now": at, "lease": stamp(lease_until)},
            ).fetchone()
        if row is None:
            return None
        action = Action(kind=ActionKind(row["kind"]), target=Target(row["connector"], row["ref"]),
                        params=json.loads(row["params_json"]), idempotency_key=row["idempotency_key"],
                        requires_approval=bool(row["requires_approval"]))
        return Claim(id=row["id"], case_key=row["case_key"], action=action, attempt=row["attempts"],
                     token=row["claims"])

    def settle(self, claim: Claim, state: Settled, result: ActionResult, *, now: datetime,
               next_attempt_at: datetime | None = None) -> bool:
        """Record the outcome of a claimed attempt, and audit it. False if the claim was lost (its lease expired
        and another worker took the action): the state is then left to that worker, only the audit row is kept."""
        at = stamp(now)
        retry_at = stamp(next_attempt_at) if next_attempt_at else None
        with transaction(self._conn):
            owned = self._conn.execute(
                "UPDATE actions SET state = ?, lease_until = NULL, next_attempt_at = ?, response_json = ?,"
                " last_error = COALESCE(?, last_error), delivered_at = ?"
                " WHERE id = ? AND state = 'in_flight' AND claims = ?",
                (state, retry_at, dumps(result.response), None if result.ok else result.detail,
                 at if state == "delivered" else None, claim.id, claim.token),
            ).rowcount == 1
            step = {"delivered": "outbox.delivered", "pending": "outbox.retry", "failed": "outbox.failed"}[state]
            self._audit(claim.case_key, step if owned else "outbox.lost_claim",
                        {"idempotency_key": claim.action.idempotency_key, "kind": claim.action.kind,
                         "connector": claim.action.target.connector, "ref": claim.action.target.ref,
                         "attempt": claim.attempt},
                        {**to_plain(result), "next_attempt_at": retry_at}, at)
        return owned

    def count_waiting(self, *, now: datetime) -> int:
        """Due actions held back by an earlier, unfinished action of their case."""
        return int(self._conn.execute(
            "SELECT COUNT(*) FROM actions a WHERE a.state = 'pending' AND a.next_attempt_at <= ?"
            " AND EXISTS (SELECT 1 FROM actions b WHERE b.case_key = a.case_key AND b.id < a.id"
            f"             AND b.state IN {_BLOCKING})", (stamp(now),),
        ).fetchone()[0])

    # --- audit -------------------------------------------------------------------------------------------------

    def audit(self, key: str, step: str, inputs: Any, result: Any, *, now: datetime) -> None:
        """Append one step of a triage (gather, assess, decide...) to the case's audit log."""
        with transaction(self._conn):
            self._audit(key, step, inputs, result, stamp(now))

    def _audit(self, key: str, step: str, inputs: Any, result: Any, at: str) -> None:
        self._conn.execute("INSERT INTO audit (at, case_key, step, inputs_json, result_json) VALUES (?, ?, ?, ?, ?)",
                           (at, key, step, dumps(inputs), dumps(result)))

    def _update_case(self, key: str, assignments: str, args: tuple[Any, ...]) -> None:
        if self._conn.execute(f"UPDATE cases SET {assignments} WHERE key = ?", (*args, key)).rowcount != 1:
            raise KeyError(f"no case {key}")
