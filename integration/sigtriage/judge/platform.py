"""The assessment in the vocabularies of the platforms sigtriage feeds (pure mapping, one table each)."""

from __future__ import annotations

from typing import Any

from sigtriage.model import AnalysisReport, Status
from sigtriage.model.assessment import Level, PlatformScores, Verdict

XSOAR_DBOT = {Verdict.UNKNOWN: 0, Verdict.BENIGN: 1, Verdict.SUSPICIOUS: 2, Verdict.MALICIOUS: 3}
THEHIVE_SEVERITY = {Level.LOW: 1, Level.MEDIUM: 2, Level.HIGH: 3, Level.CRITICAL: 4}
CORTEX_LEVEL = {Verdict.UNKNOWN: "info", Verdict.BENIGN: "safe", Verdict.SUSPICIOUS: "suspicious",
                Verdict.MALICIOUS: "malicious"}
ECS_STATUS = {
    Status.VALID: "trusted", Status.UNSIGNED: "errorUnsigned", Status.DIGEST_MISMATCH: "errorBadDigest",
    Status.UNTRUSTED_ROOT: "errorUntrustedRoot", Status.SELF_SIGNED: "errorUntrustedRoot",
    Status.CHAIN_INVALID: "errorChaining", Status.EXPIRED: "errorExpired", Status.NOT_YET_VALID: "errorExpired",
    Status.BAD_KEY_USAGE: "errorBadUsage", Status.MALFORMED: "errorCode_endpoint", Status.UNSUPPORTED: "errorUnsupported",
    Status.ERROR: "errorCode_endpoint",
}
"""Elastic Defend's code_signature.status strings where they exist ('trusted', 'errorExpired', 'errorBadDigest',
'errorUntrustedRoot', 'errorChaining', ...)."""


def ecs_code_signature(analysis: AnalysisReport) -> dict[str, Any]:
    primary = analysis.primary
    signer = primary.signer if primary else None
    fields: dict[str, Any] = {
        "exists": analysis.status not in (Status.UNSIGNED, Status.UNSUPPORTED),
        "status": ECS_STATUS[analysis.status],
        "trusted": analysis.status is Status.VALID,
        "valid": bool(primary and primary.digest_valid),
    }
    if signer is not None:
        fields["subject_name"] = signer.subject.cn or signer.subject.dn
    if primary is not None:
        fields["digest_algorithm"] = primary.digest_algorithm
        if primary.timestamp and primary.timestamp.time and primary.timestamp.valid:
            fields["timestamp"] = primary.timestamp.time.isoformat().replace("+00:00", "Z")
    return fields


def platform_scores(analysis: AnalysisReport, verdict: Verdict, level: Level) -> PlatformScores:
    return PlatformScores(
        xsoar_dbot_score=XSOAR_DBOT[verdict],
        thehive_severity=THEHIVE_SEVERITY[level],
        cortex_level=CORTEX_LEVEL[verdict],
        ecs={"file": {"code_signature": ecs_code_signature(analysis)}},
    )
