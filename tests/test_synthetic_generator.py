"""The synthetic Authenticode generator (test_data/synthetic) makes each file it claims to make.

Later tests use these files as ground truth for sigtriage's verdicts, so here every case is checked with
independent tools (pefile, osslsigncode, cryptography), not with sigtriage itself.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import subprocess
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pefile
import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

SYNTHETIC = Path(__file__).resolve().parents[1] / "test_data" / "synthetic"
sys.path.insert(0, str(SYNTHETIC))
import build  # noqa: E402
import minipe  # noqa: E402
import pki  # noqa: E402

NOW = pki.utcnow()
"""One reference time for every build in this module, so rebuilds reuse the cached keys."""
STATUSES = {
    "valid", "unsigned", "digest_mismatch", "untrusted_root", "self_signed", "chain_invalid", "expired",
    "not_yet_valid", "bad_key_usage", "malformed",
}
VERSION_STRINGS = {
    "CompanyName", "ProductName", "FileDescription", "OriginalFilename", "InternalName", "FileVersion",
    "LegalCopyright",
}

_skip_without_osslsigncode = pytest.mark.skipif(
    shutil.which("osslsigncode") is None,
    reason="osslsigncode is not installed (Debian/Ubuntu: apt-get install osslsigncode); "
    "the synthetic Authenticode cases cannot be generated",
)


def needs_osslsigncode(test: Callable[..., None]) -> Callable[..., None]:
    """Mark a test as needing osslsigncode and skip it, with the reason, when it is missing."""
    return pytest.mark.osslsigncode(_skip_without_osslsigncode(test))


def _string_table(pe: pefile.PE) -> dict[str, str]:
    for info in pe.FileInfo[0]:
        if info.Key == b"StringFileInfo":
            table = info.StringTable[0]
            assert table.LangID == b"040904b0"
            return {k.decode(): v.decode("utf-8") for k, v in table.entries.items()}
    raise AssertionError("no StringFileInfo")


def _security_directory(data: bytes) -> tuple[int, int]:
    pe = pefile.PE(data=data, fast_load=True)
    entry = pe.OPTIONAL_HEADER.DATA_DIRECTORY[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_SECURITY"]]
    return entry.VirtualAddress, entry.Size


def _verify_with_anchor(path: Path, anchor: Path) -> subprocess.CompletedProcess[str]:
    """osslsigncode verify against `anchor` only, offline (-ignore-cdp: no CRL download)."""
    return subprocess.run(
        ["osslsigncode", "verify", "-ignore-cdp", "-CAfile", str(anchor), "-TSA-CAfile", str(anchor), "-in", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )


def _embedded_certs(path: Path, tmp_path: Path) -> list[x509.Certificate]:
    der = tmp_path / f"{path.stem}.p7"
    subprocess.run(
        ["osslsigncode", "extract-signature", "-in", str(path), "-out", str(der)],
        capture_output=True, text=True, timeout=60, check=True,
    )
    return pkcs7.load_der_pkcs7_certificates(der.read_bytes())


def _case(outdir: Path, name: str) -> Path:
    return outdir / f"{name}.exe"


def _leaf(certs: list[x509.Certificate]) -> x509.Certificate:
    (leaf,) = [c for c in certs if not c.extensions.get_extension_for_class(x509.BasicConstraints).value.ca]
    return leaf


# --- minipe ------------------------------------------------------------------------------------------


def test_build_pe_versioninfo_round_trips_non_ascii() -> None:
    data = minipe.build_pe(
        company=build.LOOKALIKE, product="Продукт", description="Опис", original_filename="app.exe",
        file_version="10.0.19041.1",
    )
    pe = pefile.PE(data=data)
    assert pe.get_warnings() == []
    strings = _string_table(pe)
    assert set(strings) == VERSION_STRINGS
    assert strings["CompanyName"] == "\u041c\u0456\u0441rosoft Corporation"
    assert strings["ProductName"] == "Продукт"
    assert strings["FileVersion"] == "10.0.19041.1"
    fixed = pe.VS_FIXEDFILEINFO[0]
    assert (fixed.FileVersionMS, fixed.FileVersionLS) == (10 << 16 | 0, 19041 << 16 | 1)


def test_build_pe_headers_are_consistent() -> None:
    overlay = b"OVERLAY!" * 8
    data = minipe.build_pe(text_size=5000, company="Acme", dll=True, subsystem=2, overlay=overlay)
    pe = pefile.PE(data=data)
    opt = pe.OPTIONAL_HEADER
    assert pe.FILE_HEADER.Machine == 0x8664 and opt.Magic == 0x20B
    assert pe.is_dll() and opt.Subsystem == 2
    assert (opt.FileAlignment, opt.SectionAlignment, opt.NumberOfRvaAndSizes) == (0x200, 0x1000, 16)
    assert opt.SizeOfHeaders == 0x200 and opt.SizeOfHeaders == pe.sections[0].PointerToRawData
    text, rsrc = pe.sections
    assert text.Name.rstrip(b"\0") == b".text" and text.Misc_VirtualSize == 5000 and text.SizeOfRawData == 5120
    assert rsrc.VirtualAddress == 0x3000 and rsrc.PointerToRawData == 0x200 + 5120
    assert opt.SizeOfImage == 0x4000
    assert opt.AddressOfEntryPoint == text.VirtualAddress
    assert data.endswith(overlay) and pe.get_overlay_data_start_offset() == len(data) - len(overlay)


def test_build_pe_without_version_strings_has_no_resources() -> None:
    pe = pefile.PE(data=minipe.build_pe())
    assert len(pe.sections) == 1 and not hasattr(pe, "FileInfo")
    assert pe.OPTIONAL_HEADER.SizeOfImage == 0x2000 and not pe.is_dll()


def test_write_pe_streams_the_same_bytes(tmp_path: Path) -> None:
    size = 3 * (1 << 20) + 333  # several chunks and a partial one
    path = minipe.write_pe(tmp_path / "a.exe", text_size=size, company="Acme", overlay=b"tail")
    assert path.read_bytes() == minipe.build_pe(text_size=size, company="Acme", overlay=b"tail")


@pytest.fixture
def big_pe(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "big.exe"
    yield path
    path.unlink(missing_ok=True)  # do not leave 256 MiB in pytest's kept temp directories


def test_write_pe_256_mib_in_constant_memory(big_pe: Path) -> None:
    size = 256 << 20
    tracemalloc.start()
    try:
        minipe.write_pe(big_pe, text_size=size, company="Big Co")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20
    with pefile.PE(str(big_pe), fast_load=True) as pe:
        assert pe.sections[0].SizeOfRawData == size
        assert pe.OPTIONAL_HEADER.SizeOfImage == 0x1000 + size + 0x1000
        assert big_pe.stat().st_size == pe.sections[1].PointerToRawData + pe.sections[1].SizeOfRawData


# --- pki ---------------------------------------------------------------------------------------------


def test_deterministic_key_is_stable_across_runs_and_versions() -> None:
    derive = pki.deterministic_rsa_key.__wrapped__  # bypass the cache: really derive twice
    first, second = derive("golden", 1024), derive("golden", 1024)
    spki = first.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert spki == second.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert first.key_size == 1024
    assert hashlib.sha256(spki).hexdigest() == GOLDEN_SPKI_SHA256


GOLDEN_SPKI_SHA256 = "d78525e4cac4ee9d0eb4592b30286e349aee878f8a2f9a5a2ac9d37819e48edb"
"""Pins the key derivation: a change here regenerates every test key (and every expected fingerprint)."""


def test_pki_certificates_have_the_requested_extensions() -> None:
    root = pki.root_ca(now=NOW)
    intermediate = pki.intermediate_ca(root, now=NOW)
    leaf = pki.code_signing_leaf(
        intermediate, "Leaf", "Org", crl_url="http://crl.example.test/ca.crl",
        ocsp_url="http://ocsp.example.test", ca_issuers_url="http://example.test/ca.cer", key_size=1024,
    )
    cert = leaf.cert
    cert.verify_directly_issued_by(intermediate.cert)
    intermediate.cert.verify_directly_issued_by(root.cert)
    assert cert.public_key().key_size == 1024
    assert cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.CODE_SIGNING]
    )
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert cdp[0].full_name == [x509.UniformResourceIdentifier("http://crl.example.test/ca.crl")]
    aia = {d.access_method: d.access_location.value
           for d in cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value}
    assert set(aia.values()) == {"http://ocsp.example.test", "http://example.test/ca.cer"}
    now = datetime.now(UTC)
    assert cert.not_valid_before_utc < now - timedelta(days=29)
    assert now + timedelta(days=364) < cert.not_valid_after_utc

    stamper = pki.tsa(root, now=NOW).cert.extensions.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE)
    assert stamper.critical and list(stamper.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    own = pki.self_signed_leaf("Self", now=NOW).cert
    assert own.issuer == own.subject
    own.verify_directly_issued_by(own)


def test_pe_checksum_matches_pefile() -> None:
    data = minipe.build_pe(text_size=777, company="Acme", overlay=b"odd")
    assert build.pe_checksum(data) == pefile.PE(data=data).generate_checksum()


def test_missing_osslsigncode_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(build.GeneratorError, match="osslsigncode not found"):
        build.osslsigncode("--version")


# --- build.py: every case is what it claims ---------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    path = tmp_path_factory.mktemp("synthetic")
    return path, build.build_cases(path, now=NOW)


@pytest.fixture(scope="module")
def outdir(built: tuple[Path, dict[str, Path]]) -> Path:
    return built[0]


@pytest.fixture(scope="module")
def anchor(outdir: Path) -> Path:
    return outdir / "anchors" / "root.pem"


@pytest.fixture(scope="module")
def unrelated_anchor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root that issued nothing here: "without the anchor", independent of the system CA bundle."""
    path = tmp_path_factory.mktemp("unrelated") / "root.pem"
    return pki.write_certs(path, [pki.root_ca("sigtriage Unrelated Root", now=NOW).cert])


