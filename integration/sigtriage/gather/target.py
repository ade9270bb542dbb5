"""The certificates whose revocation is checked, parsed with `cryptography`, each with its issuer."""

from __future__ import annotations

import base64
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning

from sigtriage.model import Certificate, Signature


@dataclass(frozen=True)
class Target:
    facts: Certificate
    cert: x509.Certificate
    issuer: x509.Certificate | None
    """The next certificate up the chain; None when the chain stops short of it."""


@contextmanager
def quiet_serial_warnings() -> Iterator[None]:
    """Silence cryptography's warning about non-positive serials for the work inside.

    Real Authenticode certificates have negative serials; cryptography still parses them but warns on load and
    on every `serial_number` read, so all work on a parsed certificate runs inside this (the warning would
    otherwise reach users, or fail the test suite, which turns warnings into errors).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Parsed a serial number", category=CryptographyDeprecationWarning)
        yield


def load_certificate(facts: Certificate) -> x509.Certificate:
    """Call inside quiet_serial_warnings(). ValueError if cryptography cannot parse it."""
    return x509.load_der_x509_certificate(base64.b64decode(facts.der_base64))


def certificates_to_check(signatures: tuple[Signature, ...]) -> list[tuple[Certificate, Certificate | None]]:
    """Leaf and intermediates of every chain (not roots or trust anchors), once each, with their issuer."""
    found: dict[str, tuple[Certificate, Certificate | None]] = {}
    for signature in signatures:
        chain = signature.chain or ((signature.signer,) if signature.signer else ())
        anchor = signature.trusted_root.sha256 if signature.trusted_root else None
        for position, cert in enumerate(chain):
            if cert.self_signed or cert.sha256 == anchor:
                continue
            issuer = chain[position + 1] if position + 1 < len(chain) else None
            # the same intermediate often serves several signatures: keep the entry that knows its issuer
            if cert.sha256 not in found or found[cert.sha256][1] is None:
                found[cert.sha256] = (cert, issuer)
    return list(found.values())
