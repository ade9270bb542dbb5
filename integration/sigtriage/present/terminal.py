"""Human-readable summary of analysis reports, as rich renderables (the CLI prints them)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from sigtriage.model import AnalysisFailure, AnalysisReport, Severity, Signature, Status

STATUS_STYLE = {Status.VALID: "green", Status.UNSIGNED: "yellow", Status.UNSUPPORTED: "yellow"}
SEVERITY_STYLE = {Severity.INFO: "dim", Severity.LOW: "cyan", Severity.MEDIUM: "yellow", Severity.HIGH: "red",
                  Severity.CRITICAL: "bold red"}


def _signature_row(sig: Signature) -> tuple[str, ...]:
    signer = sig.signer
    ts = sig.timestamp
    when = f"{ts.time:%Y-%m-%d %H:%M}Z ({ts.kind}{'' if ts.valid else ', invalid'})" if ts and ts.time else "none"
    return (
        f"#{sig.index}" + (f" in #{sig.parent}" if sig.parent is not None else "") + (
            "" if sig.source == "embedded" else f" {sig.source}"),
        sig.status.value,
        sig.digest_algorithm,
        (signer.subject.cn or signer.subject.dn) if signer else "-",
        (signer.issuer.cn or signer.issuer.dn) if signer else "-",
        signer.serial_int_hex if signer else "-",
        when,
        sig.trusted_root.subject if sig.trusted_root else "-",
    )


def render_report(report: AnalysisReport) -> Group:
    f = report.file
    style = STATUS_STYLE.get(report.status, "red")
    head = Text.assemble(
        (f.path, "bold"), "  ", (report.status.value, f"bold {style}"), f"  (Windows: {report.windows_status.value})")
    facts = Table.grid(padding=(0, 2))
    facts.add_row("sha256", f.sha256)
    for algo, value in sorted(f.authentihash.items()):
        facts.add_row(f"authentihash {algo}", value)
    if f.pe:
        facts.add_row("PE", f"{f.pe.machine} {f.pe.subsystem}" + (" DLL" if f.pe.is_dll else "")
                      + (" driver" if f.pe.is_driver else "") + (" EFI" if f.pe.is_efi else ""))
    if f.version_info.get("CompanyName"):
        facts.add_row("CompanyName", f.version_info["CompanyName"])
    if f.cert_table:
        facts.add_row("certificate table", f"{f.cert_table.entries} entries, {f.cert_table.size} bytes, "
                      f"{f.cert_table.slack_bytes} slack")
    parts: list[object] = [head, facts]
    if report.signatures:
        table = Table("sig", "status", "digest", "signer", "issuer", "serial", "timestamp", "trusted root",
                      show_lines=False)
        for sig in report.signatures:
            table.add_row(*_signature_row(sig))
        parts.append(table)
    for finding in report.findings:
        parts.append(Text.assemble(("  " + finding.severity.value.upper().ljust(9), SEVERITY_STYLE[finding.severity]),
                                   finding.code, ": ", finding.message))
    for error in report.errors + tuple(e for s in report.signatures for e in s.errors):
        parts.append(Text("  ! " + error, style="red"))
    return Group(*parts)  # type: ignore[arg-type]


def render_failure(failure: AnalysisFailure) -> Text:
    return Text.assemble((failure.path, "bold"), "  ", ("error", "bold red"), f" ({failure.error_type}): ",
                         failure.message)
