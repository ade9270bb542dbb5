"""abuse.ch MalwareBazaar Code Signing Certificate Blocklist (CSCB) importer.

The export starts with `#` comment lines, the last of which is the commented header
(`# "time_stamp_utc","serial_number","thumbprint","thumbprint_algorithm","subject_cn","issuer_cn",…,"Reason"`);
rows are double-quoted with a space after each comma. Other dumps of the same data (the API's field names such
as `first_seen_utc`, `cscb_listed`, `cscb_reason`; an uncommented header; bare fields) are read the same way.
The match key is the SHA-256 thumbprint of the certificate; issuer CN + serial are kept as a second key.
"""

from __future__ import annotations

from sigtriage.errors import InputError
from sigtriage.gather.intel_fields import (
    FeedImport,
    canonical_serial,
    clean_text,
    csv_fields,
    field_key,
    parse_when,
    thumbprint,
)
from sigtriage.model.evidence import IntelEntry

SOURCE = "malwarebazaar"

_THUMBPRINT_COLUMNS = ("thumbprint", "sha256_thumbprint", "cert_sha256")
_LISTED_COLUMNS = ("time_stamp_utc", "first_seen_utc", "time_stamp", "first_seen", "date_added")
_REASON_COLUMNS = ("reason", "cscb_reason")
_NOT_LISTED = {"false", "0", "no", "n"}


def looks_like_header(fields: list[str]) -> bool:
    """A CSCB header row: it names a thumbprint column and the serial number."""
    keys = {field_key(name) for name in fields}
    return "serial_number" in keys and any(column in keys for column in _THUMBPRINT_COLUMNS)


def header_of(text: str) -> list[str] | None:
    """The CSCB header of a text (commented or not, before the first data row), or None if it has none."""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        commented = stripped.startswith("#")
        fields = csv_fields(stripped.lstrip("#").strip())
        if looks_like_header(fields):
            return [field_key(name) for name in fields]
        if not commented:
            return None
    return None


def parse_csv(text: str, origin: str) -> FeedImport:
    header = header_of(text)
    if header is None:
        raise InputError("no MalwareBazaar code-signing blocklist header row", context=origin)
    entries: list[IntelEntry] = []
    warnings: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = csv_fields(stripped)
        if [field_key(name) for name in fields] == header:
            continue  # the header itself, when it is not commented out
        if len(fields) != len(header):
            warnings.append(f"{origin}: line {number}: {len(fields)} fields where the header has {len(header)}; "
                            "ignored")
            continue
        entry = _entry(dict(zip(header, fields, strict=True)), f"{origin}: line {number}", warnings)
        if entry is not None:
            entries.append(entry)
    return FeedImport(tuple(entries), tuple(warnings))


def _column(row: dict[str, str], names: tuple[str, ...]) -> str | None:
    return next((value for name in names if (value := clean_text(row.get(name))) is not None), None)


def _entry(row: dict[str, str], label: str, warnings: list[str]) -> IntelEntry | None:
    if (row.get("cscb_listed") or "").strip().lower() in _NOT_LISTED:
        warnings.append(f"{label}: not listed on the blocklist (cscb_listed is false); ignored")
        return None
    sha256 = None
    raw_thumbprint = _column(row, _THUMBPRINT_COLUMNS)
    algorithm = (row.get("thumbprint_algorithm") or "sha256").replace("-", "").strip().lower()
    if raw_thumbprint is not None:
        parsed = thumbprint(raw_thumbprint)
        if parsed is not None and parsed[0] == "sha256" and algorithm == "sha256":
            sha256 = parsed[1]
        else:
            warnings.append(f"{label}: thumbprint {raw_thumbprint!r} ({algorithm}) is not a SHA-256; not a match key")
    raw_serial = clean_text(row.get("serial_number"))
    serial = canonical_serial(raw_serial) if raw_serial else None
    if raw_serial and serial is None:
        warnings.append(f"{label}: serial {raw_serial!r} is not hexadecimal; ignored")
    issuer = clean_text(row.get("issuer_cn"))
    if sha256 is None and (serial is None or issuer is None):
        warnings.append(f"{label}: skipped: no SHA-256 thumbprint and no issuer + serial")
        return None
    listed_text = _column(row, _LISTED_COLUMNS)
    listed = parse_when(listed_text) if listed_text else None
    if listed_text and listed is None:
        warnings.append(f"{label}: date {listed_text!r} not understood; left empty")
    return IntelEntry(source=SOURCE, sha256=sha256, issuer=issuer, serial=serial,
                      subject=clean_text(row.get("subject_cn")), reason=_column(row, _REASON_COLUMNS),
                      listed=listed, reference=None)
