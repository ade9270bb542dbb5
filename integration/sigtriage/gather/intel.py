"""Threat-intel feeds of abused code-signing certificates, loaded once and matched by dictionary look-ups.

Formats (detected per file, see `detect_format`):
  LOLCerts YAML   a folder of `*.yml` / `*.yaml` (one certificate per document) or one file with several
  LOLCerts CSV    the repository's CSV export (header with `issuer` and `serial`)
  MalwareBazaar   the CSCB export (`#` comments, then a header with `serial_number` and `thumbprint`)

A certificate matches an entry by SHA-256 thumbprint, or by issuer + serial: the issuer compared on its CN
(or its O when it has no CN) or on the whole DN, case-insensitively with whitespace collapsed, and the serial
compared as DER INTEGER content bytes (see `intel_fields.canonical_serial` for how feed serials are read).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import Enum
from pathlib import Path

from sigtriage.errors import InputError
from sigtriage.gather import intel_bazaar, intel_lolcerts
from sigtriage.gather.intel_fields import (
    FeedImport,
    certificate_issuer_keys,
    certificate_serial_keys,
    csv_fields,
    feed_issuer_keys,
    read_feed_text,
)
from sigtriage.model import Certificate
from sigtriage.model.evidence import IntelEntry, IntelMatch

_YAML_SUFFIXES = (".yml", ".yaml")


class FeedFormat(str, Enum):
    LOLCERTS_YAML = "lolcerts-yaml"
    LOLCERTS_CSV = "lolcerts-csv"
    MALWAREBAZAAR_CSV = "malwarebazaar-csv"


class IntelDatabase:
    """Feed entries indexed by SHA-256 thumbprint and by DER serial; immutable once built."""

    def __init__(self, entries: Iterable[IntelEntry], warnings: Iterable[str] = ()) -> None:
        self.entries: tuple[IntelEntry, ...] = tuple(dict.fromkeys(entries))  # a feed loaded twice counts once
        self.warnings: tuple[str, ...] = tuple(warnings)
        self._by_sha256: dict[str, list[IntelEntry]] = {}
        self._by_serial: dict[str, list[tuple[frozenset[str], IntelEntry]]] = {}
        for entry in self.entries:
            if entry.sha256:
                self._by_sha256.setdefault(entry.sha256, []).append(entry)
            if entry.serial and entry.issuer:
                self._by_serial.setdefault(entry.serial, []).append((feed_issuer_keys(entry.issuer), entry))

    def __len__(self) -> int:
        return len(self.entries)

    def match(self, cert: Certificate) -> list[IntelMatch]:
        """Every entry that names `cert`, once each, by SHA-256 when that matches, else by issuer + serial."""
        how: dict[IntelEntry, str] = {}
        for entry in self._by_sha256.get(cert.sha256.lower(), ()):
            how.setdefault(entry, "sha256")
        issuer = certificate_issuer_keys(cert.issuer.cn, cert.issuer.o, cert.issuer.dn)
        for serial in certificate_serial_keys(cert.serial):
            for keys, entry in self._by_serial.get(serial, ()):
                if keys & issuer:
                    how.setdefault(entry, "issuer+serial")
        return [IntelMatch(certificate=cert.sha256, matched_by=matched_by, entry=entry)
                for entry, matched_by in how.items()]


def detect_format(path: Path, text: str) -> FeedFormat:
    """The feed format of one file: by extension for YAML, by the header row for CSV."""
    if path.suffix.lower() in _YAML_SUFFIXES:
        return FeedFormat.LOLCERTS_YAML
    if intel_bazaar.header_of(text) is not None:
        return FeedFormat.MALWAREBAZAAR_CSV
    first = next((line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")), "")
    if intel_lolcerts.looks_like_csv(csv_fields(first)):
        return FeedFormat.LOLCERTS_CSV
    raise InputError("not a known threat-intel format (LOLCerts YAML or CSV, MalwareBazaar code-signing "
                     "blocklist CSV)", context=str(path))


_PARSERS: dict[FeedFormat, Callable[[str, str], FeedImport]] = {
    FeedFormat.LOLCERTS_YAML: intel_lolcerts.parse_yaml,
    FeedFormat.LOLCERTS_CSV: intel_lolcerts.parse_csv,
    FeedFormat.MALWAREBAZAAR_CSV: intel_bazaar.parse_csv,
}


def load_feed(path: Path) -> FeedImport:
    """The entries of one feed file, in whichever known format it is."""
    text = read_feed_text(path)
    feed = _PARSERS[detect_format(path, text)](text, str(path))
    if not feed.entries:
        # A feed that yields nothing is more likely truncated or misformatted than clean: say so.
        return FeedImport((), (*feed.warnings, f"{path}: no usable entries"))
    return feed


def _feed_files(path: Path) -> list[Path]:
    """A file as is; a folder as the LOLCerts YAML files under it, outside hidden folders (.github holds
    workflow YAML). A folder's CSV files are left out: the LOLCerts CSV export repeats its YAML."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError("no such threat-intel feed file or folder", context=str(path))
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in _YAML_SUFFIXES and p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(path).parts))
    if not files:
        raise InputError("folder holds no LOLCerts YAML (*.yml, *.yaml)", context=str(path))
    return files


def load_intel(paths: Iterable[Path | str]) -> IntelDatabase:
    """One database from feed files and folders; unusable entries are left out and listed in `warnings`."""
    entries: list[IntelEntry] = []
    warnings: list[str] = []
    for path in paths:
        for file in _feed_files(Path(path)):
            feed = load_feed(file)
            entries.extend(feed.entries)
            warnings.extend(feed.warnings)
    return IntelDatabase(entries, warnings)
