"""Revocation checking against a small PKI built here (root -> intermediate -> leaf), served through `responses`.

No network: HTTP goes through `responses`, names resolve through a fake resolver (see test_net_guard.py for
why it answers with a public address), and any real DNS lookup fails the test.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from asn1crypto import crl as asn1crl
from asn1crypto import x509 as asn1x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from netfakes import PUBLIC, fake_resolver
from sigtriage.errors import UsageError
from sigtriage.extract.certs import certificate_of
from sigtriage.gather.crlstore import CrlCache
from sigtriage.gather.revocation import RevocationConfig, check_revocation
from sigtriage.model import Certificate, CertificateRef, PageHashes, Signature, Status, WindowsStatus
from sigtriage.model.evidence import RevocationCheck, RevocationEvidence, RevocationState
from sigtriage.net import NetConfig, SafeSession

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
ROOT_CRL = "http://crl.pki.test/root.crl"
INT_CRL = "http://crl.pki.test/int.crl"
OCSP_URL = "http://ocsp.pki.test/"
DER = serialization.Encoding.DER


# --- the test PKI ---------------------------------------------------------------------------------------------


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _issue(
    cn: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    serial: int,
    ca: bool,
    crl_urls: Sequence[str] = (),
    ocsp_urls: Sequence[str] = (),
    ekus: Sequence[x509.ObjectIdentifier] = (),
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer.subject if issuer else _name(cn))
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(datetime(2024, 1, 1, tzinfo=timezone.utc))
        .not_valid_after(datetime(2030, 1, 1, tzinfo=timezone.utc))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if crl_urls:
        points = [x509.DistributionPoint([x509.UniformResourceIdentifier(u)], None, None, None) for u in crl_urls]
        builder = builder.add_extension(x509.CRLDistributionPoints(points), critical=False)
    if ocsp_urls:
        access = [
            x509.AccessDescription(x509.AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(u))
            for u in ocsp_urls
        ]
        builder = builder.add_extension(x509.AuthorityInformationAccess(access), critical=False)
    if ekus:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(ekus)), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def model(cert: x509.Certificate | bytes) -> Certificate:
    der = cert if isinstance(cert, bytes) else cert.public_bytes(DER)
    return certificate_of(asn1x509.Certificate.load(der))


def signature(*chain: Certificate) -> Signature:
    return Signature(
        index=0,
        parent=None,
        source="embedded",
        digest_algorithm="sha256",
        signed_digest="00",
        computed_digest="00",
        digest_valid=True,
        page_hashes=PageHashes(present=False, valid=None),
        signer=chain[0],
        chain=chain,
        trusted_root=CertificateRef(chain[-1].subject.dn, chain[-1].sha256) if chain[-1].self_signed else None,
        embedded_certificates=chain,
        timestamp=None,
        signing_time_claimed=None,
        program_name=None,
        more_info_url=None,
        status=Status.VALID,
        windows_status=WindowsStatus.VALID,
        errors=(),
    )


@dataclass
class Pki:
    root: x509.Certificate
    root_key: ec.EllipticCurvePrivateKey
    inter: x509.Certificate
    inter_key: ec.EllipticCurvePrivateKey
    next_serial: int = 1000

    def leaf(self, crl_urls: Sequence[str] = (INT_CRL,), ocsp_urls: Sequence[str] = ()) -> x509.Certificate:
        self.next_serial += 1
        return _issue(
            f"Leaf {self.next_serial}",
            _key(),
            self.inter,
            self.inter_key,
            serial=self.next_serial,
            ca=False,
            crl_urls=crl_urls,
            ocsp_urls=ocsp_urls,
        )

    def chain(self, leaf: x509.Certificate | bytes) -> tuple[Signature, ...]:
        return (signature(model(leaf), model(self.inter), model(self.root)),)

    def crl(
        self,
        issuer: str = "inter",
        revoked: Sequence[tuple[int, x509.ReasonFlags | None]] = (),
        *,
        this_update: datetime = NOW - timedelta(days=1),
        next_update: datetime = NOW + timedelta(days=7),
        signing_key: ec.EllipticCurvePrivateKey | None = None,
        encoding: serialization.Encoding = DER,
    ) -> bytes:
        cert, key = (self.inter, self.inter_key) if issuer == "inter" else (self.root, self.root_key)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(cert.subject)
            .last_update(this_update)
            .next_update(next_update)
        )
        for serial, reason in revoked:
            entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(NOW - timedelta(days=10))
            if reason is not None:
                entry = entry.add_extension(x509.CRLReason(reason), critical=False)
            builder = builder.add_revoked_certificate(entry.build())
        return builder.sign(signing_key or key, hashes.SHA256()).public_bytes(encoding)

    def ocsp(
        self,
        cert: x509.Certificate,
        status: ocsp.OCSPCertStatus,
        *,
        responder: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
        include_responder: bool = False,
    ) -> bytes:
        responder_cert, responder_key = responder or (self.inter, self.inter_key)
        builder = ocsp.OCSPResponseBuilder().add_response(
            cert=cert,
            issuer=self.inter,
            algorithm=hashes.SHA1(),
            cert_status=status,
            this_update=NOW - timedelta(hours=1),
            next_update=NOW + timedelta(days=1),
            revocation_time=NOW - timedelta(days=3) if status == ocsp.OCSPCertStatus.REVOKED else None,
            revocation_reason=x509.ReasonFlags.key_compromise if status == ocsp.OCSPCertStatus.REVOKED else None,
        )
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, responder_cert)
        if include_responder:
            builder = builder.certificates([responder_cert])
        return builder.sign(responder_key, hashes.SHA256()).public_bytes(DER)


@pytest.fixture(scope="module")
def pki() -> Pki:
    root_key, inter_key = _key(), _key()
    root = _issue("Test Root", root_key, None, root_key, serial=1, ca=True)
    inter = _issue("Test Intermediate", inter_key, root, root_key, serial=2, ca=True, crl_urls=(ROOT_CRL,))
    return Pki(root, root_key, inter, inter_key)




@pytest.fixture
def session() -> Iterator[SafeSession]:
    with SafeSession(NetConfig(), resolver=fake_resolver()) as s:
        yield s


@pytest.fixture
def rsps(pki: Pki) -> Iterator[responses.RequestsMock]:
    """HTTP mock that serves a good root CRL (so the intermediate checks GOOD) unless a test overrides it."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.GET, ROOT_CRL, body=pki.crl("root"))
        yield mock


