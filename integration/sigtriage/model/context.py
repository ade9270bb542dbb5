"""The execution context of an alert, normalised from whatever EDR/SIEM format it came in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


class Integrity(str, Enum):
    """Windows mandatory integrity level of the process token."""

    SYSTEM = "system"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    UNTRUSTED = "untrusted"
    UNKNOWN = "unknown"


class Privilege(str, Enum):
    """How much an attacker gains if this code is malicious; raises the weight of certificate risk."""

    KERNEL = "kernel"
    """A driver load (kernel mode)."""
    SYSTEM = "system"
    """SYSTEM / LocalService / NetworkService, or a service."""
    HIGH = "high"
    """Elevated administrator token (high integrity)."""
    MEDIUM = "medium"
    LOW = "low"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class EdrSignatureClaim:
    """What the sensor itself said about the signature (Sysmon Signed/SignatureStatus, Elastic code_signature)."""

    signed: bool | None
    subject: str | None
    status: str | None
    trusted: bool | None


@dataclass(frozen=True)
class ExecutionContext:
    """Who ran what, where and with which privilege: everything sigtriage needs from an alert."""

    source_format: str
    """'sysmon_ecs', 'windows_security_4688', 'mde_alert', 'mde_device_process_events', 'elastic_endpoint',
    'splunk_es_notable' or 'sigtriage'."""
    event_kind: str
    """'process_start', 'driver_load' or 'image_load'."""
    alert_id: str | None
    event_time: datetime | None
    host: str | None
    host_id: str | None
    """The EDR's own machine id (MDE DeviceId, Elastic agent id): what containment calls need."""
    user: str | None
    user_sid: str | None
    integrity_level: Integrity
    elevated: bool | None
    is_service: bool
    image_path: str | None
    command_line: str | None
    parent_image: str | None
    sha256: str | None
    sha1: str | None
    md5: str | None
    company_name: str | None
    """VERSIONINFO CompanyName as the sensor reported it (a claim; the binary is the evidence)."""
    edr_signature: EdrSignatureClaim | None
    privilege: Privilege
    notes: tuple[str, ...] = field(default_factory=tuple)
    """What the normaliser could not determine or had to assume."""