@needs_osslsigncode
def test_manifest_lists_every_returned_case(built: tuple[Path, dict[str, Path]]) -> None:
    outdir, paths = built
    manifest = json.loads((outdir / "cases.json").read_text(encoding="utf-8"))
    assert manifest["anchor"] == "anchors/root.pem" and (outdir / manifest["anchor"]).is_file()
    cases = {c["name"]: c for c in manifest["cases"]}
    assert set(cases) == set(paths) == {
        "valid_extra_anchor", "valid_no_timestamp", "self_signed", "expired_no_timestamp", "not_yet_valid",
        "bad_key_usage", "tampered", "slack", "truncated_signature", "unsigned", "nested", "wrong_intermediate",
        "lookalike_publisher", "weak_key",
    }
    for name, path in paths.items():
        assert path.is_file() and path.parent == outdir
        assert outdir / cases[name]["path"] == path
        assert cases[name]["expected_status"] in STATUSES
        assert cases[name]["expected_status_without_anchor"] in STATUSES | {None}
    assert cases["valid_extra_anchor"]["expected_status_without_anchor"] == "untrusted_root"


@needs_osslsigncode
def test_rebuild_is_byte_identical_except_timestamp_tokens(outdir: Path, tmp_path: Path) -> None:
    """Only osslsigncode's TSA (random token serial) and PKCS#12 (random MAC salt) add randomness."""
    again = tmp_path / "again"
    build.build_cases(again, now=NOW)
    random_by_design = {"valid_extra_anchor.exe", "tampered.exe", "slack.exe", "truncated_signature.exe",
                        "pki/self_signed.p12"}
    for path in outdir.rglob("*"):
        relative = path.relative_to(outdir).as_posix()
        if path.is_file() and relative not in random_by_design:
            assert (again / relative).read_bytes() == path.read_bytes(), relative


