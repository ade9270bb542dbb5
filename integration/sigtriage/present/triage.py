"""Human-readable triage results and case-store views."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from sigtriage.model.decision import DecisionKind
from sigtriage.model.triage import TriageResult

DECISION_STYLE = {DecisionKind.AUTO_CLOSE: "bold green", DecisionKind.ESCALATE: "bold yellow",
                  DecisionKind.CONTAIN: "bold red"}


def render_triage(result: TriageResult) -> Group:
    d = result.decision
    head = Text.assemble(("decision ", "bold"), (d.decision.value, DECISION_STYLE[d.decision]),
                         f"   severity {d.severity}/4   case {result.case_key[:12]}",
                         ("   (replayed: the recorded decision; no action repeated)" if result.replayed else ""))
    actions = Table("action", "via", "key", title="actions", title_justify="left", show_lines=False)
    for action in d.actions:
        actions.add_row(action.kind.value + (" (approval)" if action.requires_approval else ""),
                        action.target.connector + (f" {action.target.ref}" if action.target.ref else ""),
                        action.idempotency_key.split(":", 1)[-1])
    outbox = Text(f"outbox: {result.delivered} delivered, {result.retrying} retrying, {result.failed} failed, "
                  f"{result.awaiting_approval} awaiting approval" + (" (dry run: nothing sent)" if d.dry_run else ""))
    # the note as the Markdown the SOAR receives: complete and copyable, where a rendered view would truncate
    errors = [Text("  ! " + e, style="red") for e in result.delivery_errors]
    return Group(head, Text(""), Text(result.note), actions, outbox, *errors)


def cases_table(rows: list[dict[str, Any]]) -> Table:
    table = Table("key", "updated", "host", "file", "decision", "sev", "verdict", "score", "status")
    for row in rows:
        table.add_row(row["key"][:12], str(row["updated_at"])[:19], str(row["host"] or "?"), str(row["sha256"])[:12],
                      str(row["decision"] or "-"), str(row["severity"] or "-"), str(row["verdict"] or "-"),
                      str(row["score"] if row["score"] is not None else "-"), str(row["status"]))
    return table


def render_case(detail: dict[str, Any]) -> Group:
    case = detail.get("case", {})
    head = Text.assemble((f"case {case.get('key')}", "bold"), f"  {case.get('status')}  decision "
                         f"{case.get('decision')}  severity {case.get('severity')}  verdict {case.get('verdict')}")
    notes = [Text(n["markdown"]) for n in detail.get("notes", [])[-1:]]
    actions = Table("action", "connector", "state", "attempts", "last error", "key", title="actions",
                    title_justify="left")
    for a in detail.get("actions", []):
        actions.add_row(a["kind"], a["connector"], a["state"], str(a["attempts"]), str(a["last_error"] or ""),
                        a["idempotency_key"])
    audit = Table("at", "step", "result", title="audit", title_justify="left")
    for entry in detail.get("audit", []):
        audit.add_row(str(entry["at"])[:19], entry["step"], _short(entry["result_json"]))
    return Group(head, *notes, actions, audit)


def _short(text: str, limit: int = 100) -> str:
    try:
        value = json.dumps(json.loads(text), ensure_ascii=False)
    except (TypeError, ValueError):
        value = str(text)
    return value if len(value) <= limit else value[: limit - 1] + "…"
