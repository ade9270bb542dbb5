"""One signify SignedData (embedded Authenticode signature or a catalog) -> model.Signature with a status.

signify decides whether the signature is trusted (digests, countersignature, chain to an anchor under its EKU and
time policy). When it says no, we explain why in the status vocabulary, from the chain as it really links
(chain.py) and the certificate facts, most specific reason first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from asn1crypto import x509 as asn1x509
from signify.authenticode import AuthenticodeSignature
from signify.authenticode.tsp import RFC3161SignedData
from signify.exceptions import (
    AuthenticodeInconsistentDigestAlgorithmError,
    AuthenticodeInvalidDigestError,
    CertificateNotTrustedVerificationError,
    CounterSignerError,
    CTLCertificateVerificationError,
    InvalidDigestError,
    SignifyError,
)
from signify.pkcs7 import SignedData
from signify.x509 import CertificateStore

from sigtriage.extract.certs import certificate_of
from sigtriage.extract.chain import BuiltChain, ChainEnd, build_chain
from sigtriage.extract.names import name_of
from sigtriage.extract.trust import TrustStore
from sigtriage.model import Certificate, CertificateRef, PageHashes, Signature, Status, Timestamp, WindowsStatus

CODE_SIGNING = "code_signing"
ANY_EKU = "any_extended_key_usage"
LIFETIME_SIGNING = "microsoft_lifetime_signing"

WINDOWS_STATUS = {
    Status.VALID: WindowsStatus.VALID,
    Status.UNSIGNED: WindowsStatus.NOT_SIGNED,
    Status.DIGEST_MISMATCH: WindowsStatus.HASH_MISMATCH,
    Status.UNSUPPORTED: WindowsStatus.NOT_SUPPORTED_FILE_FORMAT,
}
"""PowerShell maps WinVerifyTrust codes this way; every other outcome (untrusted root, expired, bad usage, broken
chain: CERT_E_*) is 'UnknownError' there, and 'NotTrusted' only means explicit distrust (TRUST_E_EXPLICIT_DISTRUST)."""


def windows_status(status: Status) -> WindowsStatus:
    return WINDOWS_STATUS.get(status, WindowsStatus.UNKNOWN_ERROR)


@dataclass(frozen=True)
class SignatureInput:
    """What the file-level extractor knows about one SignedData before judging it."""

    signed_data: SignedData
    index: int
    parent: int | None
    source: str
    digest_algorithm: str
    signed_digest: bytes
    computed_digest: bytes | None
    page_hashes_present: bool = False
    check_page_hashes: Callable[[], None] | None = None


class CertificateCache:
    """model.Certificate per DER, so a certificate embedded in several signatures is described once."""

    def __init__(self) -> None:
        self._cache: dict[bytes, Certificate] = {}

    def __call__(self, cert: asn1x509.Certificate) -> Certificate:
        key = cert.sha256
        if key not in self._cache:
            self._cache[key] = certificate_of(cert)
        return self._cache[key]


def _issued_cert(store: Any, info: Any) -> asn1x509.Certificate | None:
    """The certificate a SignerInfo names by issuer and serial, if the signature embeds it."""
    found = next(iter(store.find_certificates(issuer=info.issuer, serial_number=info.serial_number)), None)
    return found.asn1 if found is not None else None


def _with_stores(stores: list[CertificateStore], check: Callable[[CertificateStore], Any]) -> None:
    """Run `check` against each store in turn until one passes; re-raise the last failure."""
    if not any(len(store) for store in stores):
        # signify treats an empty store as "use Microsoft's": with no anchors at all, nothing can be trusted
        raise CertificateNotTrustedVerificationError("no trust anchors are configured")
    for position, store in enumerate(stores):
        try:
            check(store)
            return
        except (SignifyError, ValueError):
            if position == len(stores) - 1:
                raise


def _stores(trust: TrustStore, anchors: list[asn1x509.Certificate | None]) -> list[CertificateStore]:
    """The narrowed store of the anchors our chains reached (fast), then the full store (authoritative)."""
    narrowed = trust.narrowed([a for a in anchors if a is not None]) if all(anchors) else None
    return [narrowed, trust.signify_store] if narrowed is not None else [trust.signify_store]


def _timestamp(signed_data: SignedData, trust: TrustStore,
               describe: CertificateCache) -> tuple[Timestamp | None, asn1x509.Certificate | None]:
    """The countersignature and the anchor its TSA chains to (None when it reaches none)."""
    info = signed_data.signer_info
    countersigner = info.countersigner
    if countersigner is None:
        return None, None
    pool = [c.asn1 for c in signed_data.certificates]
    if isinstance(countersigner, RFC3161SignedData):
        kind = "rfc3161"
        tsa = _issued_cert(countersigner.certificates, countersigner.signer_info)
        pool += [c.asn1 for c in countersigner.certificates]
    else:
        kind = "pkcs9"
        tsa = _issued_cert(signed_data.certificates, countersigner)
    anchor = build_chain(tsa, pool, trust.anchors).anchor if tsa is not None else None
    try:
        time = countersigner.signing_time
    except (SignifyError, ValueError, KeyError):
        time = None
    error = None

    def check(store: CertificateStore) -> None:
        context = signed_data._create_countersigner_verification_context(trusted_certificate_store=store)
        # signify keeps this check private; it is the one that decides whether the timestamp counts
        info._verify_countersigner(context, "strict")

    try:
        _with_stores(_stores(trust, [anchor]), check)
    except (SignifyError, ValueError) as exc:
        error = str(exc)
    stamp = Timestamp(
        kind=kind,
        time=time.astimezone(timezone.utc) if time else None,
        authority=name_of(tsa.subject).cn or name_of(tsa.subject).dn if tsa is not None else None,
        valid=error is None and time is not None,
        error=error,
        certificate=describe(tsa) if tsa is not None else None,
    )
    return stamp, anchor


def _verify(inp: SignatureInput, stores: list[CertificateStore], at: datetime | None, mode: str) -> None:
    def check(store: CertificateStore) -> None:
        kwargs: dict[str, Any] = {
            "trusted_certificate_store": store,
            "verification_context_kwargs": {"timestamp": at} if at else {},
            "countersignature_mode": mode,
        }
        if isinstance(inp.signed_data, AuthenticodeSignature):
            kwargs["expected_hash"] = inp.computed_digest
            kwargs["verify_additional_hashes"] = False  # page hashes are checked by the caller, once
        inp.signed_data.verify(**kwargs)

    _with_stores(stores, check)


def _effective_time(leaf: asn1x509.Certificate, timestamp: Timestamp | None, at: datetime | None) -> datetime:
    """When the signer's validity is judged: the trusted timestamp, unless lifetime signing forbids it."""
    eku = leaf.extended_key_usage_value
    lifetime = bool(eku and LIFETIME_SIGNING in eku.native)
    if timestamp and timestamp.valid and timestamp.time and not lifetime:
        return timestamp.time
    return at or datetime.now(timezone.utc)


