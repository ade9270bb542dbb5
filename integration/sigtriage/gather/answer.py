"""What one revocation source said about one certificate, before it becomes a model.RevocationCheck."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sigtriage.model.evidence import RevocationState

CLOCK_SKEW = timedelta(minutes=5)
"""Tolerance for thisUpdate/nextUpdate against `now`: responders' clocks and ours are not exact."""


@dataclass(frozen=True)
class Answer:
    state: RevocationState
    revoked_at: datetime | None = None
    reason: str | None = None
    error: str | None = None

    @property
    def definitive(self) -> bool:
        return self.state in (RevocationState.GOOD, RevocationState.REVOKED)


GOOD = Answer(RevocationState.GOOD)


def unknown(error: str) -> Answer:
    return Answer(RevocationState.UNKNOWN, error=error)


def revoked(at: datetime | None, reason: str | None) -> Answer:
    return Answer(RevocationState.REVOKED, revoked_at=at, reason=reason)
