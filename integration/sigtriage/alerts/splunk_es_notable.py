"""A Splunk Enterprise Security notable event as a search of `notable` returns it over REST (output_mode=json),
bare or in the export endpoint's {"preview": false, "result": {...}} line. Fields are the CIM Endpoint.Processes
names (process_path, process, process_hash, process_integrity_level, user, user_id, dest, parent_process_path);
Splunk returns multivalue fields as arrays.
"""

from __future__ import annotations

from sigtriage.alerts.draft import Draft, as_object
from sigtriage.alerts.fields import hash_list, ident, sid, text
from sigtriage.model.context import ExecutionContext

FORMAT = "splunk_es_notable"


def detect(doc: object) -> bool:
    notable = _unwrap(doc)
    if not isinstance(notable, dict):
        return False
    event_id = ident(_first(notable.get("event_id")))
    return (event_id is not None and "@@notable@@" in event_id) or (
        "security_domain" in notable and ("rule_name" in notable or "search_name" in notable)
    )


def parse(doc: object) -> ExecutionContext:
    notable = as_object(_unwrap(doc), FORMAT)
    draft = Draft(FORMAT)

    def field(name: str) -> object:
        value = notable.get(name)
        if isinstance(value, list) and len(value) > 1:
            draft.notes.append(f"multivalue field {name}: used the first of {len(value)} values")
        return _first(value)

    draft.alert_id = ident(field("event_id"))
    # orig_time is when the underlying event happened; _time is when the correlation search fired
    draft.take_time(field("orig_time"), field("_time"))
    draft.host = text(field("dest_nt_host")) or text(field("dest"))
    draft.user = text(field("user"))
    draft.user_sid = sid(field("user_id"))
    draft.image_path = text(field("process_path"))
    draft.command_line = text(field("process"))
    draft.parent_image = text(field("parent_process_path")) or text(field("parent_process_name"))
    draft.take_integrity(field("process_integrity_level"), "process_integrity_level")
    for name in ("process_hash", "file_hash"):
        for value in _values(notable.get(name)):
            draft.take_digests(hash_list(value), name)
    return draft.finish()


def _unwrap(doc: object) -> object:
    result = doc.get("result") if isinstance(doc, dict) else None
    return result if isinstance(result, dict) else doc


def _values(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]


def _first(value: object) -> object:
    if isinstance(value, list):
        return value[0] if value else None
    return value
