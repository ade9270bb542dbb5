"""X.509 certificate -> model.Certificate, from asn1crypto (what signify hands us).

asn1crypto rather than `cryptography` here because it parses certificates that `cryptography` rejects or warns
about (negative serials, explicit EC parameters as in CVE-2020-0601): an analyser must describe those, not
crash on them. `cryptography` does the signature checks (chain.py), where strictness is what we want.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import timezone
from typing import Any

from asn1crypto import x509 as asn1x509

from sigtriage.extract.chain import signature_verifies
from sigtriage.extract.names import name_of
from sigtriage.model import Certificate


def serial_der_hex(cert: asn1x509.Certificate) -> str:
    """The serial's DER INTEGER content bytes: the one form that compares equal across tools and feeds."""
    return bytes(cert["tbs_certificate"]["serial_number"].contents).hex()


def _serial_int_hex(value: int) -> str:
    return f"-{-value:x}" if value < 0 else f"{value:x}"


def _uri(general_name: Any) -> str:
    """The URI exactly as encoded: asn1crypto's .native re-normalises it and drops an IPv6 literal's brackets."""
    return str(bytes(general_name.chosen.contents).decode("ascii", errors="replace"))


def _urls(cert: asn1x509.Certificate) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    crl: list[str] = []
    for point in cert.crl_distribution_points or []:
        full = point["distribution_point"]
        if full.name == "full_name":
            crl += [_uri(g) for g in full.chosen if g.name == "uniform_resource_identifier"]
    ocsp: list[str] = []
    issuers: list[str] = []
    aia = cert.authority_information_access_value
    for desc in aia or []:
        location = desc["access_location"]
        if location.name != "uniform_resource_identifier":
            continue
        if desc["access_method"].native == "ocsp":
            ocsp.append(_uri(location))
        elif desc["access_method"].native == "ca_issuers":
            issuers.append(_uri(location))
    return tuple(crl), tuple(ocsp), tuple(issuers)


def _key_facts(cert: asn1x509.Certificate) -> tuple[str, int | None]:
    info = cert.public_key
    algorithm = info.algorithm
    try:
        size: int | None = info.bit_size
    except (ValueError, TypeError, KeyError):
        # explicit or unknown EC parameters (CVE-2020-0601): asn1crypto cannot name the curve
        size = None
    return algorithm, size


def _self_signed(cert: asn1x509.Certificate) -> bool:
    """Names match *and* the certificate's own key verifies its signature (a CA that merely repeats a name is not)."""
    return cert.subject == cert.issuer and signature_verifies(cert, cert)


def certificate_of(cert: asn1x509.Certificate) -> Certificate:
    der = cert.dump()
    valid = cert["tbs_certificate"]["validity"]
    key_algorithm, key_size = _key_facts(cert)
    crl, ocsp, issuers = _urls(cert)
    ku = cert.key_usage_value
    eku = cert.extended_key_usage_value
    basic = cert.basic_constraints_value
    return Certificate(
        subject=name_of(cert.subject),
        issuer=name_of(cert.issuer),
        serial=serial_der_hex(cert),
        serial_int_hex=_serial_int_hex(cert.serial_number),
        sha1=hashlib.sha1(der).hexdigest(),
        sha256=hashlib.sha256(der).hexdigest(),
        spki_sha256=hashlib.sha256(cert.public_key.dump()).hexdigest(),
        not_before=valid["not_before"].native.astimezone(timezone.utc),
        not_after=valid["not_after"].native.astimezone(timezone.utc),
        key_algorithm=key_algorithm,
        key_size=key_size,
        signature_algorithm=cert["signature_algorithm"].signature_algo + "-" + _hash_name(cert),
        ekus=tuple(str(p) for p in (eku.native if eku else [])),
        key_usage=tuple(sorted(ku.native)) if ku else (),
        is_ca=bool(basic and basic["ca"].native),
        self_issued=cert.subject == cert.issuer,
        self_signed=_self_signed(cert),
        crl_urls=crl,
        ocsp_urls=ocsp,
        ca_issuer_urls=issuers,
        der_base64=base64.b64encode(der).decode("ascii"),
    )


def _hash_name(cert: asn1x509.Certificate) -> str:
    try:
        return str(cert["signature_algorithm"].hash_algo)
    except ValueError:
        return "unknown"
