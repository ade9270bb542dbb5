"""The mutable working copy a parser fills in, and the one place that turns it into an ExecutionContext.

Parsers only transcribe vendor fields; validation of digests, times and levels, the service/privilege
derivation and the notes about what could not be determined live here, once for every format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sigtriage.alerts.fields import digest, shown, timestamp
from sigtriage.alerts.privilege import derive_privilege, elevation_of, integrity_of, is_service_context, well_known_sid
from sigtriage.errors import AlertFormatError
from sigtriage.model.context import EdrSignatureClaim, ExecutionContext, Integrity, Privilege

EVENT_KINDS = ("process_start", "driver_load", "image_load")
DIGESTS = ("sha256", "sha1", "md5")


def as_object(doc: object, source_format: str) -> dict[str, object]:
    """The alert as a JSON object, for parsers called on a document that detect() did not vet."""
    if not isinstance(doc, dict):
        raise AlertFormatError(f"expected a JSON object, got {type(doc).__name__}", context=source_format)
    return doc


@dataclass
class Draft:
    source_format: str
    event_kind: str = "process_start"
    alert_id: str | None = None
    event_time: datetime | None = None
    host: str | None = None
    host_id: str | None = None
    user: str | None = None
    user_sid: str | None = None
    integrity: Integrity = Integrity.UNKNOWN
    elevated: bool | None = None
    is_service: bool | None = None
    """None: derived from the account and the parent image."""
    image_path: str | None = None
    command_line: str | None = None
    parent_image: str | None = None
    digests: dict[str, str] = field(default_factory=dict)
    company_name: str | None = None
    edr_signature: EdrSignatureClaim | None = None
    notes: list[str] = field(default_factory=list)

    def take_digests(self, values: Mapping[str, object], source: str) -> None:
        """Keep the first well-formed digest of each algorithm; call in order of preference."""
        for algorithm in DIGESTS:
            raw = values.get(algorithm)
            if raw is None or algorithm in self.digests:
                continue
            value = digest(raw, algorithm)
            if value is None:
                self.notes.append(f"ignored malformed {algorithm} in {source}: {shown(raw)}")
            else:
                self.digests[algorithm] = value

    def take_time(self, *candidates: object) -> None:
        """The first candidate that parses; a note when times were given but none parsed."""
        given = [c for c in candidates if c is not None]
        for candidate in given:
            self.event_time = timestamp(candidate)
            if self.event_time is not None:
                return
        if given:
            self.notes.append(f"unparseable event time: {shown(given[0])}")

    def take_integrity(self, value: object, source: str) -> None:
        level = integrity_of(value)
        if level is not None:
            self.integrity = level
        elif value is not None:
            self.notes.append(f"unrecognised integrity level in {source}: {shown(value)}")

    def take_elevation(self, value: object, source: str) -> None:
        elevated, recognised = elevation_of(value)
        if recognised:
            self.elevated = elevated
        elif value is not None:
            self.notes.append(f"unrecognised token elevation in {source}: {shown(value)}")

    def finish(self) -> ExecutionContext:
        if "sha256" not in self.digests and self.image_path is None:
            raise AlertFormatError(
                "the alert names no binary (neither a SHA-256 nor an image path)", context=self.source_format
            )
        notes = list(self.notes)
        user_sid = self.user_sid
        if user_sid is None and self.user is not None:
            user_sid = well_known_sid(self.user)
            if user_sid is not None:
                notes.append(f"user SID {user_sid} inferred from the well-known account name '{self.user}'")
        is_service = self.is_service if self.is_service is not None else is_service_context(user_sid, self.parent_image)
        privilege = derive_privilege(
            event_kind=self.event_kind,
            user_sid=user_sid,
            integrity=self.integrity,
            elevated=self.elevated,
            is_service=is_service,
        )
        if privilege is Privilege.UNKNOWN:
            notes.append("privilege unknown: no integrity level, elevation or service account in the alert")
        return ExecutionContext(
            source_format=self.source_format,
            event_kind=self.event_kind,
            alert_id=self.alert_id,
            event_time=self.event_time,
            host=self.host,
            host_id=self.host_id,
            user=self.user,
            user_sid=user_sid,
            integrity_level=self.integrity,
            elevated=self.elevated,
            is_service=is_service,
            image_path=self.image_path,
            command_line=self.command_line,
            parent_image=self.parent_image,
            sha256=self.digests.get("sha256"),
            sha1=self.digests.get("sha1"),
            md5=self.digests.get("md5"),
            company_name=self.company_name,
            edr_signature=self.edr_signature,
            privilege=privilege,
            notes=tuple(notes),
        )