def _key_usage_problem(leaf: asn1x509.Certificate) -> str | None:
    eku = leaf.extended_key_usage_value
    if eku is not None and not {CODE_SIGNING, ANY_EKU} & set(eku.native):
        return f"signer certificate EKU {list(eku.native)} does not allow code signing"
    ku = leaf.key_usage_value
    if ku is not None and "digital_signature" not in ku.native:
        return f"signer certificate key usage {sorted(ku.native)} lacks digitalSignature"
    return None


def _validity_problem(chain: BuiltChain, moment: datetime) -> Status | None:
    for cert in chain.certificates:
        validity = cert["tbs_certificate"]["validity"]
        if moment < validity["not_before"].native:
            return Status.NOT_YET_VALID
        if moment > validity["not_after"].native:
            return Status.EXPIRED
    return None


def _diagnose(
    exc: Exception, leaf: asn1x509.Certificate, chain: BuiltChain, timestamp: Timestamp | None, at: datetime | None
) -> tuple[Status, str]:
    """Why signify refused a signature whose digest matches, in our vocabulary."""
    if chain.end is ChainEnd.SELF_SIGNED_LEAF:
        return Status.SELF_SIGNED, "signer certificate is self-signed"
    if chain.end is ChainEnd.BROKEN:
        return Status.CHAIN_INVALID, "; ".join(chain.errors) or str(exc)
    if chain.end in (ChainEnd.UNTRUSTED_ROOT, ChainEnd.ISSUER_UNKNOWN):
        return Status.UNTRUSTED_ROOT, "; ".join(chain.errors) or "chain ends at a root that is not a trust anchor"
    moment = _effective_time(leaf, timestamp, at)
    validity = _validity_problem(chain, moment)
    if validity is not None:
        return validity, f"a certificate in the chain is {validity.value.replace('_', ' ')} at {moment.isoformat()}"
    usage = _key_usage_problem(leaf)
    if usage is not None:
        return Status.BAD_KEY_USAGE, usage
    if isinstance(exc, (CertificateNotTrustedVerificationError, CTLCertificateVerificationError)):
        return Status.UNTRUSTED_ROOT, str(exc)
    return Status.CHAIN_INVALID, str(exc)