SOFT = RevocationConfig(mode="soft-fail")


def by_subject(evidence: RevocationEvidence) -> dict[str, RevocationCheck]:
    return {check.subject.removeprefix("CN="): check for check in evidence.checks}


def urls(mock: responses.RequestsMock) -> list[str]:
    return [str(call.request.url) for call in mock.calls]


# --- CRL -----------------------------------------------------------------------------------------------------


def test_revoked_leaf_via_crl(pki: Pki, rsps: responses.RequestsMock, session: SafeSession) -> None:
    leaf = pki.leaf()
    rsps.add(responses.GET, INT_CRL, body=pki.crl(revoked=[(leaf.serial_number, x509.ReasonFlags.key_compromise)]))
    evidence = check_revocation(pki.chain(leaf), SOFT, session, None, NOW)
    assert evidence.mode == "soft-fail" and len(evidence.checks) == 2  # leaf and intermediate; never the root
    check = evidence.checks[0]
    assert check.certificate == model(leaf).sha256
    assert (check.state, check.method, check.source) == (RevocationState.REVOKED, "crl", INT_CRL)
    assert check.reason == "key_compromise" and check.revoked_at == NOW - timedelta(days=10)
    intermediate = by_subject(evidence)["Test Intermediate"]
    assert (intermediate.state, intermediate.source) == (RevocationState.GOOD, ROOT_CRL)


