"""The assessment: the analysis, judged against the baseline, evidence and execution context."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from sigtriage.model.analysis import AnalysisReport, Finding, Severity
from sigtriage.model.context import ExecutionContext, Privilege
from sigtriage.model.evidence import IntelMatch, Prevalence, RevocationEvidence


class Verdict(str, Enum):
    BENIGN = "benign"
    SUSPICIOUS = "suspicious"
    MALICIOUS = "malicious"
    UNKNOWN = "unknown"
    """The evidence needed to judge is missing (analysis failed, revocation required but unknown)."""


class Level(str, Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Contribution:
    """How one finding moved the score: its weight, the privilege factor applied, and the points it added."""

    code: str
    severity: Severity
    weight: float
    factor: float
    points: float
    message: str


@dataclass(frozen=True)
class PlatformScores:
    """The same result in the vocabularies of the platforms sigtriage feeds."""

    xsoar_dbot_score: int
    """Cortex XSOAR DBotScore: 0 unknown, 1 good, 2 suspicious, 3 bad."""
    thehive_severity: int
    """TheHive severity: 1 low, 2 medium, 3 high, 4 critical."""
    cortex_level: str
    """Cortex analyzer taxonomy level: info, safe, suspicious, malicious."""
    ecs: dict[str, Any] = field(default_factory=dict)
    """ECS `file.code_signature.*` / `process.code_signature.*` fields."""


@dataclass(frozen=True)
class Assessment:
    """Everything `sigtriage assess` concluded about one binary in one execution context (schema_version 1.0)."""

    analysis: AnalysisReport
    context: ExecutionContext | None
    revocation: RevocationEvidence
    intel_matches: tuple[IntelMatch, ...]
    prevalence: tuple[Prevalence, ...]
    pinned_publisher: str | None
    """Name of the baseline publisher whose pinned certificate or key the signer chains to, if any."""
    findings: tuple[Finding, ...]
    """Analysis findings followed by assessment findings."""
    contributions: tuple[Contribution, ...]
    privilege: Privilege
    privilege_factor: float
    score: int
    level: Level
    verdict: Verdict
    reasons: tuple[str, ...]
    """Why this verdict, in order of weight: what a case note leads with."""
    platform: PlatformScores
    baseline: str | None
    """Baseline name and version used, e.g. 'corp-golden-image@3'."""
    evaluated_at: datetime
    schema_version: str = "1.0"
