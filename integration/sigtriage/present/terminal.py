"""Human-readable summary of analysis reports, as rich renderables (the CLI prints them)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from sigtriage.model import AnalysisFailure, AnalysisReport, Severity, Signature, Status

STATUS_STYLE = {Status.VALID: "green", Status.UNSIGNED: "yellow", Status.UNSUPPORTED: "yellow"}
SEVERITY_STYLE = {Severity.INFO: "dim", Severity.LOW: "cyan", Severity.MEDIUM: "yellow", Severity.HIGH: "red",
                  Severity.CRITICAL: "bold red"}


def _signature_table(sig: Signature) -> Table:
    """One signature as a key/value grid: readable at 80 columns, unlike a wide table of DNs."""
    where = f"#{sig.index}" + (f" (nested in #{sig.parent})" if sig.parent is not None else "")
    if sig.source != "embedded":
        where += f" from {sig.source}"
    grid = Table(title=f"signature {where}", title_justify="left", show_header=False, box=None, padding=(0, 2))
    style = STATUS_STYLE.get(sig.status, "red")
    grid.add_row("status", Text(f"{sig.status.value} (Windows: {sig.windows_status.value})", style=style))
    grid.add_row("digest", f"{sig.digest_algorithm}, " + {True: "matches", False: "MISMATCH", None: "not checked"}[
        sig.digest_valid] + (", page hashes " + ("valid" if sig.page_hashes.valid else "INVALID")
                             if sig.page_hashes.present else ""))
    if sig.signer:
        grid.add_row("signer", sig.signer.subject.dn)
        grid.add_row("issuer", sig.signer.issuer.dn)
        grid.add_row("serial", sig.signer.serial_int_hex)
        grid.add_row("valid", f"{sig.signer.not_before:%Y-%m-%d} .. {sig.signer.not_after:%Y-%m-%d}")
        grid.add_row("thumbprint", f"sha1 {sig.signer.sha1}")
    grid.add_row("chain", " <- ".join(c.subject.cn or c.subject.dn for c in sig.chain) or "-")
    grid.add_row("trusted root", sig.trusted_root.subject if sig.trusted_root else "none")
    ts = sig.timestamp
    grid.add_row("timestamp", f"{ts.time:%Y-%m-%d %H:%M:%S}Z {ts.kind} by {ts.authority}" + (
        "" if ts.valid else f" (INVALID: {ts.error})") if ts and ts.time else "none")
    if sig.program_name or sig.more_info_url:
        grid.add_row("program", " ".join(x for x in (sig.program_name, sig.more_info_url) if x))
    return grid


def render_report(report: AnalysisReport) -> Group:
    f = report.file
    style = STATUS_STYLE.get(report.status, "red")
    head = Text.assemble(
        (f.path, "bold"), "  ", (report.status.value, f"bold {style}"), f"  (Windows: {report.windows_status.value})")
    facts = Table.grid(padding=(0, 2))
    facts.add_column(no_wrap=True)
    facts.add_column(overflow="fold")
    facts.add_row("sha256", f.sha256)
    for algo, value in (("sha1", f.sha1), ("md5", f.md5)):
        if value:
            facts.add_row(algo, value)
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
    parts += [_signature_table(sig) for sig in report.signatures]
    for finding in report.findings:
        parts.append(Text.assemble(("  " + finding.severity.value.upper().ljust(9), SEVERITY_STYLE[finding.severity]),
                                   finding.code, ": ", finding.message))
    for error in report.errors + tuple(e for s in report.signatures for e in s.errors):
        parts.append(Text("  ! " + error, style="red"))
    return Group(*parts)  # type: ignore[arg-type]


def render_failure(failure: AnalysisFailure) -> Text:
    return Text.assemble((failure.path, "bold"), "  ", ("error", "bold red"), f" ({failure.error_type}): ",
                         failure.message)