@needs_osslsigncode
@pytest.mark.parametrize("name", ["valid_extra_anchor", "valid_no_timestamp", "lookalike_publisher", "weak_key"])
def test_valid_cases_verify_with_the_extra_anchor_only(
    outdir: Path, anchor: Path, unrelated_anchor: Path, name: str
) -> None:
    assert _verify_with_anchor(_case(outdir, name), anchor).returncode == 0
    without = _verify_with_anchor(_case(outdir, name), unrelated_anchor)
    assert without.returncode != 0 and "unable to get local issuer certificate" in without.stdout + without.stderr


@needs_osslsigncode
def test_valid_extra_anchor_has_a_verified_rfc3161_timestamp(outdir: Path, anchor: Path) -> None:
    out = _verify_with_anchor(_case(outdir, "valid_extra_anchor"), anchor).stdout
    assert "Timestamp Server Signature verification: ok" in out
    assert "CN=sigtriage Test TSA" in out
    assert "Timestamp is not available" in _verify_with_anchor(_case(outdir, "valid_no_timestamp"), anchor).stdout


@needs_osslsigncode
@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("self_signed", "self-signed certificate"),
        ("expired_no_timestamp", "certificate has expired"),
        ("not_yet_valid", "certificate is not yet valid"),
        ("bad_key_usage", "Unsupported Signer's certificate purpose"),
        ("wrong_intermediate", "unable to get local issuer certificate"),
        ("tampered", "MISMATCH"),
        ("unsigned", "No signature found"),
    ],
)
def test_defective_cases_fail_for_their_own_reason(outdir: Path, anchor: Path, name: str, error: str) -> None:
    result = _verify_with_anchor(_case(outdir, name), anchor)
    assert result.returncode != 0
    assert error in result.stdout + result.stderr


