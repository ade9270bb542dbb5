"""Windows Security event 4688 (a new process has been created), shipped by Winlogbeat or as raw event XML
converted to JSON ({"EventID": 4688, "EventData": {...}} or xmltodict's {"Event": {"System": ..., "EventData":
{"Data": [{"@Name": ..., "#text": ...}]}}}).

Creator and new process: Subject* is the account that asked for the process; Target* is the account it runs as,
and holds the NULL SID when both are the same (event version 2, Windows 10 / Server 2016 and later).
"""

from __future__ import annotations

from sigtriage.alerts import ecs
from sigtriage.alerts.draft import Draft, as_object
from sigtriage.alerts.fields import account, dig, ident, sid, text
from sigtriage.model.context import ExecutionContext

FORMAT = "windows_security_4688"


def detect(doc: object) -> bool:
    if not isinstance(doc, dict):
        return False
    if isinstance(dig(doc, "winlog"), dict):
        return ident(dig(doc, "winlog.event_id")) == "4688" and (
            text(dig(doc, "winlog.provider_name")) == "Microsoft-Windows-Security-Auditing"
            or text(dig(doc, "winlog.channel")) == "Security"
        )
    return _raw_event_id(_raw_root(doc)) == "4688" and isinstance(_raw_root(doc).get("EventData"), dict)


def parse(doc: object) -> ExecutionContext:
    alert = as_object(doc, FORMAT)
    draft = Draft(FORMAT)
    if isinstance(dig(alert, "winlog"), dict):
        data = dig(alert, "winlog.event_data")
        event = data if isinstance(data, dict) else {}
        ecs.take_envelope(draft, alert)
        draft.host_id = text(dig(alert, "host.id"))
    else:
        root = _raw_root(alert)
        event = _raw_event_data(root.get("EventData"))
        draft.take_time(dig(root, "System.TimeCreated.@SystemTime"), root.get("TimeCreated"))
        draft.host = text(dig(root, "System.Computer")) or text(root.get("Computer"))
    draft.image_path = text(event.get("NewProcessName")) or text(dig(alert, "process.executable"))
    draft.command_line = text(event.get("CommandLine")) or text(dig(alert, "process.command_line"))
    draft.parent_image = text(event.get("ParentProcessName")) or text(dig(alert, "process.parent.executable"))
    draft.take_integrity(event.get("MandatoryLabel"), "MandatoryLabel")
    draft.take_elevation(event.get("TokenElevationType"), "TokenElevationType")
    side = "Target" if sid(event.get("TargetUserSid")) else "Subject"
    draft.user = account(event.get(f"{side}DomainName"), event.get(f"{side}UserName"))
    draft.user_sid = sid(event.get(f"{side}UserSid"))
    return draft.finish()


def _raw_root(doc: dict[str, object]) -> dict[str, object]:
    event = doc.get("Event")
    return event if isinstance(event, dict) else doc


def _raw_event_id(root: dict[str, object]) -> str | None:
    value = root.get("EventID", dig(root, "System.EventID"))
    # xmltodict turns <EventID Qualifiers="">4688</EventID> into {"@Qualifiers": "", "#text": "4688"}
    return ident(value.get("#text") if isinstance(value, dict) else value)


def _raw_event_data(data: object) -> dict[str, object]:
    """EventData as {Name: value}, from a plain object or xmltodict's list of <Data Name="…">value</Data>."""
    if not isinstance(data, dict):
        return {}
    items = data.get("Data")
    if not isinstance(items, list):
        return data
    return {
        item["@Name"]: item.get("#text")
        for item in items
        if isinstance(item, dict) and isinstance(item.get("@Name"), str)
    }
