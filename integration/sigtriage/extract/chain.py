"""Build the certificate chain of a signer as it really links, independent of trust policy.

signify tells us whether a signature is trusted; it does not tell an analyst *why not* in the terms a SOC needs
(self-signed? unknown root? a forged or wrong intermediate?). This module walks issuer links from the signer,
checking every issuer signature with `cryptography`, so the report can show the chain as built and the exact
link that fails. Trust (anchors, time, EKU policy) is decided elsewhere (signatures.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from asn1crypto import x509 as asn1x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa

from sigtriage.extract.names import name_of

MAX_DEPTH = 8

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "md5": hashes.MD5,
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


class LinkError(Exception):
    """An issuer link that cannot be verified; the message says why, for the analyst."""


def _hash_for(cert: asn1x509.Certificate) -> hashes.HashAlgorithm:
    name = cert["signature_algorithm"].hash_algo
    if name not in _HASHES:
        raise LinkError(f"unsupported signature hash {name}")
    return _HASHES[name]()


def verify_link(subject: asn1x509.Certificate, issuer: asn1x509.Certificate) -> None:
    """Raise LinkError unless `issuer`'s key produced `subject`'s signature."""
    try:
        key = serialization.load_der_public_key(issuer.public_key.dump())
    except (ValueError, UnsupportedAlgorithm) as exc:
        params = issuer.public_key["algorithm"]["parameters"]
        if issuer.public_key.algorithm == "ec" and params.name == "specified":
            raise LinkError(
                "issuer key uses explicit EC curve parameters (the CVE-2020-0601 'CurveBall' spoofing pattern)"
            ) from exc
        raise LinkError(f"issuer public key cannot be loaded: {exc}") from exc
    tbs = subject["tbs_certificate"].dump()
    signature = subject["signature_value"].native
    algo = subject["signature_algorithm"]
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if algo.signature_algo == "rsassa_pss":
                params = algo["parameters"]
                digest = _HASHES[params["hash_algorithm"]["algorithm"].native]()
                pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=params["salt_length"].native)
                key.verify(signature, tbs, pss, digest)
            else:
                key.verify(signature, tbs, padding.PKCS1v15(), _hash_for(subject))
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, tbs, ec.ECDSA(_hash_for(subject)))
        elif isinstance(key, dsa.DSAPublicKey):
            key.verify(signature, tbs, _hash_for(subject))
        elif isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            key.verify(signature, tbs)
        else:
            raise LinkError(f"unsupported issuer key type {type(key).__name__}")
    except InvalidSignature as exc:
        raise LinkError("signature does not verify with the issuer's key") from exc
    except (ValueError, UnsupportedAlgorithm, KeyError) as exc:
        raise LinkError(f"signature cannot be checked: {exc}") from exc


def signature_verifies(subject: asn1x509.Certificate, issuer: asn1x509.Certificate) -> bool:
    try:
        verify_link(subject, issuer)
    except LinkError:
        return False
    return True


class ChainEnd(str, Enum):
    ANCHOR = "anchor"
    """Reached a configured trust anchor."""
    SELF_SIGNED_LEAF = "self_signed_leaf"
    UNTRUSTED_ROOT = "untrusted_root"
    """Ended at a self-signed root that is not an anchor."""
    ISSUER_UNKNOWN = "issuer_unknown"
    """No certificate with the issuer's name is embedded or anchored."""
    BROKEN = "broken"
    """A certificate names an issuer that is present, but no such issuer verifies it (forged or wrong intermediate)."""


@dataclass(frozen=True)
class BuiltChain:
    certificates: tuple[asn1x509.Certificate, ...]
    end: ChainEnd
    anchor: asn1x509.Certificate | None
    errors: tuple[str, ...]
    mismatched: tuple[asn1x509.Certificate, ...]
    """Embedded certificates that carry the issuer's name but did not verify the link below them."""


class AnchorIndex:
    """Trust anchors indexed by subject, built once and shared by all files of a run."""

    def __init__(self, anchors: list[asn1x509.Certificate]) -> None:
        self._by_subject: dict[bytes, list[asn1x509.Certificate]] = {}
        self._fingerprints: set[bytes] = set()
        for cert in anchors:
            self._by_subject.setdefault(cert.subject.dump(), []).append(cert)
            self._fingerprints.add(cert.sha256)

    def issuers_of(self, cert: asn1x509.Certificate) -> list[asn1x509.Certificate]:
        return self._by_subject.get(cert.issuer.dump(), [])

    def is_anchor(self, cert: asn1x509.Certificate) -> bool:
        if cert.sha256 in self._fingerprints:
            return True
        # the same key and name as an anchor (a re-issued root) is that anchor
        return any(a.public_key.dump() == cert.public_key.dump() for a in self._by_subject.get(cert.subject.dump(), []))

    def __len__(self) -> int:
        return len(self._fingerprints)


def _name(cert: asn1x509.Certificate) -> str:
    return name_of(cert.subject).dn


def build_chain(leaf: asn1x509.Certificate, pool: list[asn1x509.Certificate], anchors: AnchorIndex) -> BuiltChain:
    chain = [leaf]
    errors: list[str] = []
    mismatched: list[asn1x509.Certificate] = []
    current = leaf
    for _ in range(MAX_DEPTH):
        if anchors.is_anchor(current):
            return BuiltChain(tuple(chain), ChainEnd.ANCHOR, current, tuple(errors), tuple(mismatched))
        if current.subject == current.issuer and signature_verifies(current, current):
            end = ChainEnd.SELF_SIGNED_LEAF if len(chain) == 1 else ChainEnd.UNTRUSTED_ROOT
            return BuiltChain(tuple(chain), end, None, tuple(errors), tuple(mismatched))
        anchored = anchors.issuers_of(current)
        embedded = [c for c in pool if c.subject == current.issuer and c.sha256 != current.sha256]
        if not anchored and not embedded:
            errors.append(f"issuer '{name_of(current.issuer).dn}' of '{_name(current)}' is neither embedded nor a trust anchor")
            return BuiltChain(tuple(chain), ChainEnd.ISSUER_UNKNOWN, None, tuple(errors), tuple(mismatched))
        issuer = None
        link_errors = []
        for candidate in anchored + embedded:
            try:
                verify_link(current, candidate)
            except LinkError as exc:
                link_errors.append(f"'{_name(current)}' is not signed by '{_name(candidate)}': {exc}")
                if any(candidate is c for c in embedded):
                    mismatched.append(candidate)
                continue
            issuer = candidate
            break
        if issuer is None:
            errors.extend(link_errors)
            return BuiltChain(tuple(chain), ChainEnd.BROKEN, None, tuple(errors), tuple(mismatched))
        if any(c.sha256 == issuer.sha256 for c in chain):
            errors.append("certificate chain loops")
            return BuiltChain(tuple(chain), ChainEnd.BROKEN, None, tuple(errors), tuple(mismatched))
        chain.append(issuer)
        current = issuer
    errors.append(f"chain longer than {MAX_DEPTH} certificates")
    return BuiltChain(tuple(chain), ChainEnd.BROKEN, None, tuple(errors), tuple(mismatched))
