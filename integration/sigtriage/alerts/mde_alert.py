"""Microsoft Defender for Endpoint alert from the API (GET /api/alerts/{id} or /api/alerts?$expand=evidence).

The binary is the first Process evidence (it ran: command line, parent, account), else the first File evidence.
Evidence filePath is the folder and fileName the name. The API reports no integrity level or token elevation.
"""

from __future__ import annotations

from sigtriage.alerts.draft import Draft, as_object
from sigtriage.alerts.fields import account, digest, ident, sid, text, windows_path
from sigtriage.errors import AlertFormatError
from sigtriage.model.context import ExecutionContext

FORMAT = "mde_alert"


def detect(doc: object) -> bool:
    return isinstance(doc, dict) and "machineId" in doc and ("alertCreationTime" in doc or "evidence" in doc)


def parse(doc: object) -> ExecutionContext:
    alert = as_object(doc, FORMAT)
    raw = alert.get("evidence")
    evidence = [e for e in raw if isinstance(e, dict)] if isinstance(raw, list) else []
    binaries = [e for e in evidence if _kind(e) == "process"] + [e for e in evidence if _kind(e) == "file"]
    if not binaries:
        raise AlertFormatError(
            "the alert has no File or Process evidence (request it with $expand=evidence)", context=FORMAT
        )
    chosen = binaries[0]
    draft = Draft(FORMAT)
    draft.alert_id = ident(alert.get("id"))
    draft.take_time(alert.get("firstEventTime"), alert.get("alertCreationTime"))
    draft.host = text(alert.get("computerDnsName"))
    draft.host_id = text(alert.get("machineId"))
    draft.image_path = windows_path(chosen.get("filePath"), chosen.get("fileName"))
    draft.command_line = text(chosen.get("processCommandLine"))
    draft.parent_image = windows_path(chosen.get("parentProcessFilePath"), chosen.get("parentProcessFileName"))
    draft.take_digests({"sha256": chosen.get("sha256"), "sha1": chosen.get("sha1")}, "evidence")
    _take_user(draft, alert, chosen, evidence)
    if _kind(chosen) == "file":
        draft.notes.append("no Process evidence: assumed the File evidence ran as a process")
    others = sorted({text(e.get("fileName")) or "(unnamed)" for e in binaries if _identity(e) != _identity(chosen)})
    if others:
        draft.notes.append(f"other file/process evidence not triaged here: {', '.join(others)}")
    draft.notes.append("the MDE alerts API reports no integrity level or token elevation (see DeviceProcessEvents)")
    return draft.finish()


def _take_user(
    draft: Draft, alert: dict[str, object], chosen: dict[str, object], evidence: list[dict[str, object]]
) -> None:
    """The process's own account, else the alert's User evidence, else relatedUser (names only)."""
    users = [chosen] + [e for e in evidence if _kind(e) == "user"]
    for entry in users:
        name = account(entry.get("domainName"), entry.get("accountName"))
        if name or sid(entry.get("userSid")):
            draft.user, draft.user_sid = name, sid(entry.get("userSid"))
            return
    related = alert.get("relatedUser")
    if isinstance(related, dict):
        draft.user = account(related.get("domainName"), related.get("userName"))


def _kind(entry: dict[str, object]) -> str:
    value = text(entry.get("entityType"))
    return value.lower() if value else ""


def _identity(entry: dict[str, object]) -> str | None:
    """File and Process evidence for one binary share its SHA-256 (or, without one, its path)."""
    path = windows_path(entry.get("filePath"), entry.get("fileName"))
    return digest(entry.get("sha256"), "sha256") or (path.lower() if path else None)

