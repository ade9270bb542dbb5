"""LOLCerts (WithSecureLabs/lolcerts) importer: one YAML document per leaked or malicious certificate, and the
repository's CSV export.

The repository's schema is `name`, `meta: {status, source, description, references, date, author}`,
`issuer` (a CN), `serial` (a list of colon-hex serials), optional `thumbprint` (a list) and `timestamp` (Unix
time of the leak). Hand-written feeds vary, so keys are read case-insensitively, `meta` may be flat, scalars
may stand for lists, and `SHA256`/`SHA1`/`Subject`/`Reference` spellings are understood. Matching is on
issuer + serial (the feed's own design) and on any SHA-256 thumbprint.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime

import yaml

from sigtriage.errors import InputError
from sigtriage.gather.intel_fields import (
    FeedImport,
    as_list,
    canonical_serial,
    clean_text,
    csv_fields,
    field_key,
    parse_when,
    thumbprint,
)
from sigtriage.model.evidence import IntelEntry

SOURCE = "lolcerts"

_ISSUER_KEYS = ("issuer", "issuer_cn", "issuer_name", "issuer_dn")
_SUBJECT_KEYS = ("subject", "subject_cn", "subject_name")
_SERIAL_KEYS = ("serial", "serials", "serial_number", "serial_numbers", "serialnumber")
_THUMBPRINT_KEYS = ("thumbprint", "thumbprints", "sha256", "sha1", "sha256_thumbprint", "sha1_thumbprint",
                    "fingerprint", "fingerprints")
_REFERENCE_KEYS = ("references", "reference", "url", "urls", "link", "links")
_DATE_KEYS = ("date", "listed", "date_added", "added", "first_seen", "timestamp")
_CATEGORY_KEYS = ("source", "category", "type")
_URL = re.compile(r"https?://", re.IGNORECASE)


def parse_yaml(text: str, origin: str) -> FeedImport:
    """Entries from YAML text: one certificate per document, or a list of them in one document."""
    try:
        # BaseLoader keeps every scalar a string: a bare serial such as 12:34:56 would otherwise be read as a
        # base-60 integer and 0x… or all-digit serials as numbers, losing leading zeros.
        documents = list(yaml.load_all(text, Loader=yaml.BaseLoader))
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", context=origin) from exc
    records: list[object] = []
    for document in documents:
        records.extend(document if isinstance(document, list) else [document])
    return _import(records, origin, [])


def looks_like_csv(header: list[str]) -> bool:
    """A header row of the LOLCerts CSV export (it has at least an issuer and a serial column)."""
    keys = {field_key(name) for name in header}
    return "issuer" in keys and "serial" in keys


def parse_csv(text: str, origin: str) -> FeedImport:
    """Entries from the CSV export, including its known defects.

    The repository's generator joins fields with bare commas and no quoting, and `description` keeps the
    trailing newline of a YAML block scalar: one record spans two lines, and a description with a comma
    ("Co., Ltd") yields extra fields. Physical lines are joined until a record has every column, and surplus
    fields are folded back into `description`.
    """
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None:
        return FeedImport((), (f"{origin}: empty file",))
    header = [field_key(name) for name in csv_fields(lines[start])]
    free_text = header.index("description") if "description" in header else None
    records: list[object] = []
    warnings: list[str] = []
    pending = ""
    for number, line in enumerate(lines[start + 1:], start + 2):
        if pending and len(csv_fields(line)) >= len(header):
            warnings.append(f"{origin}: incomplete record before line {number}; ignored")
            pending = ""
        pending = f"{pending} {line}" if pending else line
        fields = csv_fields(pending)
        if len(fields) < len(header):
            continue
        pending = ""
        surplus = len(fields) - len(header)
        if surplus and free_text is None:
            warnings.append(f"{origin}: line {number} has {surplus} field(s) too many; ignored")
            continue
        if surplus and free_text is not None:
            joined = ", ".join(fields[free_text:free_text + surplus + 1])  # prose: a comma is followed by a space
            fields = [*fields[:free_text], joined, *fields[free_text + surplus + 1:]]
        records.append(dict(zip(header, fields, strict=True)))
    if pending.strip():
        warnings.append(f"{origin}: incomplete record at end of file; ignored")
    return _import(records, origin, warnings)


def _import(records: Iterable[object], origin: str, warnings: list[str]) -> FeedImport:
    entries: list[IntelEntry] = []
    for index, record in enumerate(records, 1):
        if not record:
            continue  # an empty YAML document (e.g. a trailing '---')
        if not isinstance(record, Mapping):
            warnings.append(f"{origin}: record {index} is not a mapping; ignored")
            continue
        flat = _flatten(record)
        label = f"{origin}: {clean_text(flat.get('name')) or f'record {index}'}"
        entries.extend(_entries(flat, label, warnings))
    return FeedImport(tuple(entries), tuple(warnings))


def _flatten(record: Mapping[object, object]) -> dict[str, object]:
    """Top-level keys and those of nested mappings (`meta`) in one mapping, keys in one spelling; a top-level
    key wins over a nested one."""
    flat: dict[str, object] = {}
    nested: dict[str, object] = {}
    for key, value in record.items():
        if isinstance(value, Mapping):
            nested.update({field_key(k): v for k, v in value.items()})
        else:
            flat[field_key(key)] = value
    return {**nested, **flat}


def _values(flat: Mapping[str, object], keys: tuple[str, ...]) -> list[str]:
    return [text for key in keys for text in as_list(flat.get(key))]


def _first(flat: Mapping[str, object], keys: tuple[str, ...]) -> str | None:
    return next(iter(_values(flat, keys)), None)


def _entries(flat: Mapping[str, object], label: str, warnings: list[str]) -> list[IntelEntry]:
    issuer = _first(flat, _ISSUER_KEYS)
    serials: dict[str, None] = {}
    for raw in _values(flat, _SERIAL_KEYS):
        serial = canonical_serial(raw)
        if serial is None:
            warnings.append(f"{label}: serial {raw!r} is not hexadecimal; ignored")
        else:
            serials[serial] = None
    sha256s: dict[str, None] = {}
    sha1_seen = False
    for raw in _values(flat, _THUMBPRINT_KEYS):
        parsed = thumbprint(raw)
        if parsed is None:
            warnings.append(f"{label}: thumbprint {raw!r} is neither SHA-256 nor SHA-1; ignored")
        elif parsed[0] == "sha256":
            sha256s[parsed[1]] = None
        else:
            sha1_seen = True
    if serials and issuer is None:
        warnings.append(f"{label}: serial without issuer cannot be matched; ignored")
        serials.clear()
    if not serials and not sha256s:
        why = " (a SHA-1 thumbprint is not a match key)" if sha1_seen else ""
        warnings.append(f"{label}: skipped: no SHA-256 thumbprint and no issuer + serial{why}")
        return []

    base = IntelEntry(source=SOURCE, sha256=None, issuer=issuer, serial=None, subject=_first(flat, _SUBJECT_KEYS),
                      reason=_reason(flat), listed=_listed(flat, label, warnings), reference=_reference(flat))
    if len(serials) == 1 and len(sha256s) == 1:
        # One certificate described by both keys: one entry, so that a match reports it once.
        return [replace(base, sha256=next(iter(sha256s)), serial=next(iter(serials)))]
    return [*(replace(base, serial=serial) for serial in serials), *(replace(base, sha256=h) for h in sha256s)]


def _category(flat: Mapping[str, object]) -> str | None:
    """LOLCerts' `source` is a category (leaked / malicious); hand-written feeds sometimes put a URL there."""
    category = _first(flat, _CATEGORY_KEYS)
    return None if category is None or _URL.match(category) else category


def _reason(flat: Mapping[str, object]) -> str | None:
    head = ", ".join(part for part in (_category(flat), _first(flat, ("status",))) if part)
    body = _first(flat, ("description",)) or _first(flat, ("name",))
    return f"{head}: {body}" if head and body else head or body


def _listed(flat: Mapping[str, object], label: str, warnings: list[str]) -> datetime | None:
    """When the entry was published (`date`); the leak time (`timestamp`) stands in when there is no date."""
    text = _first(flat, _DATE_KEYS)
    if text is None:
        return None
    when = parse_when(text)
    if when is None:
        warnings.append(f"{label}: date {text!r} not understood; left empty")
    return when


def _reference(flat: Mapping[str, object]) -> str | None:
    urls = [*_values(flat, _REFERENCE_KEYS), *(u for u in _values(flat, _CATEGORY_KEYS) if _URL.match(u))]
    return " ".join(dict.fromkeys(urls)) or None
