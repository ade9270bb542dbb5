"""OCSP: build the request, and accept a response only if it is for our certificate, signed, and current.

Signature: by the issuer itself, or by a delegated responder certificate included in the response that the
issuer signed directly and that carries the id-kp-OCSPSigning EKU and is valid now (RFC 6960 4.2.2.2).
RSA-PSS-signed responses are reported as unverifiable: cryptography exposes no PSS parameters for OCSP.
No nonce is sent: most CA responders serve pre-signed responses and ignore it; freshness is judged from
thisUpdate/nextUpdate instead.
"""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, SignatureAlgorithmOID

from sigtriage.gather.answer import CLOCK_SKEW, GOOD, Answer, revoked, unknown


def ocsp_request(cert: x509.Certificate, issuer: x509.Certificate) -> bytes:
    """DER OCSPRequest; SHA-1 CertID because that is what every responder understands (RFC 5019)."""
    request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()
    return request.public_bytes(serialization.Encoding.DER)


def ocsp_answer(data: bytes, cert: x509.Certificate, issuer: x509.Certificate, now: datetime) -> Answer:
    """Call inside quiet_serial_warnings() (reads the serial)."""
    try:
        response = ocsp.load_der_ocsp_response(data)
    except ValueError as exc:
        return unknown(f"unparseable OCSP response: {exc}")
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        return unknown(f"OCSP responder answered '{response.response_status.name.lower()}'")
    single = _single_for(response, cert, issuer)
    if single is None:
        return unknown("OCSP response is not about this certificate")
    problem = _signature_problem(response, issuer, now)
    if problem:
        return unknown(problem)
    if single.certificate_status == ocsp.OCSPCertStatus.REVOKED:
        reason = single.revocation_reason.name if single.revocation_reason is not None else None
        return revoked(single.revocation_time_utc, reason)
    if single.certificate_status == ocsp.OCSPCertStatus.UNKNOWN:
        return unknown("OCSP responder does not know this certificate")
    if single.this_update_utc > now + CLOCK_SKEW:
        return unknown(f"OCSP thisUpdate {single.this_update_utc:%Y-%m-%dT%H:%M:%SZ} is in the future")
    if single.next_update_utc is not None and now > single.next_update_utc + CLOCK_SKEW:
        return unknown(f"stale OCSP response: nextUpdate was {single.next_update_utc:%Y-%m-%dT%H:%M:%SZ}")
    return GOOD


def _single_for(
    response: ocsp.OCSPResponse, cert: x509.Certificate, issuer: x509.Certificate
) -> ocsp.OCSPSingleResponse | None:
    """The SingleResponse whose CertID is ours, computed with whatever hash the responder chose."""
    for single in response.responses:
        try:
            expected = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, single.hash_algorithm).build()
        except (ValueError, TypeError, UnsupportedAlgorithm):
            continue
        if (single.serial_number, single.issuer_name_hash, single.issuer_key_hash) == (
            expected.serial_number,
            expected.issuer_name_hash,
            expected.issuer_key_hash,
        ):
            return single
    return None


def _signature_problem(response: ocsp.OCSPResponse, issuer: x509.Certificate, now: datetime) -> str | None:
    if response.signature_algorithm_oid == SignatureAlgorithmOID.RSASSA_PSS:
        return "OCSP response is signed with RSA-PSS, which sigtriage cannot verify"
    signers = [issuer] + [c for c in response.certificates if _is_delegated_responder(c, issuer, now)]
    if any(_signed_by(response, signer) for signer in signers):
        return None
    return "OCSP response signature does not verify (neither the issuer nor an authorised responder signed it)"


def _is_delegated_responder(cert: x509.Certificate, issuer: x509.Certificate, now: datetime) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
        usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm, x509.ExtensionNotFound):
        return False
    return ExtendedKeyUsageOID.OCSP_SIGNING in usage and cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


def _signed_by(response: ocsp.OCSPResponse, signer: x509.Certificate) -> bool:
    try:
        key = signer.public_key()
        data, signature, digest = response.tbs_response_bytes, response.signature, response.signature_hash_algorithm
        if isinstance(key, rsa.RSAPublicKey) and digest is not None:
            key.verify(signature, data, padding.PKCS1v15(), digest)
        elif isinstance(key, ec.EllipticCurvePublicKey) and digest is not None:
            key.verify(signature, data, ec.ECDSA(digest))
        elif isinstance(key, dsa.DSAPublicKey) and digest is not None:
            key.verify(signature, data, digest)
        elif isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            key.verify(signature, data)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True