def test_good_via_crl_in_pem(pki: Pki, rsps: responses.RequestsMock, session: SafeSession) -> None:
    leaf = pki.leaf()
    other = pki.leaf()
    pem = pki.crl(revoked=[(other.serial_number, None)], encoding=serialization.Encoding.PEM)
    rsps.add(responses.GET, INT_CRL, body=pem)
    check = check_revocation(pki.chain(leaf), SOFT, session, None, NOW).checks[0]
    assert (check.state, check.method, check.error) == (RevocationState.GOOD, "crl", None)


def test_crl_with_bad_signature_is_unknown(pki: Pki, rsps: responses.RequestsMock, session: SafeSession) -> None:
    leaf = pki.leaf()
    rsps.add(responses.GET, INT_CRL, body=pki.crl(revoked=[(leaf.serial_number, None)], signing_key=_key()))
    check = check_revocation(pki.chain(leaf), SOFT, session, None, NOW).checks[0]
    assert check.state == RevocationState.UNKNOWN and check.method == "crl"
    assert check.error == "CRL signature does not verify with the issuer's public key"


def test_crl_timeout_is_unknown(pki: Pki, rsps: responses.RequestsMock, session: SafeSession) -> None:
    leaf = pki.leaf()
    rsps.add(responses.GET, INT_CRL, body=requests.exceptions.ConnectTimeout("connect timed out"))
    check = check_revocation(pki.chain(leaf), SOFT, session, None, NOW).checks[0]
    assert (check.state, check.method, check.source) == (RevocationState.UNKNOWN, "crl", INT_CRL)
    assert check.error == f"timed out: {INT_CRL}"


def test_stale_crl_is_unknown(pki: Pki, rsps: responses.RequestsMock, session: SafeSession) -> None:
    leaf = pki.leaf()
    stale = pki.crl(this_update=NOW - timedelta(days=30), next_update=NOW - timedelta(days=2))
    rsps.add(responses.GET, INT_CRL, body=stale)
    check = check_revocation(pki.chain(leaf), SOFT, session, None, NOW).checks[0]
    assert check.state == RevocationState.UNKNOWN and check.error is not None and check.error.startswith("stale CRL")


def test_garbage_instead_of_a_crl_is_unknown(pki: Pki, rsps: responses.RequestsMock, session: SafeSession) -> None:
    rsps.add(responses.GET, INT_CRL, body=b"<html>captive portal</html>")
    check = check_revocation(pki.chain(pki.leaf()), SOFT, session, None, NOW).checks[0]
    assert check.state == RevocationState.UNKNOWN and "unparseable CRL" in (check.error or "")


# --- OCSP ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [ocsp.OCSPCertStatus.GOOD, ocsp.OCSPCertStatus.REVOKED])
def test_ocsp_answers_first(
    pki: Pki, rsps: responses.RequestsMock, session: SafeSession, status: ocsp.OCSPCertStatus
) -> None:
    leaf = pki.leaf(ocsp_urls=(OCSP_URL,))
    rsps.add(responses.POST, OCSP_URL, body=pki.ocsp(leaf, status), content_type="application/ocsp-response")
    check = check_revocation(pki.chain(leaf), SOFT, session, None, NOW).checks[0]
    assert (check.method, check.source) == ("ocsp", OCSP_URL)
    if status == ocsp.OCSPCertStatus.GOOD:
        assert check.state == RevocationState.GOOD and check.revoked_at is None
    else:
        assert check.state == RevocationState.REVOKED
        assert (check.revoked_at, check.reason) == (NOW - timedelta(days=3), "key_compromise")
    assert INT_CRL not in urls(rsps)
    request = next(c.request for c in rsps.calls if c.request.url == OCSP_URL)
    assert request.headers["Content-Type"] == "application/ocsp-request"
    assert ocsp.load_der_ocsp_request(request.body).serial_number == leaf.serial_number  # type: ignore[arg-type]


