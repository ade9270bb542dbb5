"""Sysmon events 1, 6 and 7 shipped by Winlogbeat (ECS), raw or as Kibana alerts.

Winlogbeat's sysmon pipeline moves most event_data fields to ECS (process.*, file.*, user.*) and deletes the
originals, while older pipelines and other shippers keep them: every field is read from event_data first, then
from its ECS home. winlog.user is the account Sysmon itself runs as (SYSTEM), never the process user.
"""

from __future__ import annotations

from sigtriage.alerts import ecs
from sigtriage.alerts.draft import Draft, as_object
from sigtriage.alerts.fields import account, dig, flag, hash_list, ident, shown, sid, text
from sigtriage.errors import AlertFormatError
from sigtriage.model.context import EdrSignatureClaim, ExecutionContext

FORMAT = "sysmon_ecs"

_KINDS = {"1": "process_start", "6": "driver_load", "7": "image_load"}


def detect(doc: object) -> bool:
    return isinstance(doc, dict) and (
        text(dig(doc, "winlog.provider_name")) == "Microsoft-Windows-Sysmon"
        or text(dig(doc, "winlog.channel")) == "Microsoft-Windows-Sysmon/Operational"
    )


def parse(doc: object) -> ExecutionContext:
    alert = as_object(doc, FORMAT)
    event_id = ident(dig(alert, "winlog.event_id")) or ident(dig(alert, "event.code"))
    kind = _KINDS.get(event_id or "")
    if kind is None:
        raise AlertFormatError(
            f"Sysmon event {shown(event_id)} names no binary that ran; "
            "supported: 1 (process create), 6 (driver loaded), 7 (image loaded)",
            context=FORMAT,
        )
    data = dig(alert, "winlog.event_data")
    event: dict[str, object] = data if isinstance(data, dict) else {}
    draft = Draft(FORMAT, event_kind=kind)
    ecs.take_envelope(draft, alert, fallback_time=event.get("UtcTime"))
    draft.host_id = text(dig(alert, "host.id"))
    draft.take_digests(hash_list(event.get("Hashes")), "event_data.Hashes")
    if kind == "process_start":
        _process(draft, alert, event)
    else:
        _module(draft, alert, event)
    return draft.finish()


def _process(draft: Draft, doc: dict[str, object], event: dict[str, object]) -> None:
    draft.image_path = text(event.get("Image")) or text(dig(doc, "process.executable"))
    draft.command_line = text(event.get("CommandLine")) or text(dig(doc, "process.command_line"))
    draft.parent_image = text(event.get("ParentImage")) or text(dig(doc, "process.parent.executable"))
    draft.company_name = text(event.get("Company")) or text(dig(doc, "process.pe.company"))
    draft.take_integrity(event.get("IntegrityLevel"), "event_data.IntegrityLevel")
    ecs.take_digests(draft, doc, "process")
    _user(draft, doc, event)


def _module(draft: Draft, doc: dict[str, object], event: dict[str, object]) -> None:
    """Driver (6) and image (7) loads: the binary is ImageLoaded; for 7 the loading process is the parent."""
    draft.image_path = text(event.get("ImageLoaded")) or text(dig(doc, "file.path"))
    draft.company_name = text(event.get("Company")) or text(dig(doc, "file.pe.company"))
    ecs.take_digests(draft, doc, "file")
    draft.edr_signature = _signature(doc, event)
    if draft.event_kind == "image_load":
        draft.parent_image = text(event.get("Image")) or text(dig(doc, "process.executable"))
        _user(draft, doc, event)


def _user(draft: Draft, doc: dict[str, object], event: dict[str, object]) -> None:
    draft.user = text(event.get("User")) or account(dig(doc, "user.domain"), dig(doc, "user.name"))
    draft.user_sid = sid(dig(doc, "user.id"))


def _signature(doc: dict[str, object], event: dict[str, object]) -> EdrSignatureClaim | None:
    signed = flag(event.get("Signed"))
    if signed is None:
        signed = flag(dig(doc, "file.code_signature.signed"))
    subject = text(event.get("Signature")) or text(dig(doc, "file.code_signature.subject_name"))
    status = text(event.get("SignatureStatus")) or text(dig(doc, "file.code_signature.status"))
    # Sysmon's SignatureStatus is WinVerifyTrust's verdict: "Valid" is the only trusted outcome.
    trusted = status.strip().lower() == "valid" if status else flag(dig(doc, "file.code_signature.valid"))
    if signed is None and subject is None and status is None:
        return None
    return EdrSignatureClaim(signed=signed, subject=subject, status=status, trusted=trusted)
