"""Run a playbook over an assessment (or the failure that prevented one) and return the Decision. Pure.

Safety rails hold whatever the playbook says (a playbook is data, and data can be wrong):
  * auto_close only with a completed assessment, no error anywhere, a `benign` verdict and a `valid` signature;
  * contain only with the `containment_enabled` input true;
  * a failing condition, or no decision at all, escalates, with the reason recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sigtriage.decide.cel import ConditionError
from sigtriage.decide.facts import activation
from sigtriage.decide.playbook import Playbook
from sigtriage.decide.steps import (
    AddNote,
    AddObservable,
    Analyse,
    Assess,
    Close,
    Contain,
    Decide,
    Escalate,
    Notify,
    SetSeverity,
    Step,
    Tag,
)
from sigtriage.model import Status
from sigtriage.model.assessment import Assessment, Verdict
from sigtriage.model.context import ExecutionContext
from sigtriage.model.decision import Action, ActionKind, Decision, DecisionKind, StepTrace, Target

FAILURE_SEVERITY = 3


@dataclass(frozen=True)
class Targets:
    """Where actions go. `soar` is always set (the local case store when no SOAR is configured)."""

    soar: Target
    edr: Target | None = None
    """The EDR connector; its `ref` is the machine id of the alert's host (None if the alert gave none)."""
    notify: Target | None = None


@dataclass
class _Run:
    playbook: Playbook
    assessment: Assessment | None
    context: ExecutionContext | None
    failure: str | None
    inputs: dict[str, Any]
    targets: Targets
    decision: DecisionKind | None = None
    severity: int | None = None
    reasons: list[str] = field(default_factory=list)
    close_reason: str | None = None
    errors: list[str] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    trace: list[StepTrace] = field(default_factory=list)

    def variables(self) -> dict[str, Any]:
        return activation(self.assessment, self.context, self.failure, self.inputs,
                          self.decision.value if self.decision else "", self.errors)

    def plan(self, step: Step, kind: ActionKind, target: Target, params: dict[str, Any],
             approval: bool = False) -> None:
        key = f"{step.id}:{kind.value}:{target.connector}:{target.ref or ''}"
        self.actions.append(Action(kind=kind, target=target, params=params, idempotency_key=key,
                                   requires_approval=approval))


def _close_refusal(run: _Run) -> str | None:
    """Why an auto_close would be unsafe now, or None."""
    a = run.assessment
    if run.failure or a is None:
        return f"the triage did not complete ({run.failure or 'no assessment'})"
    if run.errors:
        return "a playbook condition failed: " + "; ".join(run.errors)
    if a.verdict is not Verdict.BENIGN:
        return f"the verdict is {a.verdict.value}"
    if a.analysis.status is not Status.VALID:
        return f"the signature status is {a.analysis.status.value}"
    codes = {f.code for f in a.findings}
    if codes & {"alert_file_unverified", "alert_file_mismatch"}:
        return "nothing ties the analysed file to the alert (no matching hash in the alert)"
    return None


def _decide(run: _Run, step: Decide) -> str:
    if run.decision is not None:
        return f"already decided: {run.decision.value}"
    wanted = step.decision
    if wanted is DecisionKind.AUTO_CLOSE and (refusal := _close_refusal(run)):
        run.decision = DecisionKind.ESCALATE
        run.reasons.append(f"auto-close refused: {refusal}")
        return f"auto_close refused ({refusal}); escalate"
    if wanted is DecisionKind.CONTAIN and run.inputs.get("containment_enabled") is not True:
        run.decision = DecisionKind.ESCALATE
        run.reasons.append(f"{step.reason} (containment is disabled: escalating only)")
        return "contain wanted but containment_enabled is false; escalate"
    run.decision = wanted
    run.reasons.append(step.reason)
    if wanted is DecisionKind.AUTO_CLOSE:
        run.close_reason = step.reason
    return wanted.value


def _tag_text(template: str, variables: dict[str, Any]) -> str:
    scalars = {k: v for k, v in variables.items() if isinstance(v, (str, int, float, bool))}
    try:
        return template.format_map(scalars)
    except (KeyError, ValueError, IndexError) as exc:
        raise ConditionError(f"tag {template!r}: {exc}") from exc