def test_ocsp_from_a_delegated_responder(pki: Pki, rsps: responses.RequestsMock, session: SafeSession) -> None:
    responder_key = _key()
    responder = _issue(
        "Test OCSP Responder",
        responder_key,
        pki.inter,
        pki.inter_key,
        serial=77,
        ca=False,
        ekus=(ExtendedKeyUsageOID.OCSP_SIGNING,),
    )
    leaf = pki.leaf(ocsp_urls=(OCSP_URL,))
    body = pki.ocsp(leaf, ocsp.OCSPCertStatus.GOOD, responder=(responder, responder_key), include_responder=True)
    rsps.add(responses.POST, OCSP_URL, body=body)
    check = check_revocation(pki.chain(leaf), SOFT, session, None, NOW).checks[0]
    assert (check.state, check.method) == (RevocationState.GOOD, "ocsp")


def test_forged_ocsp_falls_back_to_crl(pki: Pki, rsps: responses.RequestsMock, session: SafeSession) -> None:
    forger_key = _key()
    forger = _issue("Test Intermediate", forger_key, None, forger_key, serial=5, ca=False)  # same name, own key
    leaf = pki.leaf(ocsp_urls=(OCSP_URL,))
    body = pki.ocsp(leaf, ocsp.OCSPCertStatus.GOOD, responder=(forger, forger_key), include_responder=True)
    rsps.add(responses.POST, OCSP_URL, body=body)
    rsps.add(responses.GET, INT_CRL, body=pki.crl(revoked=[(leaf.serial_number, x509.ReasonFlags.superseded)]))
    check = check_revocation(pki.chain(leaf), SOFT, session, None, NOW).checks[0]
    assert (check.state, check.method, check.reason) == (RevocationState.REVOKED, "crl", "superseded")


def test_every_failed_attempt_is_reported(pki: Pki, rsps: responses.RequestsMock, session: SafeSession) -> None:
    leaf = pki.leaf(ocsp_urls=(OCSP_URL,))
    rsps.add(responses.POST, OCSP_URL, body=pki.ocsp(pki.leaf(), ocsp.OCSPCertStatus.GOOD))  # about another cert
    rsps.add(responses.GET, INT_CRL, body=requests.exceptions.ConnectTimeout("connect timed out"))
    check = check_revocation(pki.chain(leaf), SOFT, session, None, NOW).checks[0]
    assert (check.state, check.method, check.source) == (RevocationState.UNKNOWN, "crl", INT_CRL)
    assert check.error == (
        f"ocsp {OCSP_URL}: OCSP response is not about this certificate; crl {INT_CRL}: timed out: {INT_CRL}"
    )


def test_ocsp_error_status_and_garbage(pki: Pki, rsps: responses.RequestsMock, session: SafeSession) -> None:
    leaf = pki.leaf(ocsp_urls=(OCSP_URL,), crl_urls=())
    unauthorized = ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED).public_bytes(DER)
    rsps.add(responses.POST, OCSP_URL, body=unauthorized)
    check = check_revocation(pki.chain(leaf), SOFT, session, None, NOW).checks[0]
    assert check.state == RevocationState.UNKNOWN and check.error == "OCSP responder answered 'unauthorized'"


# --- cache and offline folder --------------------------------------------------------------------------------


def test_cache_is_reused_until_next_update(pki: Pki, session: SafeSession, tmp_path: Path) -> None:
    cache = CrlCache(tmp_path / "crls")
    leaf = pki.leaf()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.GET, ROOT_CRL, body=pki.crl("root"))
        mock.add(responses.GET, INT_CRL, body=pki.crl())
        first = check_revocation(pki.chain(leaf), SOFT, session, cache, NOW)
        assert sorted(urls(mock)) == [INT_CRL, ROOT_CRL]
        second = check_revocation(pki.chain(leaf), SOFT, session, cache, NOW + timedelta(days=6))
        assert len(mock.calls) == 2  # nothing fetched again
    assert first == second and {c.state for c in second.checks} == {RevocationState.GOOD}

    later = NOW + timedelta(days=8)  # past nextUpdate: fetch again
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.GET, ROOT_CRL, body=pki.crl("root", this_update=later, next_update=later + timedelta(7)))
        mock.add(responses.GET, INT_CRL, body=pki.crl(this_update=later, next_update=later + timedelta(days=7)))
        third = check_revocation(pki.chain(leaf), SOFT, session, cache, later)
        assert sorted(urls(mock)) == [INT_CRL, ROOT_CRL]
    assert {c.state for c in third.checks} == {RevocationState.GOOD}


