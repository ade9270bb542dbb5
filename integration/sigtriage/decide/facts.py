"""The variables a playbook condition can use (README 'Playbook variables'): plain JSON values only."""

from __future__ import annotations

from typing import Any

from sigtriage.judge.score import HYGIENE
from sigtriage.model import Severity
from sigtriage.model.assessment import Assessment
from sigtriage.model.context import ExecutionContext
from sigtriage.model.evidence import RevocationState

SEVERITY_RANK = {s.value: s.rank for s in Severity}

VARIABLES: dict[str, str] = {
    "inputs": "map: the playbook inputs after defaults and overrides",
    "failed": "bool: the triage could not complete (bad binary, bad alert, analysis timeout, internal error)",
    "error": "string: why it failed ('' if it did not)",
    "condition_errors": "int: playbook conditions that failed so far",
    "decision": "string: the decision so far ('' until a decide step sets it)",
    "verdict": "string: benign | suspicious | malicious | unknown ('unknown' when failed)",
    "level": "string: low | medium | high | critical",
    "score": "int: 0-100",
    "severity": "int: 1-4, TheHive severity from the level (3 when failed)",
    "privilege": "string: kernel | system | high | medium | low | unknown",
    "status": "string: the signature status (analysis vocabulary; 'error' when failed)",
    "signed": "bool: the file carries a signature",
    "pinned": "bool: the signer is a pinned baseline publisher",
    "publisher": "string: the pinned publisher's name, or ''",
    "revocation_mode": "string: off | soft-fail | hard-fail | require",
    "revocation_checked": "bool: every certificate got a good or revoked answer (false when mode is off)",
    "codes": "list of strings: every finding code",
    "risk_codes": "list of strings: codes of risk findings above info (hygiene findings excluded)",
    "max_severity": "int: highest finding severity, 0 info .. 4 critical, -1 with no finding",
    "max_severity_except": "map: code -> highest severity of the findings other than that code",
    "sha256": "string: the file's SHA-256 (or the alert's, when the file could not be read)",
    "host": "string", "host_id": "string: the EDR machine id", "user": "string",
    "integrity": "string", "elevated": "bool", "is_service": "bool",
}


def _max_rank(severities: list[str]) -> int:
    return max((SEVERITY_RANK[s] for s in severities), default=-1)


def activation(assessment: Assessment | None, context: ExecutionContext | None, failure: str | None,
               inputs: dict[str, Any], decision: str, errors: list[str]) -> dict[str, Any]:
    a = assessment
    ctx = a.context if a else context
    findings = [(f.code, f.severity.value) for f in a.findings] if a else []
    checks = a.revocation.checks if a else ()
    answered = {RevocationState.GOOD, RevocationState.REVOKED}
    return {
        "inputs": dict(inputs),
        "failed": failure is not None or a is None,
        "error": failure or "",
        "condition_errors": len(errors),
        "decision": decision,
        # a failed triage judges nothing, even if part of it (say, the binary) could be assessed
        "verdict": a.verdict.value if a and not failure else "unknown",
        "level": a.level.value if a and not failure else "high",
        "score": a.score if a and not failure else 100,
        "severity": a.platform.thehive_severity if a and not failure else 3,
        "privilege": a.privilege.value if a else "unknown",
        "status": a.analysis.status.value if a else "error",
        "signed": bool(a and a.analysis.signatures),
        "pinned": bool(a and a.pinned_publisher),
        "publisher": (a.pinned_publisher or "") if a else "",
        "revocation_mode": a.revocation.mode if a else "unknown",
        "revocation_checked": bool(a and a.revocation.mode != "off" and all(c.state in answered for c in checks)),
        "codes": [code for code, _ in findings],
        "risk_codes": [code for code, sev in findings if code not in HYGIENE and SEVERITY_RANK[sev] > 0],
        "max_severity": _max_rank([sev for _, sev in findings]),
        "max_severity_except": {code: _max_rank([s for c, s in findings if c != code]) for code, _ in findings},
        "sha256": (a.analysis.file.sha256 if a else (ctx.sha256 if ctx else "")) or "",
        "host": (ctx.host if ctx else "") or "",
        "host_id": (ctx.host_id if ctx else "") or "",
        "user": (ctx.user if ctx else "") or "",
        "integrity": ctx.integrity_level.value if ctx else "unknown",
        "elevated": bool(ctx and ctx.elevated),
        "is_service": bool(ctx and ctx.is_service),
    }
