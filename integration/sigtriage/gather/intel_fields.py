"""Field normalisers shared by the threat-intel importers: serials, thumbprints, dates, issuer keys, text.

Feeds are written by hand or by scripts with their own conventions; everything here accepts the common
spellings and returns one canonical form (or None), so that the importers stay strict in what they emit.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sigtriage.errors import InputError
from sigtriage.model.evidence import IntelEntry

_HEX = re.compile(r"[0-9a-f]+")
_KEY_SEPARATORS = re.compile(r"[\s\-]+")
_HEX_SEPARATORS = re.compile(r"[\s:]")
_DN_COMPONENT = re.compile(r"([a-z][a-z0-9.]*)\s*=\s*((?:\\.|[^,/+])*)")
_DN_START = re.compile(r"^\s*/?\s*[a-z][a-z0-9.]*\s*=")
# Windows writes S= and E= where OpenSSL writes ST= and emailAddress=: one spelling for comparing DNs.
_DN_ATTRIBUTE_ALIASES = {"s": "st", "e": "emailaddress"}


@dataclass(frozen=True)
class FeedImport:
    """What one feed file gave: the usable entries, and why anything else was left out."""

    entries: tuple[IntelEntry, ...]
    warnings: tuple[str, ...]


def read_feed_text(path: Path) -> str:
    """The text of a feed file (UTF-8, with or without BOM); InputError naming the file if it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", context=str(path)) from exc
    except OSError as exc:
        raise InputError(f"cannot read threat-intel feed: {exc.strerror or exc}", context=str(path)) from exc
    if "\x00" in text:  # binary data; the csv module would raise on it mid-parse
        raise InputError("not a text file (NUL bytes)", context=str(path))
    return text


def clean_text(value: object) -> str | None:
    """One line of text with runs of whitespace collapsed; None for missing or blank values."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def der_integer_content(value: int) -> bytes:
    """The content bytes of the DER INTEGER for `value`: minimal two's complement, so a positive value whose
    high bit is set gets a leading 00 (as in the certificate itself)."""
    magnitude = value if value >= 0 else ~value
    return value.to_bytes(magnitude.bit_length() // 8 + 1, "big", signed=True)


def canonical_serial(text: str) -> str | None:
    """A feed's serial as our `serial` convention (hex of the DER INTEGER content bytes), or None if not hex.

    Accepts colon- or space-separated bytes, an optional 0x prefix and any case. Unsigned hex is read as a
    non-negative integer, because feeds print magnitudes (OpenSSL, YARA and abuse.ch drop the leading 00 of a
    serial whose high bit is set): '87:9f…' and '00879f…' both become '00879f…'. A negative serial must be
    written with a minus sign ('-7248…', as openssl prints it); its bytes are then the two's complement.
    Non-minimal encodings (extra leading 00) collapse to the minimal one, which is what DER requires.
    """
    s = text.strip().lower()
    negative = s.startswith("-")
    s = s.removeprefix("-").strip().removeprefix("0x")
    s = _HEX_SEPARATORS.sub("", s)
    if not _HEX.fullmatch(s):
        return None
    value = int(s, 16)
    return der_integer_content(-value if negative else value).hex()


def certificate_serial_keys(serial: str) -> tuple[str, ...]:
    """Index keys for a certificate's DER serial bytes. For a positive serial, its canonical form. A negative
    one is also looked up as feeds print it: by its magnitude without a sign (OpenSSL, YARA) and by its bytes
    read as unsigned (Windows shows the raw bytes), both of which `canonical_serial` reads as positive."""
    try:
        raw = bytes.fromhex(serial)
    except ValueError:
        return ()
    if not raw:
        return ()
    signed = int.from_bytes(raw, "big", signed=True)
    readings = (signed, -signed, int.from_bytes(raw, "big")) if signed < 0 else (signed,)
    return tuple(dict.fromkeys(der_integer_content(value).hex() for value in readings))


def thumbprint(text: str) -> tuple[str, str] | None:
    """('sha256' | 'sha1', lower-case hex) for a thumbprint in any usual spelling, or None if it is neither."""
    s = _HEX_SEPARATORS.sub("", text.strip().lower()).removeprefix("0x")
    if not _HEX.fullmatch(s):
        return None
    kind = {64: "sha256", 40: "sha1"}.get(len(s))
    return (kind, s) if kind else None


def parse_when(text: str) -> datetime | None:
    """A feed date as an aware UTC datetime: ISO 8601 (date or date-time, naive means UTC), LOLCerts'
    DD-MM-YYYY, or a Unix timestamp; None if it is none of those."""
    s = text.strip()
    if s.isdigit() and 9 <= len(s) <= 11:
        return datetime.fromtimestamp(int(s), tz=timezone.utc)
    try:
        when = datetime.fromisoformat(s)
    except ValueError:
        try:
            when = datetime.strptime(s, "%d-%m-%Y")
        except ValueError:
            return None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _dn_key(text: str) -> str | None:
    """A DN in any usual spelling ('CN=a, O=b', '/O=b/CN=a') as sorted 'attr=value' pairs, or None if no DN."""
    folded = _fold(text)
    if not _DN_START.match(folded):
        return None
    parts = sorted(
        f"{_DN_ATTRIBUTE_ALIASES.get(attr, attr)}={value.strip()}" for attr, value in _DN_COMPONENT.findall(folded))
    return ",".join(parts) if parts else None


def _dn_cn(text: str) -> str | None:
    return next((str(value).strip() for attr, value in _DN_COMPONENT.findall(_fold(text)) if attr == "cn"), None)


def feed_issuer_keys(issuer: str) -> frozenset[str]:
    """Keys under which a feed's issuer matches: its CN (the whole text, or the CN= part of a DN) and its DN."""
    dn = _dn_key(issuer)
    if dn is None:
        return frozenset({f"cn:{_fold(issuer)}"})
    cn = _dn_cn(issuer)
    return frozenset({f"dn:{dn}", *([f"cn:{cn}"] if cn else [])})


def certificate_issuer_keys(cn: str | None, o: str | None, dn: str) -> frozenset[str]:
    """Keys for a certificate's issuer. Without a CN the O stands in, as Windows shows such an issuer."""
    keys = {f"dn:{key}"} if (key := _dn_key(dn)) else set()
    display = cn or o
    if display:
        keys.add(f"cn:{_fold(display)}")
    return frozenset(keys)


def as_list(value: object) -> list[str]:
    """A scalar or a list from a feed record as a list of non-blank strings (YAML lets either appear)."""
    items: Iterable[object] = value if isinstance(value, list) else [value]
    texts = (clean_text(item) for item in items if not isinstance(item, (dict, list)))
    return [text for text in texts if text is not None]


def field_key(name: object) -> str:
    """A record key or column name in one spelling: 'Serial Number', 'serial-number' -> 'serial_number'."""
    return _KEY_SEPARATORS.sub("_", str(name).strip().strip('"').strip().lower())


def csv_fields(line: str) -> list[str]:
    """The fields of one CSV line: double-quoted or bare, with or without spaces after the commas."""
    return [field.strip() for field in next(csv.reader([line], skipinitialspace=True), [])]