@pytest.mark.parametrize("poison", ["corrupt", "forged"])
def test_bad_cache_entries_are_ignored_and_refetched(
    pki: Pki, rsps: responses.RequestsMock, session: SafeSession, tmp_path: Path, poison: str
) -> None:
    cache = CrlCache(tmp_path)
    leaf = pki.leaf()
    cache.put(INT_CRL, b"\x30\x03junk" if poison == "corrupt" else pki.crl(signing_key=_key()))
    rsps.add(responses.GET, INT_CRL, body=pki.crl(revoked=[(leaf.serial_number, None)]))
    check = check_revocation(pki.chain(leaf), SOFT, session, cache, NOW).checks[0]
    assert check.state == RevocationState.REVOKED and INT_CRL in urls(rsps)
    assert cache.get(INT_CRL, NOW) is not None  # replaced by the verified copy


def test_offline_folder_makes_no_request(pki: Pki, tmp_path: Path) -> None:
    leaf = pki.leaf(ocsp_urls=(OCSP_URL,))
    (tmp_path / "int-old.crl").write_bytes(pki.crl(this_update=NOW - timedelta(days=20)))  # older: ignored
    (tmp_path / "int.crl").write_bytes(pki.crl(revoked=[(leaf.serial_number, x509.ReasonFlags.key_compromise)]))
    (tmp_path / "root.pem").write_bytes(pki.crl("root", encoding=serialization.Encoding.PEM))
    (tmp_path / "forged.crl").write_bytes(pki.crl(signing_key=_key(), this_update=NOW))  # newest, but not signed
    (tmp_path / "junk.crl").write_bytes(b"not a CRL")
    config = RevocationConfig(mode="require", offline_crl_dir=tmp_path)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        evidence = check_revocation(pki.chain(leaf), config, None, None, NOW)
        assert len(mock.calls) == 0
    leaf_check, intermediate = evidence.checks
    expected = (RevocationState.REVOKED, "offline-crl", str(tmp_path / "int.crl"))
    assert (leaf_check.state, leaf_check.method, leaf_check.source) == expected
    assert (intermediate.state, intermediate.source) == (RevocationState.GOOD, str(tmp_path / "root.pem"))


def test_offline_folder_without_the_issuers_crl(pki: Pki, tmp_path: Path) -> None:
    (tmp_path / "root.crl").write_bytes(pki.crl("root"))
    config = RevocationConfig(offline_crl_dir=tmp_path)
    leaf_check = check_revocation(pki.chain(pki.leaf()), config, None, None, NOW).checks[0]
    assert leaf_check.state == RevocationState.UNKNOWN and leaf_check.method == "offline-crl"
    assert (leaf_check.error or "").startswith("no CRL issued by 'CN=Test Intermediate'")


# --- modes, limits and odd inputs ----------------------------------------------------------------------------


def test_mode_off_checks_nothing(pki: Pki) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        evidence = check_revocation(pki.chain(pki.leaf()), RevocationConfig(mode="off"), None, None, NOW)
        assert len(mock.calls) == 0
    assert evidence.mode == "off" and len(evidence.checks) == 2
    assert all(c.state == RevocationState.NOT_CHECKED and c.method is None for c in evidence.checks)


def test_usage_errors(pki: Pki) -> None:
    with pytest.raises(UsageError, match="mode"):
        RevocationConfig(mode="strict")
    with pytest.raises(UsageError, match="network access or revocation.offline_crl_dir"):
        check_revocation(pki.chain(pki.leaf()), SOFT, None, None, NOW)
    with pytest.raises(UsageError, match="timezone-aware"):
        check_revocation(pki.chain(pki.leaf()), SOFT, None, None, NOW.replace(tzinfo=None))
    with pytest.raises(UsageError, match="not a directory"):
        check_revocation(pki.chain(pki.leaf()), RevocationConfig(offline_crl_dir=Path("/nonexistent")), None, None, NOW)


