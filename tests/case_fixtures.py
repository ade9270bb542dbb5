"""Small builders shared by the case-store and outbox tests (and the outbox worker script)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sigtriage.model.context import ExecutionContext, Integrity, Privilege
from sigtriage.model.decision import Action, ActionKind, ActionResult, Decision, DecisionKind, Target

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
SHA = "ab" * 32


def context(alert_id: str = "alert-1", host: str = "ws-01") -> ExecutionContext:
    return ExecutionContext(
        source_format="sysmon_ecs", event_kind="process_start", alert_id=alert_id, event_time=T0, host=host,
        host_id=None, user="CORP\\alice", user_sid=None, integrity_level=Integrity.MEDIUM, elevated=False,
        is_service=False, image_path="C:\\tools\\x.exe", command_line=None, parent_image=None, sha256=SHA,
        sha1=None, md5=None, company_name=None, edr_signature=None, privilege=Privilege.MEDIUM)


def decision(kind: DecisionKind = DecisionKind.ESCALATE, actions: tuple[Action, ...] = ()) -> Decision:
    return Decision(decision=kind, severity=3, reasons=("signer_untrusted: test",), close_reason=None,
                    actions=actions, trace=(), playbook="default@1", dry_run=False)


ASSESSMENT: dict[str, Any] = {"verdict": "suspicious", "score": 55}
"""An assessment's plain JSON form, as much of it as the case store reads."""


def action(key: str, kind: ActionKind = ActionKind.ADD_NOTE, *, connector: str = "memory",
           approval: bool = False) -> Action:
    return Action(kind=kind, target=Target(connector, "ref-1"), params={"markdown": key}, idempotency_key=key,
                  requires_approval=approval)


class Clock:
    """An injected clock that moves only when told."""

    def __init__(self, start: datetime = T0) -> None:
        self.at = start

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


OK = ActionResult(ok=True, retryable=False, detail="done", response={"id": "remote-1"})
