"""The organisation's baseline of trusted software: pinned publishers, internal CAs, blocklists, thresholds."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PinnedPublisher:
    """A publisher approved by certificate identity: the name alone is only a weak, secondary signal."""

    name: str
    certificates: tuple[str, ...] = ()
    """SHA-256 thumbprints of the leaf or of an issuing CA in the chain."""
    spki: tuple[str, ...] = ()
    """SHA-256 of a SubjectPublicKeyInfo (survives certificate renewal with the same key)."""
    roots: tuple[str, ...] = ()
    """SHA-256 thumbprints of the roots the chain must end at; empty = any trusted root."""
    names: tuple[str, ...] = ()
    """Publisher names (signer O/CN, CompanyName) this publisher uses."""


@dataclass(frozen=True)
class BlockedCertificate:
    sha256: str | None
    issuer: str | None
    serial: str | None
    """DER INTEGER content bytes, hex."""
    reason: str


@dataclass(frozen=True)
class Thresholds:
    recent_issue_days: int = 30
    rare_max_sightings: int = 3
    rare_max_hosts: int = 2


@dataclass(frozen=True)
class Baseline:
    name: str
    version: int
    publishers: tuple[PinnedPublisher, ...] = ()
    internal_ca_pems: tuple[str, ...] = ()
    """PEM text of enterprise signing roots: extra trust anchors."""
    blocked_certificates: tuple[BlockedCertificate, ...] = ()
    approved_hashes: frozenset[str] = frozenset()
    blocked_hashes: frozenset[str] = frozenset()
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Canonical publisher name -> other names it legitimately appears under (e.g. Microsoft: Sysinternals)."""
    thresholds: Thresholds = Thresholds()
    weights: dict[str, float] = field(default_factory=dict)
    """Per finding code, overriding the default weights of the score."""
    digest: str = ""
    """SHA-256 of the baseline's content: part of the triage key, so an edit is a new decision even when the
    version was not bumped."""

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"
