"""Every fact listed in ../shared/samples/expected.json, reproduced by `analyze_file`."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from sigtriage.extract.analyze import Options, analyze_file
from sigtriage.extract.trust import TrustStore, load_trust_store
from sigtriage.model import Status, WindowsStatus
from sigtriage.model.codec import parse_datetime

from conftest import SAMPLES, expected_samples, needs_samples

pytestmark = [needs_samples, pytest.mark.samples]

SIGNED_FILES = [s for s in expected_samples() if s.get("signed")]
ALL_FILES = [s for s in expected_samples() if s.get("signed") is not None]
CATALOG = "115fe8649854ad531fb7ecd1318fbee6b33c9cbd78f02ed582092a96d5eb5899.cat"


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [i["file"] for i in items]


@pytest.mark.parametrize("sample", ALL_FILES, ids=_ids(ALL_FILES))
def test_file_facts(sample: dict[str, Any], trust: TrustStore) -> None:
    report = analyze_file(SAMPLES / sample["file"], trust)
    assert report.file.size == sample["size"]
    assert report.file.sha256 == sample["sha256"]
    assert (report.status is not Status.UNSIGNED) == sample["signed"]
    if "versioninfo_company" in sample:
        assert report.file.version_info.get("CompanyName") == sample["versioninfo_company"]


@pytest.mark.parametrize("sample", SIGNED_FILES, ids=_ids(SIGNED_FILES))
def test_signature_facts(sample: dict[str, Any], trust: TrustStore) -> None:
    report = analyze_file(SAMPLES / sample["file"], trust)
    embedded = [s for s in report.signatures if s.source == "embedded"]
    assert len([s for s in embedded if s.parent is None]) == sample["signatures_top_level"]
    assert len([s for s in embedded if s.parent is not None]) == sample["signatures_nested"]
    assert (report.status is Status.VALID) == sample["verifies"]
    assert (report.windows_status is WindowsStatus.VALID) == sample["verifies"]
    for got, want in zip(embedded, sample["signatures"], strict=True):
        assert got.digest_algorithm == want["digest_algorithm"]
        assert got.signer is not None
        assert got.signer.subject.cn == want["signer_subject_cn"]
        assert got.signer.subject.dn == want["signer_subject_dn"]
        assert got.signer.issuer.cn == want["issuer_cn"]
        assert got.signer.issuer.dn == want["issuer_dn"]
        assert got.signer.serial_int_hex == want["serial_hex"]
        assert got.signer.sha1 == want["signer_sha1_thumbprint"]
        assert got.signer.not_before == parse_datetime(want["not_before"])
        assert got.signer.not_after == parse_datetime(want["not_after"])
        assert got.program_name == want["program_name"]
        assert got.more_info_url == want["more_info_url"]
        assert sorted(c.subject.cn or c.subject.dn for c in got.embedded_certificates) == sorted(
            want["embedded_certificates"])
        if want["timestamp_present"]:
            assert got.timestamp is not None and got.timestamp.valid
            assert got.timestamp.time == parse_datetime(want["timestamp_time"])
            assert got.timestamp.kind == ("rfc3161" if want["timestamp_kind"].startswith("RFC 3161") else "pkcs9")
        else:
            assert got.timestamp is None
        if sample["verifies"]:
            assert got.status is Status.VALID and got.digest_valid is True


def test_curveball_is_chain_invalid_with_matching_digest(trust: TrustStore) -> None:
    report = analyze_file(SAMPLES / "7z1900-x64_signed.exe", trust)
    sig = report.signatures[0]
    assert sig.digest_valid is True
    assert report.status is Status.CHAIN_INVALID
    assert "CVE-2020-0601" in " ".join(sig.errors)
    assert {f.code for f in report.findings} >= {"chain_mismatch", "no_timestamp", "weak_digest"}


def test_private_root_becomes_valid_with_its_anchor_until_lifetime_expiry() -> None:
    anchored = load_trust_store((SAMPLES / "kdbazis.dll.crt",), microsoft=False)
    path = SAMPLES / "kdbazis.dll"
    before = analyze_file(path, anchored, Options(at=datetime(2024, 1, 1, tzinfo=timezone.utc)))
    assert before.status is Status.VALID
    assert before.signatures[0].trusted_root is not None
    assert before.signatures[0].trusted_root.subject == "CN=VirtualKD-Redux CA"
    after = analyze_file(path, anchored, Options(at=datetime(2060, 1, 1, tzinfo=timezone.utc)))
    assert after.status is Status.EXPIRED  # lifetime signing: the timestamp does not extend validity
    codes = {f.code for f in before.findings}
    assert {"lifetime_signing", "negative_serial"} <= codes


def test_private_root_untrusted_by_default(trust: TrustStore) -> None:
    report = analyze_file(SAMPLES / "kdbazis.dll", trust)
    assert report.status is Status.UNTRUSTED_ROOT
    assert report.signatures[0].signer is not None
    assert report.signatures[0].signer.serial_int_hex == "-724808c7fd2e2642b98c059e8a80d689"
    # DER two's complement of the negative serial: the form feeds and Windows show
    assert report.signatures[0].signer.serial == (-0x724808C7FD2E2642B98C059E8A80D689).to_bytes(16, "big", signed=True).hex()


def test_flat_file_signed_by_catalog(trust: TrustStore) -> None:
    inf = SAMPLES / "amdacpbtscoext.inf"
    assert analyze_file(inf, trust).status is Status.UNSIGNED
    report = analyze_file(inf, trust, Options(catalogs=(SAMPLES / "oem89.cat",)))
    assert report.status is Status.VALID
    (sig,) = report.signatures
    assert sig.source == "catalog:oem89.cat"
    assert sig.signer is not None and sig.signer.subject.cn == "Microsoft Windows Hardware Compatibility Publisher"


def test_catalog_that_does_not_list_the_file_adds_no_signature(trust: TrustStore) -> None:
    report = analyze_file(SAMPLES / "amdacpbtscoext.inf", trust, Options(catalogs=(SAMPLES / CATALOG,)))
    assert report.status is Status.UNSIGNED
    assert "does not list this file" in report.errors[0]


def test_pe_with_catalog_gets_both_signatures(trust: TrustStore) -> None:
    report = analyze_file(SAMPLES / "DXCore.dll", trust, Options(catalogs=(SAMPLES / CATALOG,)))
    assert [s.source for s in report.signatures] == ["embedded", f"catalog:{CATALOG}"]
    assert all(s.status is Status.VALID for s in report.signatures)


def test_findings_on_real_samples(trust: TrustStore) -> None:
    apple = analyze_file(SAMPLES / "SoftwareUpdate.exe", trust)
    weak = [f for f in apple.findings if f.code == "weak_digest"]
    assert weak and weak[0].evidence["digest_algorithms"] == ["md5"]
    sigcheck = analyze_file(SAMPLES / "sigcheck.exe", trust)
    assert "weak_digest" not in {f.code for f in sigcheck.findings}  # the nested SHA-256 signature protects it
    assert "multiple_signers" in {f.code for f in sigcheck.findings}
    whois = analyze_file(SAMPLES / "whois.exe", trust)
    age = next(f for f in whois.findings if f.code == "cert_age_at_signing_days")
    assert age.evidence["days"] == 222  # 2019-05-02 -> 2019-12-11


def test_all_hashes_match_known_digests(trust: TrustStore) -> None:
    report = analyze_file(SAMPLES / "SoftwareUpdate.exe", trust, Options(all_hashes=True))
    assert report.file.md5 == "7b43567b4c32ad7aded537cd3b1342b9"  # as the Elastic alert reports it
    assert report.file.sha1 == "8322f1c2c355d88432f1f03a1f231f63912186bd"
    # signify's own test (test_pe_old.py::test_software_update) gives the SHA-1 authentihash
    assert report.file.authentihash["sha1"] == "978b90ace99c764841d2dd17d278fac4149962a3"


def test_shim_two_top_level_signatures_untrusted_with_valid_digests(trust: TrustStore) -> None:
    report = analyze_file(SAMPLES / "shimx64.efi", trust)
    assert report.file.pe is not None and report.file.pe.is_efi
    assert report.file.cert_table is not None and report.file.cert_table.entries == 2
    assert report.file.cert_table.slack_bytes == 0
    assert all(s.digest_valid for s in report.signatures)
    assert report.status is Status.UNTRUSTED_ROOT


def test_kernel_driver_facts(trust: TrustStore) -> None:
    report = analyze_file(SAMPLES / "pciide.sys", trust)
    assert report.file.pe is not None and report.file.pe.is_driver
    assert report.status is Status.VALID


def test_page_hashes_are_checked_where_present(trust: TrustStore, tmp_path: Any) -> None:
    dxcore = analyze_file(SAMPLES / "DXCore.dll", trust)
    assert dxcore.signatures[0].page_hashes.present and dxcore.signatures[0].page_hashes.valid is True
    assert not analyze_file(SAMPLES / "whois.exe", trust).signatures[0].page_hashes.present
    # flip a byte inside the second page: the page hash (and the whole-file digest) no longer match
    data = bytearray((SAMPLES / "DXCore.dll").read_bytes())
    data[0x1800] ^= 0x01
    tampered = tmp_path / "DXCore.dll"
    tampered.write_bytes(bytes(data))
    report = analyze_file(tampered, trust)
    assert report.status is Status.DIGEST_MISMATCH
    assert report.signatures[0].page_hashes.valid is False