def _judge(
    inp: SignatureInput,
    stores: list[CertificateStore],
    at: datetime | None,
    leaf: asn1x509.Certificate,
    chain: BuiltChain,
    timestamp: Timestamp | None,
) -> tuple[Status, list[str]]:
    errors: list[str] = []
    try:
        _verify(inp, stores, at, "strict")
        return Status.VALID, errors
    except CounterSignerError as exc:
        errors.append(f"timestamp not accepted: {exc}")
        first: Exception = exc
    except (AuthenticodeInvalidDigestError, InvalidDigestError) as exc:
        return Status.DIGEST_MISMATCH, [f"signed attributes do not match the signed content: {exc}"]
    except AuthenticodeInconsistentDigestAlgorithmError as exc:
        return Status.MALFORMED, [str(exc)]
    except (SignifyError, ValueError) as exc:
        first = exc
    else:  # pragma: no cover - the try returns
        raise AssertionError
    if isinstance(first, CounterSignerError):
        # judge the signature as if it had no timestamp, as Windows does with a bad countersignature
        try:
            _verify(inp, stores, at, "ignore")
            return Status.VALID, errors
        except (SignifyError, ValueError) as exc:
            first = exc
    status, reason = _diagnose(first, leaf, chain, timestamp, at)
    errors.append(reason)
    return status, errors


def describe_signature(inp: SignatureInput, trust: TrustStore, at: datetime | None, describe: CertificateCache) -> Signature:
    signed_data = inp.signed_data
    pool = [c.asn1 for c in signed_data.certificates]
    leaf = _issued_cert(signed_data.certificates, signed_data.signer_info)
    timestamp, tsa_anchor = _timestamp(signed_data, trust, describe)
    digest_valid = None if inp.computed_digest is None else inp.computed_digest == inp.signed_digest
    page_valid: bool | None = None
    errors: list[str] = []
    if inp.check_page_hashes is not None:
        try:
            inp.check_page_hashes()
            page_valid = True
        except (SignifyError, ValueError) as exc:
            page_valid = False
            errors.append(f"page hash mismatch: {exc}")
    chain = build_chain(leaf, pool, trust.anchors) if leaf is not None else None

    if digest_valid is False:
        status = Status.DIGEST_MISMATCH
        errors.insert(0, "file digest does not match the signed digest: the file was modified after signing")
    elif page_valid is False:
        status = Status.DIGEST_MISMATCH
    elif leaf is None or chain is None:
        status = Status.CHAIN_INVALID
        errors.append("the signer's certificate is not embedded in the signature")
    else:
        anchors = [chain.anchor] + ([tsa_anchor] if timestamp is not None else [])
        status, reasons = _judge(inp, _stores(trust, anchors), at, leaf, chain, timestamp)
        errors += reasons

    info = signed_data.signer_info
    return Signature(
        index=inp.index,
        parent=inp.parent,
        source=inp.source,
        digest_algorithm=inp.digest_algorithm,
        signed_digest=inp.signed_digest.hex(),
        computed_digest=inp.computed_digest.hex() if inp.computed_digest is not None else None,
        digest_valid=digest_valid,
        page_hashes=PageHashes(present=inp.page_hashes_present, valid=page_valid),
        signer=describe(leaf) if leaf is not None else None,
        chain=tuple(describe(c) for c in chain.certificates) if chain else (),
        trusted_root=(
            CertificateRef(subject=name_of(chain.anchor.subject).dn, sha256=chain.anchor.sha256.hex())
            if chain is not None and chain.anchor is not None and status is Status.VALID
            else None
        ),
        embedded_certificates=tuple(describe(c) for c in pool),
        timestamp=timestamp,
        signing_time_claimed=_claimed_signing_time(info),
        program_name=getattr(info, "program_name", None),
        more_info_url=getattr(info, "more_info", None),
        status=status,
        windows_status=windows_status(status),
        errors=tuple(errors),
    )


def _claimed_signing_time(info: Any) -> datetime | None:
    try:
        value = info.signing_time
    except (SignifyError, ValueError, KeyError):
        return None
    return value.astimezone(timezone.utc) if value else None
