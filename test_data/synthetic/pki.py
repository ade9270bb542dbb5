"""A throw-away test PKI (root, intermediates, code-signing leaves, a TSA) built with `cryptography`.

Keys are derived from a label with a hash-based generator instead of the OS RNG, so a fixed `now` gives
byte-identical certificates on every run and every machine: regenerated test files do not churn, and a
failing case can be reproduced exactly. These keys are public by construction; never use them for anything real.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from math import gcd
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

_E = 65537


def _odd_primes_below(limit: int) -> list[int]:
    flags = bytearray([1]) * limit
    for i in range(2, int(limit**0.5) + 1):
        if flags[i]:
            flags[i * i :: i] = bytes(len(range(i * i, limit, i)))
    return [p for p in range(3, limit, 2) if flags[p]]


_SIEVE_PRIMES = _odd_primes_below(1 << 16)
_SIEVE_WINDOW = 4096
_MR_BASES = (2, 3, 5, 7, 11, 13, 17, 19)
"""Fixed Miller-Rabin bases suffice: candidates are pseudo-random, not adversarial (FIPS 186-5 asks for 5-7 rounds)."""

CODE_SIGNING = (ExtendedKeyUsageOID.CODE_SIGNING,)
DIGITAL_SIGNATURE = frozenset({"digital_signature"})
_KEY_USAGE_FLAGS = (
    "digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
    "key_cert_sign", "crl_sign", "encipher_only", "decipher_only",
)


@dataclass(frozen=True)
class Identity:
    """A private key and the certificate for it."""

    key: rsa.RSAPrivateKey
    cert: x509.Certificate


def utcnow() -> datetime:
    """Current time truncated to seconds, which is all X.509 and Authenticode can express."""
    return datetime.now(UTC).replace(microsecond=0)


def _is_probable_prime(n: int) -> bool:
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in _MR_BASES:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(label: bytes, bits: int) -> int:
    """The first prime at or after a label-seeded odd start with the top two bits set.

    A sieve over a window of odd numbers leaves only a few dozen candidates for the (slow, pure-Python)
    Miller-Rabin test, which keeps a 2048-bit key to a fraction of a second.
    """
    counter = 0
    while True:
        digest = hashlib.shake_256(label + counter.to_bytes(8, "big")).digest(bits // 8)
        counter += 1
        start = int.from_bytes(digest, "big") | (3 << (bits - 2)) | 1
        composite = bytearray(_SIEVE_WINDOW)  # index k stands for start + 2k
        for p in _SIEVE_PRIMES:
            k = -start * ((p + 1) // 2) % p  # (p + 1) // 2 is the inverse of 2 mod p
            composite[k::p] = b"\1" * len(range(k, _SIEVE_WINDOW, p))
        for k in range(_SIEVE_WINDOW):
            candidate = start + 2 * k
            if (
                not composite[k]
                and candidate.bit_length() == bits
                and gcd(_E, candidate - 1) == 1
                and _is_probable_prime(candidate)
            ):
                return candidate


@cache
def deterministic_rsa_key(label: str, key_size: int = 2048) -> rsa.RSAPrivateKey:
    """An RSA key that depends only on (label, key_size); top bits set on both primes give exactly key_size bits."""
    seed = f"sigtriage-test-pki/{key_size}/{label}/".encode()
    p = _prime(seed + b"p", key_size // 2)
    q = _prime(seed + b"q", key_size // 2)
    d = pow(_E, -1, (p - 1) * (q - 1) // gcd(p - 1, q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p=p, q=q, d=d,
        dmp1=rsa.rsa_crt_dmp1(d, p), dmq1=rsa.rsa_crt_dmq1(d, q), iqmp=rsa.rsa_crt_iqmp(p, q),
        public_numbers=rsa.RSAPublicNumbers(_E, p * q),
    )
    # Validation (~40 ms a key) is redundant: the primes were just tested and d, the CRT values derived here.
    return numbers.private_key(unsafe_skip_rsa_key_validation=True)


def _serial(label: str) -> int:
    """A positive, 127-bit serial derived from the label (RFC 5280 allows up to 20 octets)."""
    return int.from_bytes(hashlib.sha256(label.encode()).digest()[:16], "big") >> 1 | 1 << 120


def _name(cn: str, o: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "XX")]
    if o is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, o))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attributes)


def _key_usage(flags: Iterable[str]) -> x509.KeyUsage:
    flags = set(flags)
    unknown = flags - set(_KEY_USAGE_FLAGS)
    if unknown:
        raise ValueError(f"unknown key usage flags: {sorted(unknown)}")
    return x509.KeyUsage(**{flag: flag in flags for flag in _KEY_USAGE_FLAGS})


def _issue(
    *,
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer: Identity | None,
    not_before: datetime,
    not_after: datetime,
    serial: int,
    ca: bool,
    key_usage: Iterable[str],
    eku: Iterable[x509.ObjectIdentifier] | None = None,
    eku_critical: bool = False,
    crl_url: str | None = None,
    ocsp_url: str | None = None,
    ca_issuers_url: str | None = None,
) -> x509.Certificate:
    """Sign a certificate with the issuer's key, or self-sign when `issuer` is None."""
    signer_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca and issuer else None), critical=True)
        .add_extension(_key_usage(key_usage), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()), critical=False
        )
    )
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=eku_critical)
    if crl_url:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    access = [
        x509.AccessDescription(method, x509.UniformResourceIdentifier(url))
        for method, url in (
            (AuthorityInformationAccessOID.OCSP, ocsp_url),
            (AuthorityInformationAccessOID.CA_ISSUERS, ca_issuers_url),
        )
        if url
    ]
    if access:
        builder = builder.add_extension(x509.AuthorityInformationAccess(access), critical=False)
    return builder.sign(signer_key, hashes.SHA256())


