"""Token facts (integrity, elevation, account) -> Privilege: the one derivation every alert format shares."""

from __future__ import annotations

from sigtriage.alerts.fields import basename, text
from sigtriage.model.context import Integrity, Privilege

SERVICE_SIDS = frozenset({"S-1-5-18", "S-1-5-19", "S-1-5-20"})  # SYSTEM, LOCAL SERVICE, NETWORK SERVICE

_INTEGRITY_NAMES = {
    "system": Integrity.SYSTEM,
    "high": Integrity.HIGH,
    "medium": Integrity.MEDIUM,
    "mediumplus": Integrity.MEDIUM,  # S-1-16-8448, still below an elevated token
    "low": Integrity.LOW,
    "appcontainer": Integrity.LOW,  # Sysmon's name for the low-integrity AppContainer token
    "untrusted": Integrity.UNTRUSTED,
}

# Mandatory label SIDs are S-1-16-<level>; Windows compares levels as numbers, so intermediate values
# (8448 medium-plus, 20480 protected process) fall into the band below them.
_LABEL_BANDS = (
    (16384, Integrity.SYSTEM),
    (12288, Integrity.HIGH),
    (8192, Integrity.MEDIUM),
    (4096, Integrity.LOW),
    (0, Integrity.UNTRUSTED),
)

# TOKEN_ELEVATION_TYPE in its three spellings: Security-log message ids, MDE's enum names, Elastic's words.
# Type 1 (default) is a token without a linked token (UAC off, a service, a standard user): it says nothing
# about elevation on its own, so it maps to None and the integrity level decides.
_ELEVATION = {
    "%%1936": None,
    "%%1937": True,
    "%%1938": False,
    "tokenelevationtypedefault": None,
    "tokenelevationtypefull": True,
    "tokenelevationtypelimited": False,
    "default": None,
    "full": True,
    "limited": False,
}

_WELL_KNOWN_ACCOUNTS = {
    "system": "S-1-5-18",
    "localsystem": "S-1-5-18",
    "local service": "S-1-5-19",
    "localservice": "S-1-5-19",
    "network service": "S-1-5-20",
    "networkservice": "S-1-5-20",
}


def integrity_of(value: object) -> Integrity | None:
    """An integrity level from its name ('High', 'system', 'Medium Mandatory Level') or its mandatory label SID
    ('S-1-16-12288'); None when absent or not recognised."""
    raw = text(value)
    if raw is None:
        return None
    name = raw.strip().lower()
    if name.startswith("s-1-16-"):
        level = name.removeprefix("s-1-16-")
        if not (level.isascii() and level.isdigit()) or len(level) > 6:
            return None
        return next(band for floor, band in _LABEL_BANDS if int(level) >= floor)
    compact = name.removesuffix(" mandatory level").replace(" ", "")
    return _INTEGRITY_NAMES.get(compact)


def elevation_of(value: object) -> tuple[bool | None, bool]:
    """(elevated, recognised) from a TOKEN_ELEVATION_TYPE spelling or a boolean (Elastic's token.elevation)."""
    if isinstance(value, bool):
        return value, True
    raw = text(value)
    if raw is None or raw.strip().lower() not in _ELEVATION:
        return None, False
    return _ELEVATION[raw.strip().lower()], True


def well_known_sid(user: str) -> str | None:
    """The SID of SYSTEM / LOCAL SERVICE / NETWORK SERVICE named as 'NT AUTHORITY\\SYSTEM' or bare 'SYSTEM'
    (Sysmon and Splunk give names only). English names only: localised ones ('NT-AUTORITÄT') are not matched."""
    domain, _, name = user.strip().rpartition("\\")
    if domain and domain.lower() != "nt authority":
        return None
    return _WELL_KNOWN_ACCOUNTS.get(name.lower())


def is_service_context(user_sid: str | None, parent_image: str | None) -> bool:
    """A service account, or a process started directly by the service control manager."""
    return user_sid in SERVICE_SIDS or (parent_image is not None and basename(parent_image) == "services.exe")


def derive_privilege(
    *, event_kind: str, user_sid: str | None, integrity: Integrity, elevated: bool | None, is_service: bool
) -> Privilege:
    if event_kind == "driver_load":
        return Privilege.KERNEL
    if user_sid in SERVICE_SIDS or integrity is Integrity.SYSTEM or is_service:
        return Privilege.SYSTEM
    if integrity is Integrity.HIGH or elevated is True:
        return Privilege.HIGH
    if integrity is Integrity.MEDIUM:
        return Privilege.MEDIUM
    if integrity in (Integrity.LOW, Integrity.UNTRUSTED):
        return Privilege.LOW
    return Privilege.UNKNOWN
