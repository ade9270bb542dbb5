"""Composition root of the main job: alert + binary -> analysis -> assessment -> playbook decision -> case note,
case store and durable actions.

Fail safe by construction: every failure on the way (unreadable alert, unparseable binary, timeout, a bug) is
caught here, once, and becomes the `failure` the playbook sees; the runner's rails then escalate, never close.
Re-running the same triage (same alert id, file, baseline and playbook) reuses the recorded decision and never
repeats a side effect: actions are stored once per idempotency key and delivered by the outbox.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sigtriage.act.local import LocalConnector
from sigtriage.act.outbox import Executor, flush
from sigtriage.alerts import load_alert
from sigtriage.decide.playbook import Playbook
from sigtriage.decide.runner import Targets, run_playbook
from sigtriage.errors import SigtriageError
from sigtriage.model.assessment import Assessment
from sigtriage.model.codec import from_plain, to_plain
from sigtriage.model.context import ExecutionContext, Integrity, Privilege
from sigtriage.model.decision import ActionKind, Decision, Target
from sigtriage.model.triage import TriageResult
from sigtriage.pipeline import Engine, analyze, assess_analysis
from sigtriage.present.case_note import render_case_note
from sigtriage.store.cases import CaseStore

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


MAX_ALERT_BYTES = 16 * 1024 * 1024


def _regular(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


def _file_sha256(path: Path) -> str | None:
    if not _regular(path):
        return None  # a FIFO or /dev/zero would never end
    try:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
        return digest.hexdigest()
    except OSError:
        return None


def _unreadable_alert(path: Path) -> ExecutionContext:
    """Stand-in context for an alert that cannot be read: identified by its bytes, so re-runs find the case. It
    names no hash: nothing from the alert ties the file to it."""
    try:
        data = path.read_bytes() if _regular(path) and path.stat().st_size <= MAX_ALERT_BYTES else str(path).encode()
    except OSError:
        data = str(path).encode()
    identity = hashlib.sha256(data).hexdigest()[:16]
    return ExecutionContext(
        source_format="unreadable", event_kind="process_start", alert_id=f"unreadable:{identity}", event_time=None,
        host=None, host_id=None, user=None, user_sid=None, integrity_level=Integrity.UNKNOWN, elevated=None,
        is_service=False, image_path=None, command_line=None, parent_image=None, sha256=None, sha1=None, md5=None,
        company_name=None, edr_signature=None, privilege=Privilege.UNKNOWN, notes=("the alert could not be read",),
    )


def _targets(connectors: Mapping[str, Executor], context: ExecutionContext, soar_ref: str | None) -> Targets:
    if "thehive" in connectors and soar_ref:
        soar = Target("thehive", soar_ref)
    elif "webhook" in connectors and _supports(connectors["webhook"], ActionKind.ADD_NOTE):
        soar = Target("webhook", context.alert_id)
    else:
        soar = Target("local", context.alert_id)
    edr = Target("defender", context.host_id) if "defender" in connectors else None
    notify = Target("webhook") if "webhook" in connectors else None
    return Targets(soar=soar, edr=edr, notify=notify)


def _supports(connector: Executor, kind: ActionKind) -> bool:
    supports = getattr(connector, "supports", None)
    return bool(supports(kind)) if supports is not None else False


def _finish_actions(decision: Decision, key: str, note: str) -> Decision:
    """Fill the case note into add_note actions and scope every idempotency key to this case."""
    actions = []
    for action in decision.actions:
        params = {**action.params, "markdown": note} if action.kind is ActionKind.ADD_NOTE else action.params
        # the same decision re-run gives the same keys (never sent twice); a different one, e.g. after a run that
        # failed, gives new keys, so its note, severity and tags do reach the SOAR
        digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:12]
        actions.append(replace(action, params=params, idempotency_key=f"{key}:{action.idempotency_key}:{digest}"))
    return replace(decision, actions=tuple(actions))


def _document_id(path: Path) -> str:
    """A stable identity for an alert whose format carries no alert id (plain Winlogbeat events, Advanced Hunting
    rows): the hash of its JSON document, canonicalised, so that two different events never share a case."""
    try:
        if not _regular(path) or path.stat().st_size > MAX_ALERT_BYTES:
            return ""
        canonical = json.dumps(json.loads(path.read_bytes()), sort_keys=True, separators=(",", ":"))
    except (OSError, ValueError, RecursionError):
        return ""
    return "doc:" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _evaluate(engine: Engine, alert_path: Path, file_path: Path,
              now: datetime) -> tuple[ExecutionContext, Assessment | None, str | None]:
    failures: list[str] = []
    try:
        context = load_alert(alert_path)
        if not context.alert_id:
            context = replace(context, alert_id=_document_id(alert_path) or None)
    except SigtriageError as exc:
        failures.append(f"alert could not be read: {exc}")
        context = _unreadable_alert(alert_path)
    assessment = None
    try:
        analysis = analyze(engine, file_path, context=context if not failures else None)
        assessment = assess_analysis(engine, analysis, context, now=now)
    except SigtriageError as exc:
        failures.append(f"binary could not be analysed: {exc}")
    except Exception as exc:  # noqa: BLE001 - a bug must escalate the alert, never crash or close it
        failures.append(f"internal error: {type(exc).__name__}: {exc}")
    return context, assessment, "; ".join(failures) or None


def _replay(store: CaseStore, key: str) -> tuple[Decision, Assessment | None, str] | None:
    """The recorded decision of a completed earlier run of this case, if any."""
    case = store.get_case(key)
    if not case or not case.get("decision_json") or case.get("status") == "error":
        return None
    detail = store.case_detail(key) or {}
    notes = detail.get("notes") or []
    decision = from_plain(Decision, json.loads(case["decision_json"]))
    plain = json.loads(case["assessment_json"]) if case.get("assessment_json") else None
    assessment = from_plain(Assessment, plain) if plain and "analysis" in plain else None
    if assessment is None:
        return None  # the earlier run failed: evaluate again
    return decision, assessment, notes[-1]["markdown"] if notes else ""


def _actions(store: CaseStore, key: str) -> list[dict[str, Any]]:
    return list((store.case_detail(key) or {}).get("actions") or [])


def triage(engine: Engine, store: CaseStore, playbook: Playbook, *, alert_path: Path, file_path: Path,
           inputs: dict[str, Any], connectors: Mapping[str, Executor], soar_ref: str | None = None,
           clock: Clock = utc_now) -> TriageResult:
    now = clock()
    connectors = {"local": LocalConnector(), **connectors}
    context, assessment, failure = _evaluate(engine, alert_path, file_path, now)
    sha256 = assessment.analysis.file.sha256 if assessment else (_file_sha256(file_path) or context.sha256 or "")
    targets = _targets(connectors, context, soar_ref)
    dry_run = inputs.get("dry_run") is True
    baseline = f"{engine.baseline.label}#{engine.baseline.digest[:12]}"
    case, _created = store.open_case(context, sha256=sha256, baseline=baseline,
                                     playbook=_policy_label(playbook, inputs, targets), now=now)
    key = case["key"]
    if dry_run:
        return _dry_run(store, key, playbook, assessment, context, failure, inputs, targets, alert_path, now)
    replayed = _replay(store, key)
    if replayed is None:
        decision = run_playbook(playbook, assessment=assessment, context=context, failure=failure, inputs=inputs,
                                targets=targets)
        note = render_case_note(decision, assessment, context, failure)
        decision = _finish_actions(decision, key, note)
        store.audit(key, "triage.evaluate", {"alert": str(alert_path), "file": str(file_path), "inputs": inputs},
                    {"failure": failure, "trace": decision.trace}, now=now)
        plain: Any = assessment if assessment is not None else {"verdict": "unknown", "score": None, "failure": failure}
        if failure and assessment is not None:
            plain = {**to_plain(assessment), "verdict": "unknown"}  # a failed triage judged nothing
        if store.record_decision(key, decision, plain, note, now=now, failure=failure):
            store.enqueue(key, decision.actions, dry_run=False, now=now)
        else:
            replayed = _replay(store, key)  # a concurrent run decided first: its decision is the case's
    if replayed is not None:
        decision, assessment, note = replayed
        failure = None
        # re-running a case is the analyst asking to try again: failed deliveries get fresh attempts
        requeued = [a["idempotency_key"] for a in _actions(store, key) if a["state"] == "failed"]
        for action_key in requeued:
            store.requeue(action_key, by="triage re-run", now=now)
        store.audit(key, "triage.replay", {"alert": str(alert_path), "file": str(file_path)},
                    {"decision": decision.decision.value, "requeued": requeued}, now=now)
    flush(store, connectors, now=clock)
    return _result(store, key, replayed is not None, decision, note, failure, assessment)


def _result(store: CaseStore, key: str, replayed: bool, decision: Decision, note: str, failure: str | None,
            assessment: Assessment | None) -> TriageResult:
    actions = _actions(store, key)
    counts = Counter(str(a["state"]) for a in actions)
    errors = tuple(f"{a['kind']} via {a['connector']}: {a['last_error']}" for a in actions
                   if a["state"] != "delivered" and a["last_error"])
    return TriageResult(case_key=key, replayed=replayed, decision=decision, note=note, failure=failure,
                        assessment=assessment, delivered=counts["delivered"],
                        retrying=counts["pending"] + counts["in_flight"], failed=counts["failed"],
                        awaiting_approval=counts["awaiting_approval"], delivery_errors=errors)


def _dry_run(store: CaseStore, key: str, playbook: Playbook, assessment: Assessment | None,
             context: ExecutionContext, failure: str | None, inputs: dict[str, Any], targets: Targets,
             alert_path: Path, now: datetime) -> TriageResult:
    """Decide as a real run would now, record it in the audit log only, send and store nothing else: a dry run
    must never stand in for, or block, the real triage of the case."""
    decision = run_playbook(playbook, assessment=assessment, context=context, failure=failure, inputs=inputs,
                            targets=targets)
    note = render_case_note(decision, assessment, context, failure)
    decision = _finish_actions(decision, key, note)
    store.audit(key, "triage.dry_run", {"alert": str(alert_path), "inputs": inputs},
                {"decision": decision.decision.value, "actions": [a.idempotency_key for a in decision.actions]},
                now=now)
    return _result(store, key, False, decision, note, failure, assessment)


def _policy_label(playbook: Playbook, inputs: dict[str, Any], targets: Targets) -> str:
    """The playbook version plus a fingerprint of what else shapes the decision and its actions (its content,
    inputs other than dry_run, where actions go): changing any of them is a new decision, not a replay."""
    shaping = {k: v for k, v in sorted(inputs.items()) if k != "dry_run"}
    fingerprint = json.dumps([playbook.digest, shaping, to_plain(targets)], sort_keys=True, default=str)
    return f"{playbook.label}#{hashlib.sha256(fingerprint.encode()).hexdigest()[:12]}"