def root_ca(name: str = "sigtriage Test Root CA", *, now: datetime | None = None) -> Identity:
    """A self-signed root, valid ten years either side of `now`."""
    now = now or utcnow()
    key = deterministic_rsa_key(f"root:{name}")
    cert = _issue(
        subject=_name(name, "sigtriage Test PKI"), key=key, issuer=None,
        not_before=now - timedelta(days=3650), not_after=now + timedelta(days=3650),
        serial=_serial(f"root:{name}"), ca=True, key_usage={"key_cert_sign", "crl_sign"},
    )
    return Identity(key, cert)


def intermediate_ca(
    root: Identity,
    *,
    name: str = "sigtriage Test Code Signing CA",
    key_label: str = "A",
    now: datetime | None = None,
) -> Identity:
    """A CA under `root`. A different `key_label` with the same `name` gives a look-alike CA with its own key."""
    now = now or utcnow()
    label = f"intermediate:{name}:{key_label}"
    key = deterministic_rsa_key(label)
    cert = _issue(
        subject=_name(name, "sigtriage Test PKI"), key=key, issuer=root,
        not_before=now - timedelta(days=1825), not_after=now + timedelta(days=1825),
        serial=_serial(label), ca=True, key_usage={"key_cert_sign", "crl_sign"},
    )
    return Identity(key, cert)


def code_signing_leaf(
    issuer: Identity,
    cn: str,
    o: str | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    *,
    eku: Iterable[x509.ObjectIdentifier] = CODE_SIGNING,
    key_usage: Iterable[str] = DIGITAL_SIGNATURE,
    crl_url: str | None = None,
    ocsp_url: str | None = None,
    ca_issuers_url: str | None = None,
    key_size: int = 2048,
    serial: int | None = None,
) -> Identity:
    """An end-entity signing certificate; validity defaults to now-30d .. now+365d."""
    now = utcnow()
    not_before = not_before or now - timedelta(days=30)
    not_after = not_after or now + timedelta(days=365)
    eku = tuple(eku)
    label = (
        f"leaf:{issuer.cert.subject.rfc4514_string()}:{cn}:{o}:{key_size}:{serial}:"
        f"{not_before.isoformat()}:{not_after.isoformat()}:{[oid.dotted_string for oid in eku]}"
    )
    key = deterministic_rsa_key(label, key_size)
    cert = _issue(
        subject=_name(cn, o), key=key, issuer=issuer, not_before=not_before, not_after=not_after,
        serial=serial if serial is not None else _serial(label), ca=False, key_usage=key_usage, eku=eku,
        crl_url=crl_url, ocsp_url=ocsp_url, ca_issuers_url=ca_issuers_url,
    )
    return Identity(key, cert)


def self_signed_leaf(cn: str, *, o: str | None = None, now: datetime | None = None) -> Identity:
    """A self-signed code-signing certificate, as produced by New-SelfSignedCertificate or `makecert -r`."""
    now = now or utcnow()
    key = deterministic_rsa_key(f"self-signed:{cn}:{o}")
    cert = _issue(
        subject=_name(cn, o), key=key, issuer=None,
        not_before=now - timedelta(days=30), not_after=now + timedelta(days=365),
        serial=_serial(f"self-signed:{cn}:{o}"), ca=False, key_usage=DIGITAL_SIGNATURE, eku=CODE_SIGNING,
    )
    return Identity(key, cert)


def tsa(root: Identity, *, name: str = "sigtriage Test TSA", now: datetime | None = None) -> Identity:
    """A time-stamping authority under `root`; RFC 3161 requires its EKU to be timeStamping only, critical."""
    now = now or utcnow()
    key = deterministic_rsa_key(f"tsa:{name}")
    cert = _issue(
        subject=_name(name, "sigtriage Test PKI"), key=key, issuer=root,
        not_before=now - timedelta(days=1825), not_after=now + timedelta(days=1825),
        serial=_serial(f"tsa:{name}"), ca=False, key_usage=DIGITAL_SIGNATURE,
        eku=(ExtendedKeyUsageOID.TIME_STAMPING,), eku_critical=True,
    )
    return Identity(key, cert)


def write_key(path: Path, key: rsa.RSAPrivateKey) -> Path:
    """Unencrypted PKCS#8 PEM, as osslsigncode's -key and -TSA-key expect."""
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return path


def write_certs(path: Path, certs: Iterable[x509.Certificate]) -> Path:
    """Concatenated PEM certificates (leaf first), for -certs, -TSA-certs and -CAfile."""
    path.write_bytes(b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in certs))
    return path


def write_der(path: Path, cert: x509.Certificate) -> Path:
    """One DER certificate, the form Windows tools and most trust stores import."""
    path.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    return path


def write_pkcs12(
    path: Path, identity: Identity, chain: Iterable[x509.Certificate] = (), *, password: bytes | None = None
) -> Path:
    """A PKCS#12 bundle (key, certificate, extra chain), for osslsigncode's -pkcs12 and signtool's /f."""
    encryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    )
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(b"sigtriage", identity.key, identity.cert, list(chain) or None,
                                              encryption)
    )
    return path
