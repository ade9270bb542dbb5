"""ECS fields shared by every Elastic-shipped format (Winlogbeat and Elastic Defend), raw events or Kibana alerts."""

from __future__ import annotations

from sigtriage.alerts.draft import DIGESTS, Draft
from sigtriage.alerts.fields import dig, ident, text


def take_envelope(draft: Draft, doc: dict[str, object], fallback_time: object = None) -> None:
    """Alert id, time and host. A Kibana alert copies the source event and adds kibana.alert.*: its @timestamp
    is when the rule fired, kibana.alert.original_time when the process ran."""
    draft.alert_id = ident(dig(doc, "kibana.alert.uuid")) or ident(dig(doc, "event.id"))
    draft.take_time(dig(doc, "kibana.alert.original_time"), dig(doc, "@timestamp"), fallback_time)
    draft.host = (
        text(dig(doc, "host.name")) or text(dig(doc, "host.hostname")) or text(dig(doc, "winlog.computer_name"))
    )


def take_digests(draft: Draft, doc: dict[str, object], prefix: str) -> None:
    """ECS <prefix>.hash.{sha256,sha1,md5}, prefix 'process' or 'file'."""
    values = {algorithm: dig(doc, f"{prefix}.hash.{algorithm}") for algorithm in DIGESTS}
    draft.take_digests(values, f"{prefix}.hash")