def test_without_issuer_or_urls_nothing_is_fetched(
    pki: Pki, rsps: responses.RequestsMock, session: SafeSession
) -> None:
    orphan = check_revocation((signature(model(pki.leaf())),), SOFT, session, None, NOW).checks
    bare = check_revocation(pki.chain(pki.leaf(crl_urls=())), SOFT, session, None, NOW).checks[0]
    assert len(orphan) == 1 and orphan[0].state == RevocationState.UNKNOWN
    assert "issuer certificate is not in the chain" in (orphan[0].error or "")
    assert bare.state == RevocationState.UNKNOWN and "no OCSP responder and no CRL" in (bare.error or "")
    assert INT_CRL not in urls(rsps)


def test_url_limit_per_certificate(pki: Pki, rsps: responses.RequestsMock, session: SafeSession) -> None:
    points = [f"http://crl{i}.pki.test/int.crl" for i in range(5)]
    for url in points:
        rsps.add(responses.GET, url, body=requests.exceptions.ReadTimeout("read timed out"))
    leaf = pki.leaf(crl_urls=["ldap://dc.corp.test/CN=int", *points])
    config = RevocationConfig(max_urls_per_certificate=2)
    check = check_revocation(pki.chain(leaf), config, session, None, NOW).checks[0]
    assert [u for u in urls(rsps) if u != ROOT_CRL] == points[:2]  # http(s) before ldap, two at most
    assert check.state == RevocationState.UNKNOWN and check.source == points[1]


def test_certificate_limit_and_deduplication(pki: Pki, rsps: responses.RequestsMock, session: SafeSession) -> None:
    first, second = pki.leaf(), pki.leaf()
    rsps.add(responses.GET, INT_CRL, body=pki.crl())
    signatures = pki.chain(first) + pki.chain(second)  # the intermediate twice, checked once
    evidence = check_revocation(signatures, RevocationConfig(max_certificates=2), session, None, NOW)
    subjects = [model(first).subject.dn, "CN=Test Intermediate", model(second).subject.dn]
    assert [c.subject for c in evidence.checks] == subjects
    assert [c.state for c in evidence.checks][:2] == [RevocationState.GOOD, RevocationState.GOOD]
    assert evidence.checks[2].error == "not checked: more than 2 certificates to check"


def _resign(der: bytes, key: ec.EllipticCurvePrivateKey, spec: Any, fields: tuple[str, str, str], edit: Any) -> bytes:
    """Decode with asn1crypto, `edit` the to-be-signed part, sign it again with `key`."""
    tbs_field, algorithm_field, signature_field = fields
    original = spec.load(der)
    tbs = original[tbs_field]
    edit(tbs)
    signed = key.sign(tbs.dump(force=True), ec.ECDSA(hashes.SHA256()))
    rebuilt = spec({tbs_field: tbs, algorithm_field: original[algorithm_field], signature_field: signed})
    return bytes(rebuilt.dump(force=True))


