"""Elastic Defend (endpoint) process events, raw (logs-endpoint.events.process-*) or as Kibana security alerts
(.alerts-security.alerts-*: the source event's fields plus kibana.alert.*, event.* moved to
kibana.alert.original_event.*).

host_id is agent.id: Kibana's response actions (isolate, kill-process) address endpoints by it.
"""

from __future__ import annotations

from sigtriage.alerts import ecs
from sigtriage.alerts.draft import Draft, as_object
from sigtriage.alerts.fields import account, dig, flag, shown, sid, text
from sigtriage.errors import AlertFormatError
from sigtriage.model.context import EdrSignatureClaim, ExecutionContext

FORMAT = "elastic_endpoint"


def detect(doc: object) -> bool:
    if not isinstance(doc, dict):
        return False
    dataset = text(dig(doc, "data_stream.dataset")) or ""
    return (
        text(dig(doc, "agent.type")) == "endpoint"
        or dataset.startswith("endpoint.")
        or dig(doc, "kibana.alert.uuid") is not None
    )


def parse(doc: object) -> ExecutionContext:
    alert = as_object(doc, FORMAT)
    categories = _categories(dig(alert, "kibana.alert.original_event.category") or dig(alert, "event.category"))
    if categories and "process" not in categories:
        raise AlertFormatError(
            f"event category {shown(sorted(categories))} names no process; only process events are supported",
            context=FORMAT,
        )
    draft = Draft(FORMAT)
    ecs.take_envelope(draft, alert)
    draft.host_id = text(dig(alert, "agent.id"))
    draft.image_path = text(dig(alert, "process.executable"))
    draft.command_line = text(dig(alert, "process.command_line"))
    draft.parent_image = text(dig(alert, "process.parent.executable"))
    draft.company_name = text(dig(alert, "process.pe.company"))
    ecs.take_digests(draft, alert, "process")
    draft.user = account(dig(alert, "user.domain"), dig(alert, "user.name"))
    draft.user_sid = sid(dig(alert, "user.id"))
    level = dig(alert, "process.Ext.token.integrity_level_name") or dig(alert, "process.token.integrity_level_name")
    draft.take_integrity(level, "process.Ext.token.integrity_level_name")
    # Elastic documents a boolean `elevation` and an `elevation_type`; some agent versions write `elevation_level`.
    for name in ("elevation", "elevation_type", "elevation_level"):
        if draft.elevated is None:
            draft.take_elevation(dig(alert, f"process.Ext.token.{name}"), f"process.Ext.token.{name}")
    draft.edr_signature = _signature(dig(alert, "process.code_signature") or dig(alert, "process.Ext.code_signature"))
    return draft.finish()


def _categories(value: object) -> set[str]:
    items = value if isinstance(value, list) else [value]
    return {item.lower() for item in items if isinstance(item, str)}


def _signature(value: object) -> EdrSignatureClaim | None:
    """ECS code_signature; process.Ext.code_signature is a list (one entry per signature), the first is primary."""
    claim = value[0] if isinstance(value, list) and value else value
    if not isinstance(claim, dict):
        return None
    return EdrSignatureClaim(
        signed=flag(claim.get("exists")),
        subject=text(claim.get("subject_name")),
        status=text(claim.get("status")),
        trusted=flag(claim.get("trusted")),
    )
