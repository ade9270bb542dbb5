"""From findings and privilege to an explainable score, a level and a verdict.

score = sum over findings of weight x factor, capped at 100, where weight comes from the baseline's `weights`
(per code) or else the finding's severity, and factor is the privilege factor for *risk* findings (who signed
this, can we trust it) and 1 for *hygiene* findings (how well it was signed). Every contribution is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sigtriage.model import Finding, Severity
from sigtriage.model.assessment import Contribution, Level, Verdict
from sigtriage.model.context import Privilege

SEVERITY_WEIGHT = {Severity.INFO: 0.0, Severity.LOW: 5.0, Severity.MEDIUM: 15.0, Severity.HIGH: 35.0,
                   Severity.CRITICAL: 60.0}

HYGIENE = frozenset({
    "weak_digest", "weak_key", "no_timestamp", "timestamp_invalid", "cert_age_at_signing_days", "multiple_signers",
    "lifetime_signing", "negative_serial", "revocation_unknown", "revocation_not_checked", "revoked_after_signing",
})
"""Findings about how well a file was signed, not about whether its signer is trustworthy: not scaled by privilege."""

DEFAULT_WEIGHTS = {"weak_digest": 5.0, "weak_key": 5.0, "no_timestamp": 3.0, "negative_serial": 3.0}
"""Hygiene findings weigh little whatever their severity: a 2008 MD5 signature is old, not hostile."""

UNKNOWN_WHEN = frozenset({"alert_file_mismatch"})
"""Findings that make any verdict on this alert meaningless: the verdict is `unknown`, and the alert escalates."""


@dataclass(frozen=True)
class ScoringPolicy:
    privilege_factors: dict[Privilege, float] = field(default_factory=lambda: {
        Privilege.KERNEL: 1.6, Privilege.SYSTEM: 1.5, Privilege.HIGH: 1.3, Privilege.MEDIUM: 1.0,
        Privilege.LOW: 0.8, Privilege.UNKNOWN: 1.2,
    })
    """UNKNOWN weighs more than MEDIUM: not knowing the privilege must not make an alert look milder."""
    level_floors: tuple[tuple[Level, int], ...] = ((Level.CRITICAL, 70), (Level.HIGH, 45), (Level.MEDIUM, 20))
    benign_below: int = 20
    malicious_from: int = 70


def contributions(findings: tuple[Finding, ...], privilege: Privilege, weights: dict[str, float],
                  policy: ScoringPolicy) -> tuple[Contribution, ...]:
    factor = policy.privilege_factors[privilege]
    result = []
    for f in findings:
        weight = weights.get(f.code, DEFAULT_WEIGHTS.get(f.code, SEVERITY_WEIGHT[f.severity]))
        if f.severity is Severity.CRITICAL:
            weight = max(weight, SEVERITY_WEIGHT[Severity.CRITICAL])
        applied = 1.0 if f.code in HYGIENE else factor
        result.append(Contribution(code=f.code, severity=f.severity, weight=weight, factor=applied,
                                   points=round(weight * applied, 2), message=f.message))
    return tuple(sorted(result, key=lambda c: -c.points))


def score_of(parts: tuple[Contribution, ...]) -> int:
    return min(100, round(sum(c.points for c in parts)))


def level_of(score: int, policy: ScoringPolicy) -> Level:
    return next((level for level, floor in policy.level_floors if score >= floor), Level.LOW)


def verdict_of(findings: tuple[Finding, ...], parts: tuple[Contribution, ...], policy: ScoringPolicy, *,
               evidence_missing: bool) -> Verdict:
    codes = {f.code for f in findings}
    score = score_of(parts)
    # missing evidence (an unreachable CRL) or sloppy signing may raise the level, never make code malicious:
    # `malicious` triggers containment, so it must rest on risk findings alone
    risk_score = score_of(tuple(c for c in parts if c.code not in HYGIENE))
    if codes & UNKNOWN_WHEN:
        return Verdict.UNKNOWN
    if any(f.severity is Severity.CRITICAL for f in findings) or risk_score >= policy.malicious_from:
        return Verdict.MALICIOUS  # a forged chain or a blocked certificate needs no revocation answer
    if evidence_missing:
        return Verdict.UNKNOWN
    if "approved_hash" in codes:
        return Verdict.BENIGN
    risky = [f for f in findings if f.code not in HYGIENE and f.severity.rank >= Severity.MEDIUM.rank]
    if score < policy.benign_below and not risky:
        return Verdict.BENIGN
    return Verdict.SUSPICIOUS
