"""Pure assessment: (analysis, context, baseline, evidence) -> Assessment. No I/O; replayable from saved reports."""

from __future__ import annotations

from datetime import datetime

from sigtriage.judge.checks import Facts, assessment_findings
from sigtriage.judge.pinning import pinned_publisher
from sigtriage.judge.platform import platform_scores
from sigtriage.judge.score import ScoringPolicy, contributions, level_of, score_of, verdict_of
from sigtriage.model import AnalysisReport, Severity
from sigtriage.model.assessment import Assessment
from sigtriage.model.baseline import Baseline
from sigtriage.model.context import ExecutionContext, Privilege
from sigtriage.model.evidence import IntelMatch, Prevalence, RevocationEvidence, RevocationState


def _evidence_missing(revocation: RevocationEvidence) -> bool:
    """`require` mode: a revocation answer is mandatory, so an unknown one leaves the verdict unknown."""
    return revocation.mode == "require" and any(c.state is RevocationState.UNKNOWN for c in revocation.checks)


def assess(analysis: AnalysisReport, *, context: ExecutionContext | None, baseline: Baseline,
           revocation: RevocationEvidence, intel: tuple[IntelMatch, ...] = (),
           prevalence: tuple[Prevalence, ...] = (), now: datetime, policy: ScoringPolicy = ScoringPolicy()) -> Assessment:
    pinned = pinned_publisher(analysis, baseline)
    facts = Facts(analysis=analysis, context=context, baseline=baseline, pinned=pinned, revocation=revocation,
                  intel=intel, prevalence=prevalence, now=now)
    findings = analysis.findings + assessment_findings(facts)
    privilege = context.privilege if context else Privilege.UNKNOWN
    parts = contributions(findings, privilege, baseline.weights, policy)
    score = score_of(parts)
    level = level_of(score, policy)
    verdict = verdict_of(findings, parts, policy, evidence_missing=_evidence_missing(revocation))
    reasons = tuple(f"{c.code}: {c.message}" for c in parts if c.points > 0) or tuple(
        f"{f.code}: {f.message}" for f in findings if f.severity is Severity.INFO and f.code == "pinned_publisher")
    return Assessment(
        analysis=analysis,
        context=context,
        revocation=revocation,
        intel_matches=intel,
        prevalence=prevalence,
        pinned_publisher=pinned.name if pinned else None,
        findings=findings,
        contributions=parts,
        privilege=privilege,
        privilege_factor=policy.privilege_factors[privilege],
        score=score,
        level=level,
        verdict=verdict,
        reasons=reasons,
        platform=platform_scores(analysis, verdict, level),
        baseline=baseline.label,
        evaluated_at=now,
    )
