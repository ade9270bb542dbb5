"""A Microsoft Defender for Endpoint Advanced Hunting row (API or Sentinel): DeviceProcessEvents, and
DeviceImageLoadEvents for DLL loads.

In DeviceProcessEvents the Process* and Account* columns describe the new process; in DeviceImageLoadEvents the
loading process is the InitiatingProcess*, so its account and token stand for the DLL's.
"""

from __future__ import annotations

from sigtriage.alerts.draft import DIGESTS, Draft, as_object
from sigtriage.alerts.fields import account, shown, sid, text, windows_path
from sigtriage.errors import AlertFormatError
from sigtriage.model.context import ExecutionContext

FORMAT = "mde_device_process_events"

_KINDS = {"processcreated": "process_start", "imageloaded": "image_load"}


def detect(doc: object) -> bool:
    return isinstance(doc, dict) and "DeviceId" in doc and "ActionType" in doc


def parse(doc: object) -> ExecutionContext:
    row = as_object(doc, FORMAT)
    action = text(row.get("ActionType"))
    kind = _KINDS.get(action.lower() if action else "")
    if kind is None:
        raise AlertFormatError(
            f"ActionType {shown(action)} names no binary that ran; supported: ProcessCreated (DeviceProcessEvents), "
            "ImageLoaded (DeviceImageLoadEvents)",
            context=FORMAT,
        )
    draft = Draft(FORMAT, event_kind=kind)
    draft.take_time(row.get("Timestamp"), row.get("TimeGenerated"))
    draft.host = text(row.get("DeviceName"))
    draft.host_id = text(row.get("DeviceId"))
    draft.image_path = windows_path(row.get("FolderPath"), row.get("FileName"))
    draft.take_digests({a: row.get(a.upper()) for a in DIGESTS}, "SHA256/SHA1/MD5")
    draft.parent_image = windows_path(row.get("InitiatingProcessFolderPath"), row.get("InitiatingProcessFileName"))
    # Column prefixes of whoever's token counts: AccountSid/ProcessIntegrityLevel for a new process,
    # InitiatingProcessAccountSid/InitiatingProcessIntegrityLevel for the process that loaded a DLL.
    who = "" if kind == "process_start" else "InitiatingProcess"
    token = who or "Process"
    draft.user = account(row.get(f"{who}AccountDomain"), row.get(f"{who}AccountName"))
    draft.user_sid = sid(row.get(f"{who}AccountSid"))
    draft.take_integrity(row.get(f"{token}IntegrityLevel"), f"{token}IntegrityLevel")
    draft.take_elevation(row.get(f"{token}TokenElevation"), f"{token}TokenElevation")
    if kind == "process_start":
        draft.command_line = text(row.get("ProcessCommandLine"))
        draft.company_name = text(row.get("ProcessVersionInfoCompanyName"))
    return draft.finish()
