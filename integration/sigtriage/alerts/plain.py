"""sigtriage's own alert format: flat JSON for sources without a parser here (docs/alert-formats.md).

Unlike the vendor formats, which are read leniently, this one is ours and is checked strictly: an unknown field,
a wrong type or a malformed value is an error naming the field, so a typo cannot silently lower the privilege.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeVar

from sigtriage.alerts.draft import DIGESTS, EVENT_KINDS, Draft, as_object
from sigtriage.alerts.fields import digest, shown, sid, text, timestamp
from sigtriage.errors import AlertFormatError
from sigtriage.model.context import ExecutionContext, Integrity

FORMAT = "sigtriage"
VERSION = 1

T = TypeVar("T")
LEVELS = tuple(level.value for level in Integrity)

FIELDS = {
    "sigtriage_alert": "1 (required: the format version)",
    "alert_id": "string",
    "time": "ISO 8601 time of the event; without an offset it is UTC",
    "host": "string",
    "host_id": "the EDR's machine id",
    "user": "'DOMAIN\\\\name'",
    "user_sid": "'S-1-5-…'",
    "integrity_level": " | ".join(LEVELS),
    "elevated": "true | false",
    "is_service": "true | false; derived from user_sid and parent_image when absent",
    "image_path": "full path of the binary (this or sha256 is required)",
    "command_line": "string",
    "parent_image": "full path of the parent process (for image_load: the loading process)",
    "sha256": "hex (this or image_path is required)",
    "sha1": "hex",
    "md5": "hex",
    "company_name": "VERSIONINFO CompanyName as the sensor reported it",
    "event_kind": " | ".join(EVENT_KINDS) + " (default process_start)",
}


def detect(doc: object) -> bool:
    return isinstance(doc, dict) and "sigtriage_alert" in doc


def parse(doc: object) -> ExecutionContext:
    alert = as_object(doc, FORMAT)
    version = alert.get("sigtriage_alert")
    if type(version) is not int or version != VERSION:
        raise AlertFormatError(f"sigtriage_alert must be {VERSION}, got {shown(version)}", context=FORMAT)
    unknown = sorted(str(key) for key in alert if key not in FIELDS)
    if unknown:
        raise AlertFormatError(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}", context=FORMAT)
    draft = Draft(FORMAT, event_kind=_choice(alert, "event_kind", EVENT_KINDS) or "process_start")
    draft.alert_id = _string(alert, "alert_id")
    draft.host = _string(alert, "host")
    draft.host_id = _string(alert, "host_id")
    draft.user = _string(alert, "user")
    draft.image_path = _string(alert, "image_path")
    draft.command_line = _string(alert, "command_line")
    draft.parent_image = _string(alert, "parent_image")
    draft.company_name = _string(alert, "company_name")
    draft.event_time = _checked(alert, "time", timestamp)
    draft.user_sid = _checked(alert, "user_sid", sid)
    level = _choice(alert, "integrity_level", LEVELS)
    draft.integrity = Integrity(level) if level else Integrity.UNKNOWN
    draft.elevated = _boolean(alert, "elevated")
    draft.is_service = _boolean(alert, "is_service")
    for algorithm in DIGESTS:
        value = _checked(alert, algorithm, partial(digest, algorithm=algorithm))
        if value:
            draft.digests[algorithm] = value
    return draft.finish()


def _string(alert: dict[str, object], name: str) -> str | None:
    value = alert.get(name)
    if value is not None and not isinstance(value, str):
        raise AlertFormatError(f"{name} must be a string or null, got {shown(value)}", context=FORMAT)
    return text(value)


def _checked(alert: dict[str, object], name: str, convert: Callable[[str], T | None]) -> T | None:
    """A string field that must convert when given (a time, a SID, a digest)."""
    raw = _string(alert, name)
    if raw is None:
        return None
    value = convert(raw)
    if value is None:
        raise AlertFormatError(f"malformed {name} ({FIELDS[name]}): {shown(raw)}", context=FORMAT)
    return value


def _choice(alert: dict[str, object], name: str, allowed: tuple[str, ...]) -> str | None:
    value = _string(alert, name)
    if value is not None and value not in allowed:
        raise AlertFormatError(f"{name} must be one of {', '.join(allowed)}, got {shown(value)}", context=FORMAT)
    return value


def _boolean(alert: dict[str, object], name: str) -> bool | None:
    value = alert.get(name)
    if value is not None and not isinstance(value, bool):
        raise AlertFormatError(f"{name} must be true, false or null, got {shown(value)}", context=FORMAT)
    return value if isinstance(value, bool) else None
