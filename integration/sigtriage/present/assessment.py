"""Human-readable assessment: verdict first, then every contribution to the score, then the signature facts."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from sigtriage.model.assessment import Assessment, Verdict
from sigtriage.present.terminal import render_report

VERDICT_STYLE = {Verdict.BENIGN: "bold green", Verdict.SUSPICIOUS: "bold yellow", Verdict.MALICIOUS: "bold red",
                 Verdict.UNKNOWN: "bold magenta"}


def render_assessment(result: Assessment) -> Group:
    ctx = result.context
    head = Text.assemble(
        ("verdict ", "bold"), (result.verdict.value, VERDICT_STYLE[result.verdict]),
        f"   level {result.level.value}   score {result.score}/100   privilege {result.privilege.value} "
        f"(x{result.privilege_factor:g})",
    )
    facts = Table.grid(padding=(0, 2))
    facts.add_column(no_wrap=True)
    facts.add_column(overflow="fold")
    facts.add_row("pinned publisher", result.pinned_publisher or "none")
    facts.add_row("baseline", result.baseline or "-")
    if ctx is not None:
        facts.add_row("alert", f"{ctx.source_format} {ctx.alert_id or ''}".strip())
        facts.add_row("host / user", f"{ctx.host or '?'} / {ctx.user or '?'} ({ctx.integrity_level.value} integrity)")
        facts.add_row("image", ctx.image_path or "?")
    revoked = {c.state.value for c in result.revocation.checks}
    facts.add_row("revocation", f"{result.revocation.mode}: {', '.join(sorted(revoked)) or 'nothing to check'}")
    facts.add_row("platform", f"XSOAR DBotScore {result.platform.xsoar_dbot_score}, TheHive severity "
                  f"{result.platform.thehive_severity}, Cortex {result.platform.cortex_level}")
    table = Table("points", "weight", "x", "code", "why", title="score contributions", title_justify="left")
    for part in result.contributions:
        if part.points or part.severity.value != "info":
            table.add_row(f"{part.points:g}", f"{part.weight:g}", f"{part.factor:g}", part.code, part.message)
    return Group(head, facts, table, Text(""), render_report(result.analysis))
