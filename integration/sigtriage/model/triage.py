"""What `sigtriage triage` reports for one alert (the `triage` JSON document)."""

from __future__ import annotations

from dataclasses import dataclass

from sigtriage.model.assessment import Assessment
from sigtriage.model.decision import Decision


@dataclass(frozen=True)
class TriageResult:
    """What `sigtriage triage` reports: the case, its decision and note, and what the outbox delivered."""

    case_key: str
    replayed: bool
    """True when an earlier completed triage of the same case was reused (nothing re-decided or re-sent)."""
    decision: Decision
    note: str
    failure: str | None
    assessment: Assessment | None
    delivered: int
    retrying: int
    failed: int
    awaiting_approval: int
    delivery_errors: tuple[str, ...] = ()
    """Why undelivered actions are not delivered yet (the connector's last error, secrets redacted)."""
    schema_version: str = "1.0"