@needs_osslsigncode
def test_certificates_are_the_ones_described(outdir: Path, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    expired = _leaf(_embedded_certs(_case(outdir, "expired_no_timestamp"), tmp_path))
    assert expired.not_valid_after_utc < now - timedelta(days=34)
    future = _leaf(_embedded_certs(_case(outdir, "not_yet_valid"), tmp_path))
    assert future.not_valid_before_utc > now + timedelta(days=29)
    server = _leaf(_embedded_certs(_case(outdir, "bad_key_usage"), tmp_path))
    assert list(server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.SERVER_AUTH
    ]
    weak = _leaf(_embedded_certs(_case(outdir, "weak_key"), tmp_path)).public_key()
    assert isinstance(weak, rsa.RSAPublicKey) and weak.key_size == 1024
    (own,) = _embedded_certs(_case(outdir, "self_signed"), tmp_path)
    assert own.issuer == own.subject


@needs_osslsigncode
def test_wrong_intermediate_embeds_a_same_name_ca_that_did_not_issue_the_leaf(outdir: Path, tmp_path: Path) -> None:
    certs = _embedded_certs(_case(outdir, "wrong_intermediate"), tmp_path)
    leaf = _leaf(certs)
    (embedded_ca,) = [c for c in certs if c is not leaf]
    real_ca = _embedded_certs(_case(outdir, "valid_no_timestamp"), tmp_path)[0]
    assert embedded_ca.subject == leaf.issuer == real_ca.subject
    assert embedded_ca.public_key() != real_ca.public_key()
    leaf.verify_directly_issued_by(real_ca)
    with pytest.raises(InvalidSignature):
        leaf.verify_directly_issued_by(embedded_ca)


@needs_osslsigncode
def test_nested_has_sha1_primary_and_sha256_nested_signature(outdir: Path, anchor: Path) -> None:
    result = _verify_with_anchor(_case(outdir, "nested"), anchor)
    assert result.returncode == 0
    assert "Number of verified signatures: 2" in result.stdout
    digests = [line.split(":")[1].strip() for line in result.stdout.splitlines()
               if line.startswith("Message digest algorithm  :")]
    assert digests == ["SHA1", "SHA256"]


@needs_osslsigncode
def test_tampered_differs_from_valid_by_one_text_byte(outdir: Path) -> None:
    valid, tampered = _case(outdir, "valid_extra_anchor").read_bytes(), _case(outdir, "tampered").read_bytes()
    diffs = [i for i, (a, b) in enumerate(zip(valid, tampered, strict=True)) if a != b]
    text = pefile.PE(data=tampered).sections[0]
    assert len(diffs) == 1 and text.PointerToRawData <= diffs[0] < text.PointerToRawData + text.SizeOfRawData


@needs_osslsigncode
def test_slack_hides_bytes_in_the_certificate_table_without_breaking_the_digest(
    outdir: Path, anchor: Path, tmp_path: Path
) -> None:
    valid, slack = _case(outdir, "valid_extra_anchor").read_bytes(), _case(outdir, "slack").read_bytes()
    offset, size = _security_directory(slack)
    (dw_length,) = struct.unpack_from("<I", slack, offset)
    assert offset + size == len(slack) and offset % 8 == 0
    assert size == dw_length + len(build.SLACK) and size % 8 == 0
    assert slack[offset : offset + dw_length] == valid[offset : offset + dw_length]  # same WIN_CERTIFICATE
    assert slack.endswith(build.SLACK)
    assert pefile.PE(data=slack).verify_checksum()
    rejected = _verify_with_anchor(_case(outdir, "slack"), anchor)
    assert "Corrupted attribute certificate table" in rejected.stdout + rejected.stderr
    # osslsigncode rejects the grown table outright; with the directory size restored, the digest checks out,
    # and the digest never covers the directory size, so it matches in slack.exe too.
    restored = bytearray(slack[: offset + dw_length])
    entry = pefile.PE(data=slack, fast_load=True).OPTIONAL_HEADER.DATA_DIRECTORY[4].get_file_offset()
    struct.pack_into("<I", restored, entry + 4, dw_length)
    (tmp_path / "restored.exe").write_bytes(restored)
    assert _verify_with_anchor(tmp_path / "restored.exe", anchor).returncode == 0


@needs_osslsigncode
def test_truncated_signature_keeps_a_security_directory_past_eof(outdir: Path, anchor: Path) -> None:
    valid = _case(outdir, "valid_extra_anchor").read_bytes()
    truncated = _case(outdir, "truncated_signature").read_bytes()
    offset, size = _security_directory(truncated)
    assert (offset, size) == _security_directory(valid) and size > 0
    assert offset + 8 < len(truncated) < offset + size
    assert truncated == valid[: len(truncated)]
    assert truncated[offset + 8] == 0x30  # the start of a DER SEQUENCE is there, the rest is missing
    # The trap this case sets: osslsigncode (like a naive parser) calls it unsigned.
    result = _verify_with_anchor(_case(outdir, "truncated_signature"), anchor)
    assert "No signature found" in result.stdout + result.stderr


@needs_osslsigncode
def test_lookalike_publisher_in_certificate_and_versioninfo(outdir: Path, tmp_path: Path) -> None:
    path = _case(outdir, "lookalike_publisher")
    leaf = _leaf(_embedded_certs(path, tmp_path))
    for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME):
        assert leaf.subject.get_attributes_for_oid(oid)[0].value == build.LOOKALIKE
    assert _string_table(pefile.PE(data=path.read_bytes()))["CompanyName"] == build.LOOKALIKE
    assert build.LOOKALIKE != "Microsoft Corporation" and build.LOOKALIKE[3:] == "rosoft Corporation"


@needs_osslsigncode
def test_unsigned_has_no_security_directory(outdir: Path) -> None:
    assert _security_directory(_case(outdir, "unsigned").read_bytes()) == (0, 0)


@needs_osslsigncode
def test_cli_writes_the_cases(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert build.main([str(tmp_path / "cli"), "--now", NOW.isoformat()]) == 0
    assert "valid_extra_anchor" in capsys.readouterr().out
    assert (tmp_path / "cli" / "cases.json").is_file()
