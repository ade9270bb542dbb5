"""Evidence gathered from outside the binary: revocation, threat intel, prevalence. Facts only; judge decides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class RevocationState(str, Enum):
    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"
    """A check was attempted and gave no answer (timeout, blocked URL, bad response, no CRL/OCSP URL)."""
    NOT_CHECKED = "not_checked"
    """Revocation mode is `off`."""


@dataclass(frozen=True)
class RevocationCheck:
    """The revocation status of one certificate, from one source."""

    certificate: str
    """SHA-256 thumbprint of the certificate checked."""
    subject: str
    state: RevocationState
    method: str | None
    """'crl', 'ocsp', 'offline-crl' or None."""
    source: str | None
    """URL or file the answer came from."""
    revoked_at: datetime | None = None
    reason: str | None = None
    """CRL/OCSP reason code name, e.g. 'key_compromise'."""
    error: str | None = None


@dataclass(frozen=True)
class RevocationEvidence:
    """All revocation checks for the signer and intermediates of a file, under one mode."""

    mode: str
    """'off', 'soft-fail', 'hard-fail' or 'require'."""
    checks: tuple[RevocationCheck, ...]


@dataclass(frozen=True)
class IntelEntry:
    """One known-abused certificate from a feed."""

    source: str
    """'lolcerts', 'malwarebazaar' or 'baseline'."""
    sha256: str | None
    """SHA-256 thumbprint of the certificate DER, lower-case hex."""
    issuer: str | None
    """Issuer CN (or DN) as the feed gives it."""
    serial: str | None
    """Serial as DER INTEGER content bytes, lower-case hex (see model.Certificate.serial)."""
    subject: str | None
    reason: str | None
    listed: datetime | None
    reference: str | None


@dataclass(frozen=True)
class IntelMatch:
    """A certificate of the file that matches a feed entry, and how."""

    certificate: str
    matched_by: str
    """'sha256' or 'issuer+serial'."""
    entry: IntelEntry


@dataclass(frozen=True)
class Prevalence:
    """How often the organisation has seen a certificate or publisher (from the prevalence store)."""

    key: str
    """'cert:<sha256>' or 'publisher:<normalised name>'."""
    first_seen: datetime | None
    last_seen: datetime | None
    sightings: int
    hosts: int
