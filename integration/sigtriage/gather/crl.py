"""CRLs: load (DER or PEM), decide whether one may speak for a certificate, look the serial up."""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from sigtriage.gather.answer import CLOCK_SKEW, GOOD, Answer, revoked, unknown
from sigtriage.gather.target import Target


def load_crl(data: bytes) -> x509.CertificateRevocationList:
    """ValueError if `data` is not a CRL."""
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)


def signed_by(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    try:
        return crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
    except (TypeError, ValueError, UnsupportedAlgorithm):
        return False  # a key type cryptography cannot verify with proves nothing either


def crl_problem(crl: x509.CertificateRevocationList, target: Target, issuer: x509.Certificate) -> str | None:
    """Why `crl` cannot answer for `target`, or None when it can."""
    if crl.issuer != target.cert.issuer:
        return f"CRL is issued by '{crl.issuer.rfc4514_string()}', not by the certificate's issuer"
    if not signed_by(crl, issuer):
        return "CRL signature does not verify with the issuer's public key"
    try:
        extensions = crl.extensions
    except ValueError as exc:
        return f"CRL has a malformed extension: {exc}"
    if any(isinstance(e.value, x509.DeltaCRLIndicator) for e in extensions):
        return "delta CRL (only a complete CRL can show a certificate is not revoked)"
    for extension in extensions:
        if isinstance(extension.value, x509.IssuingDistributionPoint):
            return _scope_problem(extension.value, target)
    return None


def _scope_problem(idp: x509.IssuingDistributionPoint, target: Target) -> str | None:
    """A partitioned CRL lists only part of the issuer's revocations: absence from it proves nothing for the rest."""
    if idp.indirect_crl or idp.only_contains_attribute_certs or idp.only_some_reasons:
        return "indirect or reason-partitioned CRL (not supported)"
    if idp.only_contains_ca_certs and not target.facts.is_ca:
        return "CRL covers CA certificates only"
    if idp.only_contains_user_certs and target.facts.is_ca:
        return "CRL covers end-entity certificates only"
    scope = {n.value for n in idp.full_name or () if isinstance(n, x509.UniformResourceIdentifier)}
    if scope and target.facts.crl_urls and not scope & set(target.facts.crl_urls):
        return "CRL is for another distribution point of the issuer"
    return None


def crl_answer(crl: x509.CertificateRevocationList, target: Target, issuer: x509.Certificate, now: datetime) -> Answer:
    """Call inside quiet_serial_warnings() (reads the serial)."""
    problem = crl_problem(crl, target, issuer)
    if problem:
        return unknown(problem)
    try:
        entry = _entry_for(crl, target.cert.serial_number)
        if entry is not None:
            # revocation is permanent, so an entry counts even in a stale CRL
            return revoked(entry.revocation_date_utc, _reason(entry))
    except ValueError as exc:
        return unknown(f"CRL entry cannot be read: {exc}")
    if crl.last_update_utc > now + CLOCK_SKEW:
        return unknown(f"CRL thisUpdate {crl.last_update_utc:%Y-%m-%dT%H:%M:%SZ} is in the future")
    if crl.next_update_utc is not None and now > crl.next_update_utc + CLOCK_SKEW:
        return unknown(f"stale CRL: nextUpdate was {crl.next_update_utc:%Y-%m-%dT%H:%M:%SZ}")
    return GOOD


def _entry_for(crl: x509.CertificateRevocationList, serial: int) -> x509.RevokedCertificate | None:
    if serial > 0:
        return crl.get_revoked_certificate_by_serial_number(serial)
    # the indexed lookup refuses non-positive serials, which real Authenticode certificates have
    return next((entry for entry in crl if entry.serial_number == serial), None)


def _reason(entry: x509.RevokedCertificate) -> str | None:
    try:
        return entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.name
    except x509.ExtensionNotFound:
        return None
