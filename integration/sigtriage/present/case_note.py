"""The Markdown case note: what a SOAR war room or a TheHive comment shows the analyst. Pure rendering."""

from __future__ import annotations

from sigtriage.model import Severity, Signature
from sigtriage.model.assessment import Assessment
from sigtriage.model.context import ExecutionContext
from sigtriage.model.decision import ActionKind, Decision, DecisionKind

HEADLINE = {DecisionKind.AUTO_CLOSE: "Auto-closed: benign", DecisionKind.ESCALATE: "Escalated",
            DecisionKind.CONTAIN: "Escalated, containment planned"}
SEVERITY_NAME = {1: "low", 2: "medium", 3: "high", 4: "critical"}
NEXT_STEPS = {
    "digest_mismatch": "The file changed after signing: obtain the vendor's original and compare.",
    "chain_invalid": "The chain is forged or broken (spoofing): treat the publisher identity as false.",
    "untrusted_root": "The root is not trusted: find out who operates this CA and whether it belongs here.",
    "self_signed": "Self-signed code proves nothing about its author: judge it by origin and behaviour.",
    "unsigned": "Unsigned: check where the binary came from (parent process, download path).",
    "malformed": "The signature is broken: treat as tampered until proven otherwise.",
}


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _signer_lines(sig: Signature) -> list[str]:
    lines = []
    if sig.signer is not None:
        s = sig.signer
        lines.append(f"- **Signer:** {_cell(s.subject.dn)} (serial `{s.serial_int_hex}`, SHA-256 `{s.sha256}`, "
                     f"valid {s.not_before:%Y-%m-%d} to {s.not_after:%Y-%m-%d})")
    chain = " <- ".join(c.subject.cn or c.subject.dn for c in sig.chain) or "none"
    root = sig.trusted_root.subject if sig.trusted_root else "not trusted"
    lines.append(f"- **Chain:** {_cell(chain)}; trusted root: {_cell(root)}")
    ts = sig.timestamp
    if ts and ts.time:
        lines.append(f"- **Timestamp:** {ts.time:%Y-%m-%d %H:%M:%S} UTC ({ts.kind}, {_cell(ts.authority)})"
                     + ("" if ts.valid else f" - **invalid**: {_cell(ts.error)}"))
    else:
        lines.append("- **Timestamp:** none")
    return lines


def render_case_note(decision: Decision, assessment: Assessment | None, context: ExecutionContext | None,
                     failure: str | None) -> str:
    ctx = assessment.context if assessment and assessment.context else context
    out = [f"### sigtriage: {HEADLINE[decision.decision]} (severity {SEVERITY_NAME[decision.severity]})", ""]
    if failure:
        out += [f"> **The triage could not complete:** {_cell(failure)}. Nothing was auto-closed.", ""]
    out += ["**Why:**", *[f"- {_cell(r)}" for r in decision.reasons], ""]
    if decision.close_reason:
        out += [f"**Closing reason:** {_cell(decision.close_reason)}", ""]
    if ctx is not None:
        out += ["**Execution**", "", "| | |", "| --- | --- |",
                f"| host | {_cell(ctx.host or '?')} (EDR id {_cell(ctx.host_id or '?')}) |",
                f"| user | {_cell(ctx.user or '?')} ({_cell(ctx.user_sid or 'no SID')}) |",
                f"| privilege | {ctx.privilege.value} (integrity {ctx.integrity_level.value}"
                + (", elevated" if ctx.elevated else "") + (", service" if ctx.is_service else "") + ") |",
                f"| image | `{_cell(ctx.image_path or '?')}` |",
                f"| parent | `{_cell(ctx.parent_image or '?')}` |",
                f"| alert | {ctx.source_format} {_cell(ctx.alert_id or '')} |", ""]
    if assessment is not None:
        a, f = assessment, assessment.analysis.file
        out += ["**Binary**", "",
                f"- `{_cell(f.name)}`, {f.size} bytes, SHA-256 `{f.sha256}`",
                f"- Signature status **{a.analysis.status.value}** (Windows: {a.analysis.windows_status.value}); "
                f"verdict **{a.verdict.value}**, score {a.score}/100, level {a.level.value}; pinned publisher: "
                f"{_cell(a.pinned_publisher or 'none')}; baseline {_cell(a.baseline)}",
                f"- VERSIONINFO CompanyName: {_cell(f.version_info.get('CompanyName', 'none'))}"]
        if a.analysis.primary is not None:
            out += _signer_lines(a.analysis.primary)
        out += [""]
        notable = [x for x in a.findings if x.severity is not Severity.INFO]
        if notable:
            out += ["**Findings**", "", "| severity | code | detail |", "| --- | --- | --- |"]
            out += [f"| {x.severity.value} | `{x.code}` | {_cell(x.message)} |"
                    for x in sorted(notable, key=lambda x: -x.severity.rank)]
            out += [""]
    planned = [x for x in decision.actions if x.kind is not ActionKind.ADD_NOTE]
    if planned:
        out += ["**Actions**", ""]
        out += [f"- {x.kind.value} via {x.target.connector}" + (" (awaiting approval)" if x.requires_approval else "")
                + (" (dry run: not sent)" if decision.dry_run else "") for x in planned]
        out += [""]
    out += ["**Next steps**", ""] + [f"- {step}" for step in _next_steps(decision, assessment, failure)]
    out += ["", f"_{decision.playbook}, sigtriage {assessment.analysis.tool_version if assessment else ''}_".rstrip()]
    return "\n".join(out) + "\n"


def _next_steps(decision: Decision, assessment: Assessment | None, failure: str | None) -> list[str]:
    if decision.decision is DecisionKind.AUTO_CLOSE:
        return ["None: closed as benign. Reopen if other evidence points at this host."]
    steps = []
    if failure:
        steps.append("Re-run the triage once the cause is fixed (`sigtriage triage` is idempotent), or triage by hand.")
    if assessment is not None:
        status = assessment.analysis.status.value
        if status in NEXT_STEPS:
            steps.append(NEXT_STEPS[status])
        codes = {f.code for f in assessment.findings}
        if "publisher_lookalike" in codes or "publisher_mismatch" in codes:
            steps.append("Compare the publisher metadata with the vendor's genuine release; lookalikes impersonate.")
        if codes & {"revoked_certificate", "intel_match", "blocked_certificate"}:
            steps.append("The certificate is known bad: hunt for other binaries it signed across the estate.")
        if "revocation_unknown" in codes:
            steps.append("Revocation could not be checked: check the signer's CRL/OCSP by hand if the verdict hinges on it.")
        if not assessment.pinned_publisher and assessment.analysis.status.value == "valid":
            steps.append("If this publisher belongs in the estate, pin it in the baseline to let future alerts auto-close.")
    if any(a.requires_approval for a in decision.actions):
        steps.append("Containment waits for approval: `sigtriage outbox approve KEY_PART` releases it.")
    elif decision.decision is DecisionKind.CONTAIN and not any(
            a.kind in (ActionKind.ISOLATE_HOST, ActionKind.BLOCK_HASH) for a in decision.actions):
        steps.append("Containment was decided but cannot be carried out here (no EDR connector or machine id): "
                     "contain the host by hand.")
    return steps or ["Review the findings above and the process tree on the host."]