def _run_step(run: _Run, step: Step, variables: dict[str, Any]) -> str:
    """Carry out one step whose condition held; returns what it did, for the trace."""
    soar, edr = run.targets.soar, run.targets.edr
    sha256 = variables["sha256"]
    if isinstance(step, (Analyse, Assess)):
        return run.failure or (f"verdict {variables['verdict']}, score {variables['score']}" if isinstance(step, Assess)
                               else f"status {variables['status']}")
    if isinstance(step, Decide):
        return _decide(run, step)
    if isinstance(step, SetSeverity):
        assert step.severity is not None
        value = step.severity.evaluate(variables)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConditionError(f"severity {step.severity.source!r} gave {value!r}, not an integer")
        run.severity = max(1, min(4, value))
        run.plan(step, ActionKind.SET_SEVERITY, soar, {"severity": run.severity})
        return f"severity {run.severity}"
    if isinstance(step, AddNote):
        run.plan(step, ActionKind.ADD_NOTE, soar, {"markdown": ""})  # filled by the presenter after the decision
        return "case note"
    if isinstance(step, Tag):
        tags = [_tag_text(t, variables) for t in step.tags]
        run.plan(step, ActionKind.TAG, soar, {"tags": tags})
        return ", ".join(tags)
    if isinstance(step, AddObservable):
        if not sha256:
            return "no file hash to add"
        run.plan(step, ActionKind.ADD_OBSERVABLE, soar, {"data_type": "hash", "data": sha256,
                                                         "message": "binary triaged by sigtriage", "tags": ["sigtriage"]})
        return f"observable {sha256}"
    if isinstance(step, Close):
        if run.decision is not DecisionKind.AUTO_CLOSE or (refusal := _close_refusal(run)):
            return f"not closed: decision is {run.decision.value if run.decision else 'none'}" + (
                f" ({refusal})" if run.decision is DecisionKind.AUTO_CLOSE and refusal else "")
        run.close_reason = step.reason
        # the status name is tenant-defined: the connector's configuration owns it unless the step names one
        params = {"summary": step.reason} | ({"status": step.status} if step.status else {})
        run.plan(step, ActionKind.CLOSE, soar, params)
        return f"closed{' as ' + step.status if step.status else ''}: {step.reason}"
    if isinstance(step, Escalate):
        if step.promote:
            run.plan(step, ActionKind.PROMOTE, soar, {})
        return "promoted to a case" if step.promote else "escalated"
    if isinstance(step, Contain):
        return _contain(run, step, sha256, edr)
    if isinstance(step, Notify):
        if run.targets.notify is None:
            return "no notification webhook configured"
        run.plan(step, ActionKind.NOTIFY, run.targets.notify, {"event": step.event, "payload": {
            "decision": variables["decision"], "verdict": variables["verdict"], "sha256": sha256,
            "host": variables["host"], "severity": run.severity}})
        return f"notify {step.event}"
    raise AssertionError(f"no runner for step type {step.type}")  # the completeness test keeps this unreachable


def _contain(run: _Run, step: Contain, sha256: str, edr: Target | None) -> str:
    if run.decision is not DecisionKind.CONTAIN or run.inputs.get("containment_enabled") is not True:
        return "no containment: decision is not contain or containment is disabled"
    if edr is None:
        run.reasons.append("containment wanted but no EDR connector is configured")
        return "no EDR connector configured"
    approval = run.inputs.get("approval_required") is True
    done = []
    if step.isolate:
        if edr.ref:
            run.plan(step, ActionKind.ISOLATE_HOST, edr, {"machine_id": edr.ref, "isolation_type": step.isolation_type,
                                                          "comment": "sigtriage: " + "; ".join(run.reasons)}, approval)
            done.append(f"isolate {edr.ref}")
        else:
            run.reasons.append("host isolation wanted but the alert carries no EDR machine id")
    if step.block_hash and sha256:
        run.plan(step, ActionKind.BLOCK_HASH, Target(edr.connector), {
            "sha256": sha256, "title": "sigtriage: malicious signed binary", "description": "; ".join(run.reasons),
            "severity": "High", "action": "BlockAndRemediate"}, approval)
        done.append(f"block {sha256}")
    return ", ".join(done) + (" (awaiting approval)" if approval and done else "") or "nothing to contain"


def _blockers(run: _Run) -> list[str]:
    """Why this alert was not auto-closed, in the analyst's terms (the case note leads with these)."""
    a = run.assessment
    if a is None:
        return []
    found = []
    if a.analysis.status is not Status.VALID:
        found.append(f"signature status is {a.analysis.status.value}")
    if a.verdict is not Verdict.BENIGN:
        found.append(f"verdict is {a.verdict.value} (score {a.score}, level {a.level.value})")
    if not a.pinned_publisher and a.analysis.signatures:
        found.append("the signer is not a pinned baseline publisher")
    variables = run.variables()
    if run.inputs.get("require_revocation_checked") and not variables["revocation_checked"]:
        found.append(f"revocation was not fully checked (mode {a.revocation.mode})")
    above = sorted({f.code for f in a.findings if f.severity.rank > 0})
    if above:
        found.append("findings above info: " + ", ".join(above))
    return found


def run_playbook(playbook: Playbook, *, assessment: Assessment | None, context: ExecutionContext | None,
                 failure: str | None, inputs: dict[str, Any], targets: Targets) -> Decision:
    """`context` is the alert's, for when the assessment is missing (a failure); otherwise the assessment's."""
    run = _Run(playbook, assessment, context, failure, inputs, targets)
    for step in playbook.steps:
        variables = run.variables()
        try:
            matched = step.when.truth(variables) if step.when is not None else True
            detail = _run_step(run, step, variables) if matched else "condition false"
        except ConditionError as exc:
            run.errors.append(f"step {step.id}: {exc}")
            matched, detail = False, f"error: {exc}"
        run.trace.append(StepTrace(step=step.id, type=step.type, condition=step.when.source if step.when else None,
                                   matched=matched, detail=detail))
    if run.decision is None or (run.decision is DecisionKind.AUTO_CLOSE and _close_refusal(run)):
        why = _close_refusal(run) if run.decision else "no decide step matched"
        run.reasons.append(f"escalating: {why}")
        run.decision = DecisionKind.ESCALATE
        run.actions = [a for a in run.actions if a.kind is not ActionKind.CLOSE]
        run.close_reason = None
    if run.decision is not DecisionKind.AUTO_CLOSE:
        run.reasons += _blockers(run)
    if failure:
        run.reasons.insert(0, f"triage failed: {failure}")
    severity = run.severity or (assessment.platform.thehive_severity if assessment else FAILURE_SEVERITY)
    if failure:
        severity = max(severity, FAILURE_SEVERITY)
    if run.errors:
        run.reasons += [f"playbook condition failed: {e}" for e in run.errors]
    return Decision(decision=run.decision, severity=severity, reasons=tuple(run.reasons), close_reason=run.close_reason,
                    actions=tuple(run.actions), trace=tuple(run.trace), playbook=playbook.label,
                    dry_run=inputs.get("dry_run") is True)
