"""The playbook's decision and the actions it plans: what `triage` does about one alert."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class DecisionKind(str, Enum):
    AUTO_CLOSE = "auto_close"
    ESCALATE = "escalate"
    CONTAIN = "contain"
    """Escalate, and contain the host or the file (only when containment is enabled)."""


class ActionKind(str, Enum):
    ADD_NOTE = "add_note"
    """params: {'markdown': str}"""
    SET_SEVERITY = "set_severity"
    """params: {'severity': 1..4}"""
    TAG = "tag"
    """params: {'tags': [str]}"""
    ADD_OBSERVABLE = "add_observable"
    """params: {'data_type': 'hash'|'filename'|..., 'data': str, 'message': str, 'tags': [str]}"""
    CLOSE = "close"
    """params: {'status': tenant-defined status name, 'summary': str}"""
    PROMOTE = "promote"
    """Promote the alert to a case. params: {}"""
    ISOLATE_HOST = "isolate_host"
    """params: {'machine_id': str, 'comment': str, 'isolation_type': 'Full'|'Selective'}"""
    BLOCK_HASH = "block_hash"
    """params: {'sha256': str, 'title': str, 'description': str, 'severity': str, 'action': 'BlockAndRemediate'|...}"""
    NOTIFY = "notify"
    """params: {'event': str, 'payload': dict}: generic webhook."""


@dataclass(frozen=True)
class Target:
    """Where an action goes: a connector name and the object it acts on there."""

    connector: str
    """'thehive', 'defender', 'webhook' (or 'memory', the reference fake used by dry runs and tests)."""
    ref: str | None = None
    """The connector's id of the object: TheHive alert id, MDE machine id; None where not needed."""


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    target: Target
    params: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str = ""
    """Stable across re-runs of the same triage: the outbox stores an action once per key, so re-running an alert
    can never repeat a side effect."""
    requires_approval: bool = False


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    retryable: bool
    detail: str
    """What happened, secrets redacted: shown in the case store and audit log."""
    response: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepTrace:
    """One playbook step as it ran: its condition's value and what it did."""

    step: str
    type: str
    condition: str | None
    matched: bool
    detail: str


@dataclass(frozen=True)
class Decision:
    decision: DecisionKind
    severity: int
    """1 low .. 4 critical (TheHive's scale)."""
    reasons: tuple[str, ...]
    close_reason: str | None
    actions: tuple[Action, ...]
    trace: tuple[StepTrace, ...]
    playbook: str
    """Playbook name@version."""
    dry_run: bool