def _negative_serial(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> bytes:
    """`cert` re-signed with serial -5, as some real Authenticode certificates have (cryptography builds none)."""

    def edit(tbs: Any) -> None:
        tbs["serial_number"] = -5

    fields = ("tbs_certificate", "signature_algorithm", "signature_value")
    return _resign(cert.public_bytes(DER), key, asn1x509.Certificate, fields, edit)


def _negative_entry(crl: bytes, key: ec.EllipticCurvePrivateKey) -> bytes:
    """`crl` re-signed with its one entry's serial made -5."""

    def edit(tbs: Any) -> None:
        tbs["revoked_certificates"][0]["user_certificate"] = -5

    return _resign(crl, key, asn1crl.CertificateList, ("tbs_cert_list", "signature_algorithm", "signature"), edit)


@pytest.mark.parametrize("listed", [False, True])
def test_negative_serial(pki: Pki, rsps: responses.RequestsMock, session: SafeSession, listed: bool) -> None:
    leaf = _negative_serial(pki.leaf(), pki.inter_key)
    crl = pki.crl(revoked=[(5, x509.ReasonFlags.key_compromise)])  # +5 is not -5
    rsps.add(responses.GET, INT_CRL, body=_negative_entry(crl, pki.inter_key) if listed else crl)
    check = check_revocation(pki.chain(leaf), SOFT, session, None, NOW).checks[0]  # warnings would fail the test
    assert model(leaf).serial_int_hex == "-5"
    assert check.state == (RevocationState.REVOKED if listed else RevocationState.GOOD), check.error


# --- SSRF through certificate URLs ---------------------------------------------------------------------------

FORBIDDEN = [
    "http://127.0.0.1/int.crl",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/int.crl",
    "http://10.0.0.5/int.crl",
    "http://192.168.1.1/int.crl",
    "http://172.16.0.1/int.crl",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://[::ffff:127.0.0.1]/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_FLUSHALL",
]


@pytest.mark.parametrize("url", FORBIDDEN)
@pytest.mark.parametrize("where", ["crl", "ocsp"])
def test_certificate_urls_cannot_reach_internal_targets(
    pki: Pki, rsps: responses.RequestsMock, session: SafeSession, url: str, where: str
) -> None:
    leaf = pki.leaf(crl_urls=(url,), ocsp_urls=()) if where == "crl" else pki.leaf(crl_urls=(), ocsp_urls=(url,))
    rsps.add(responses.GET, url, body=b"must not be fetched")
    check = check_revocation(pki.chain(leaf), SOFT, session, None, NOW).checks[0]
    assert urls(rsps) == [ROOT_CRL]  # only the intermediate's legitimate CRL
    facts = model(leaf)
    # source is the URL as the model holds it: asn1crypto drops the brackets of IPv6 literals (extract/certs.py)
    source = (facts.crl_urls + facts.ocsp_urls)[0]
    assert (check.state, check.method, check.source) == (RevocationState.UNKNOWN, where, source)
    assert (check.error or "").startswith("blocked: ")


def test_name_resolving_to_a_private_address(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    def getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[Any]:
        address = "10.0.0.1" if host == "internal.pki.test" else PUBLIC
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    leaf = pki.leaf(crl_urls=("http://internal.pki.test/int.crl",))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock, SafeSession(NetConfig()) as session:
        mock.add(responses.GET, ROOT_CRL, body=pki.crl("root"))
        check = check_revocation(pki.chain(leaf), SOFT, session, None, NOW).checks[0]
        assert urls(mock) == [ROOT_CRL]
    assert check.state == RevocationState.UNKNOWN
    assert check.error == "blocked: internal.pki.test resolves to 10.0.0.1, which is private"


def test_redirect_to_metadata_service(pki: Pki, rsps: responses.RequestsMock, session: SafeSession) -> None:
    moved = "http://crl.pki.test/moved.crl"
    metadata = "http://169.254.169.254/latest/meta-data/"
    rsps.add(responses.GET, moved, status=302, headers={"Location": metadata})
    rsps.add(responses.GET, metadata, body=b"iam/security-credentials")
    check = check_revocation(pki.chain(pki.leaf(crl_urls=(moved,))), SOFT, session, None, NOW).checks[0]
    assert metadata not in urls(rsps) and moved in urls(rsps)
    assert check.state == RevocationState.UNKNOWN
    assert check.error == f"blocked: redirect from {moved}: host 169.254.169.254, which is link-local"


def test_allowlisted_internal_crl_server(pki: Pki) -> None:
    internal = "http://crl.corp.test/int.crl"
    resolver = fake_resolver({"crl.corp.test": ("10.1.2.3",)})
    leaf = pki.leaf(crl_urls=(internal,))
    with (
        responses.RequestsMock(assert_all_requests_are_fired=False) as mock,
        SafeSession(NetConfig(allow_hosts=("crl.corp.test",)), resolver=resolver) as session,
    ):
        mock.add(responses.GET, ROOT_CRL, body=pki.crl("root"))
        mock.add(responses.GET, internal, body=pki.crl())
        check = check_revocation(pki.chain(leaf), SOFT, session, None, NOW).checks[0]
    assert (check.state, check.source) == (RevocationState.GOOD, internal)
