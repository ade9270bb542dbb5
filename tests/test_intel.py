"""Threat-intel importers (LOLCerts YAML/CSV, MalwareBazaar CSCB) and matching (gather/intel*.py)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from asn1crypto.core import Integer
from hypothesis import given
from hypothesis import strategies as st

from sigtriage.errors import InputError
from sigtriage.extract.analyze import analyze_file
from sigtriage.extract.trust import TrustStore
from sigtriage.gather import intel_bazaar, intel_lolcerts
from sigtriage.gather.intel import FeedFormat, IntelDatabase, detect_format, load_feed, load_intel
from sigtriage.gather.intel_fields import canonical_serial, certificate_serial_keys, parse_when, thumbprint
from sigtriage.model import Certificate, Name
from sigtriage.model.evidence import IntelEntry

from conftest import SAMPLES, TEST_DATA, needs_samples

INTEL = TEST_DATA / "intel"
KDBAZIS_SERIAL = (-0x724808C7FD2E2642B98C059E8A80D689).to_bytes(16, "big", signed=True).hex()
OLLYPWN_SHA256 = "8dfb90b253159f413236d703a311fa4ac736677d29cc84fc4d16b3b02266fb2f"
EPOCH = datetime(2020, 1, 1, tzinfo=timezone.utc)


def cert(*, serial: str = "01", issuer_cn: str | None = "Example Code Signing CA R1", issuer_dn: str | None = None,
         issuer_o: str | None = None, sha256: str = "ab" * 32) -> Certificate:
    dn = issuer_dn or ", ".join(p for p in (f"CN={issuer_cn}" if issuer_cn else "", f"O={issuer_o}" if issuer_o
                                            else "") if p)
    return Certificate(
        subject=Name(dn="CN=Subject", cn="Subject", o=None), issuer=Name(dn=dn, cn=issuer_cn, o=issuer_o),
        serial=serial, serial_int_hex=serial, sha1="cd" * 20, sha256=sha256, spki_sha256="ef" * 32,
        not_before=EPOCH, not_after=EPOCH, key_algorithm="rsa", key_size=2048, signature_algorithm="sha256_rsa",
        ekus=(), key_usage=(), is_ca=False, self_issued=False, self_signed=False, crl_urls=(), ocsp_urls=(),
        ca_issuer_urls=(), der_base64="")


def entry(**fields: object) -> IntelEntry:
    base: dict[str, object] = {"source": "lolcerts", "sha256": None, "issuer": None, "serial": None,
                               "subject": None, "reason": None, "listed": None, "reference": None}
    return IntelEntry(**{**base, **fields})  # type: ignore[arg-type]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- field normalisation -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "canonical"), [
    ("0a:1b:2c", "0a1b2c"),
    ("87:9f:a9:42", "00879fa942"),  # high bit set, leading 00 missing: added
    ("00879fa942", "00879fa942"),  # already DER: kept
    ("0x879FA942", "00879fa942"),
    ("87 9f a9 42", "00879fa942"),  # Windows' spacing
    ("000a1b", "0a1b"),  # non-minimal: DER is minimal
    ("00", "00"),
    ("-724808c7fd2e2642b98c059e8a80d689", KDBAZIS_SERIAL),  # a negative serial, as openssl prints it
    ("-80", "80"),
    ("-81", "ff7f"),
    ("12g4", None),
    ("", None),
    ("-", None),
])
def test_canonical_serial(text: str, canonical: str | None) -> None:
    assert canonical_serial(text) == canonical


@given(st.integers(min_value=-(2**160), max_value=2**160))
def test_canonical_serial_is_der_integer_content(value: int) -> None:
    text = ("-" if value < 0 else "") + format(abs(value), "x")
    assert canonical_serial(text) == Integer(value).contents.hex()


def test_negative_certificate_serial_is_also_looked_up_as_feeds_print_it() -> None:
    keys = certificate_serial_keys(KDBAZIS_SERIAL)
    assert keys == (KDBAZIS_SERIAL, "724808c7fd2e2642b98c059e8a80d689", "00" + KDBAZIS_SERIAL)
    assert certificate_serial_keys("00879fa942") == ("00879fa942",)
    assert certificate_serial_keys("") == ()
    assert certificate_serial_keys("zz") == ()


@pytest.mark.parametrize(("text", "parsed"), [
    ("BC:4A:37:B5:50:3D:DA:67:DE:81:EC:F4:22:6E:98:B4:0D:78:36:7C:91:B2:0F:43:D8:14:85:3B:DF:3A:D7:A8",
     ("sha256", "bc4a37b5503dda67de81ecf4226e98b40d78367c91b20f43d814853bdf3ad7a8")),
    ("CD" * 20, ("sha1", "cd" * 20)),
    ("cd" * 19, None),
    ("not a hash", None),
])
def test_thumbprint(text: str, parsed: tuple[str, str] | None) -> None:
    assert thumbprint(text) == parsed


@pytest.mark.parametrize(("text", "when"), [
    ("2022-06-17 10:40:02", datetime(2022, 6, 17, 10, 40, 2, tzinfo=timezone.utc)),
    ("2022-05-18T00:00:00Z", datetime(2022, 5, 18, tzinfo=timezone.utc)),
    ("2024-02-07", datetime(2024, 2, 7, tzinfo=timezone.utc)),
    ("15-11-2023", datetime(2023, 11, 15, tzinfo=timezone.utc)),  # LOLCerts writes DD-MM-YYYY
    ("1706486400", datetime(2024, 1, 29, tzinfo=timezone.utc)),
    ("2024-01-29T02:00:00+02:00", datetime(2024, 1, 29, tzinfo=timezone.utc)),
    ("last Tuesday", None),
])
def test_parse_when(text: str, when: datetime | None) -> None:
    assert parse_when(text) == when


# --- LOLCerts --------------------------------------------------------------------------------------------------


def test_lolcerts_fixture_folder() -> None:
    db = load_intel([INTEL / "lolcerts"])
    assert db.warnings == ()
    assert len(db) == 3
    kdbazis = next(e for e in db.entries if e.issuer == "VirtualKD-Redux CA")
    assert kdbazis == entry(
        issuer="VirtualKD-Redux CA", serial=KDBAZIS_SERIAL, listed=datetime(2026, 12, 3, tzinfo=timezone.utc),
        reason="leaked, revoked: Fixture: the VirtualKD-Redux test signing certificate (negative serial, written "
               "as openssl prints it).", reference="https://example.invalid/sigtriage/fixtures/virtualkd-redux")
    high_bit = next(e for e in db.entries if e.serial and e.serial.startswith("00"))
    assert high_bit.serial == "00e19c274a0b536d88901faa3c5e7102d4"
    assert high_bit.issuer == "Example Code Signing CA R1"
    thumb = next(e for e in db.entries if e.sha256)
    assert thumb.sha256 == "bc4a37b5503dda67de81ecf4226e98b40d78367c91b20f43d814853bdf3ad7a8"
    assert thumb.subject == "Example Fictional Publisher Ltd"
    assert thumb.reason == "Malicious: Fixture, fictional certificate listed by SHA-256 thumbprint only."
    assert thumb.listed == datetime(2024, 2, 7, tzinfo=timezone.utc)


def test_lolcerts_yaml_is_read_liberally(tmp_path: Path) -> None:
    text = """\
- NAME: bare_serials
  ISSUER: Example CA
  SERIAL: 12:34:56
- name: several
  issuer: Example CA
  serial: [0123, ab:cd]
  thumbprint: ["SHA_A"]
---
name: both_keys
issuer: Example CA
serial: ff:01
Thumbprint: "SHA_B"
meta: {status: revoked, source: "https://example.invalid/ref", description: "  spread
  over lines  "}
---
""".replace("SHA_A", "11" * 32).replace("SHA_B", "22" * 32)
    feed = intel_lolcerts.parse_yaml(text, "inline.yml")
    assert feed.warnings == ()
    # YAML 1.1 would read 12:34:56 as a base-60 integer and 0123 as octal: serials stay text.
    assert [(e.serial, e.sha256) for e in feed.entries] == [
        ("123456", None), ("0123", None), ("00abcd", None), (None, "11" * 32), ("00ff01", "22" * 32)]
    both = feed.entries[-1]
    assert both.reason == "revoked: spread over lines"
    assert both.reference == "https://example.invalid/ref"


def test_lolcerts_unusable_entries_are_skipped_with_warnings(tmp_path: Path) -> None:
    text = """\
- name: no_keys
  issuer: Example CA
- name: serial_without_issuer
  serial: 0a:0b
- name: sha1_only
  sha1: "SHA_1"
- name: bad_values
  issuer: Example CA
  serial: ["zz:top", "0c"]
  thumbprint: "12345"
  date: someday
- just a string
""".replace("SHA_1", "cd" * 20)
    feed = intel_lolcerts.parse_yaml(text, "feed.yml")
    assert [(e.serial, e.listed) for e in feed.entries] == [("0c", None)]
    assert feed.warnings == (
        "feed.yml: no_keys: skipped: no SHA-256 thumbprint and no issuer + serial",
        "feed.yml: serial_without_issuer: serial without issuer cannot be matched; ignored",
        "feed.yml: serial_without_issuer: skipped: no SHA-256 thumbprint and no issuer + serial",
        "feed.yml: sha1_only: skipped: no SHA-256 thumbprint and no issuer + serial "
        "(a SHA-1 thumbprint is not a match key)",
        "feed.yml: bad_values: serial 'zz:top' is not hexadecimal; ignored",
        "feed.yml: bad_values: thumbprint '12345' is neither SHA-256 nor SHA-1; ignored",
        "feed.yml: bad_values: date 'someday' not understood; left empty",
        "feed.yml: record 5 is not a mapping; ignored",
    )


def test_lolcerts_csv_export_with_its_defects() -> None:
    feed = load_feed(INTEL / "lolcerts-export.csv")
    assert feed.warnings == ()
    assert [(e.serial, e.issuer, e.listed) for e in feed.entries] == [
        ("2b7e151628aed2a6abf7158809cf4f3c", "Example Code Signing CA R2",
         datetime(2023, 8, 31, tzinfo=timezone.utc)),
        ("009a4c2e7105b3d86f10e247c93a58bd16", "Example Code Signing CA R2",
         datetime(2023, 11, 15, tzinfo=timezone.utc)),
    ]
    assert feed.entries[0].reason == "leaked, revoked: Fixture: leaked certificate of Example Fictional Co., Ltd " \
                                     "used by malware."
    assert feed.entries[0].reference == "https://example.invalid/sigtriage/fixtures/export-one"


def test_lolcerts_csv_properly_quoted_and_truncated(tmp_path: Path) -> None:
    text = ('Name,Issuer,Serial,Description\n'
            '"one","Example CA","0a:0b","quoted, with a comma"\n'
            'two,Example CA\n')
    feed = load_feed(write(tmp_path, "export.csv", text))
    assert [(e.serial, e.reason) for e in feed.entries] == [("0a0b", "quoted, with a comma")]
    assert feed.warnings == (f"{tmp_path / 'export.csv'}: incomplete record at end of file; ignored",)


# --- MalwareBazaar ---------------------------------------------------------------------------------------------


def test_malwarebazaar_fixture() -> None:
    feed = load_feed(INTEL / "malwarebazaar-cscb.csv")
    assert feed.warnings == ()
    assert [e.sha256 for e in feed.entries] == [
        OLLYPWN_SHA256,
        "daa0740d85578b8c614b267699454c90e3fb4a04cd1d7a421cb9db391eb814e8",
        "9548f0fdce34cc3614f58fb520547129daf8bdb1900d6b7a70ea61d0e29a96bd",
    ]
    first, second, third = feed.entries
    assert first == IntelEntry(
        source="malwarebazaar", sha256=OLLYPWN_SHA256, issuer="OLLYPWN",
        serial="4ecc0f65072f6771824dbb7c943b304bff0679ae", subject="ollypwn",
        reason="Fixture: CVE-2020-0601 spoofed signer", listed=datetime(2026, 12, 3, 10, 0, tzinfo=timezone.utc),
        reference=None)
    assert second.serial == "00f3a1c94e27b05d6e"  # leading 00 restored
    assert second.subject == "Example Fictional Trading, s.r.o."
    assert third.reason == "Fixture: fictional stealer, with a comma"


def test_malwarebazaar_api_field_names_bare_fields_and_bad_rows(tmp_path: Path) -> None:
    text = (
        "# a dump with an uncommented header\n"
        "first_seen_utc,cscb_listed,serial_number,thumbprint,thumbprint_algorithm,subject_cn,issuer_cn,cscb_reason\n"
        f"2024-01-02 03:04:05,true,0a0b,{'11' * 32},SHA256,Alpha,Example CA,Loader\n"
        f"2024-01-02 03:04:05,false,0a0c,{'22' * 32},SHA256,Beta,Example CA,Delisted\n"
        f"2024-01-02 03:04:05,true,0a0d,{'33' * 20},SHA1,Gamma,Example CA,Stealer\n"
        f"2024-01-02 03:04:05,true,,{'44' * 20},SHA1,Delta,,RAT\n"
        "2024-01-02 03:04:05,true,0a0e\n"
    )
    path = write(tmp_path, "cscb.txt", text)
    assert detect_format(path, text) is FeedFormat.MALWAREBAZAAR_CSV
    feed = load_feed(path)
    assert [(e.sha256, e.serial, e.reason) for e in feed.entries] == [
        ("11" * 32, "0a0b", "Loader"), (None, "0a0d", "Stealer")]  # a SHA-1 row still matches by issuer + serial
    assert [w.split(": ", 1)[1] for w in feed.warnings] == [
        "line 4: not listed on the blocklist (cscb_listed is false); ignored",
        f"line 5: thumbprint '{'33' * 20}' (sha1) is not a SHA-256; not a match key",
        f"line 6: thumbprint '{'44' * 20}' (sha1) is not a SHA-256; not a match key",
        "line 6: skipped: no SHA-256 thumbprint and no issuer + serial",
        "line 7: 3 fields where the header has 8; ignored",
    ]


def test_malwarebazaar_without_header_is_an_input_error() -> None:
    with pytest.raises(InputError) as error:
        intel_bazaar.parse_csv("# comment\n\"a\", \"b\"\n", "cscb.csv")
    assert error.value.context == "cscb.csv"


# --- loading ---------------------------------------------------------------------------------------------------


def test_detect_format(tmp_path: Path) -> None:
    assert detect_format(Path("x.YAML"), "") is FeedFormat.LOLCERTS_YAML
    assert detect_format(INTEL / "lolcerts-export.csv", (INTEL / "lolcerts-export.csv").read_text()) \
        is FeedFormat.LOLCERTS_CSV
    assert detect_format(INTEL / "malwarebazaar-cscb.csv", (INTEL / "malwarebazaar-cscb.csv").read_text()) \
        is FeedFormat.MALWAREBAZAAR_CSV


@pytest.mark.parametrize(("name", "content", "message"), [
    ("unknown.csv", "a,b,c\n1,2,3\n", "not a known threat-intel format"),
    ("broken.yml", "name: [unclosed\n", "not valid YAML"),
    ("latin1.csv", "caf\xe9", "not UTF-8"),
    ("binary.csv", "serial_number,thumbprint\n\x00\x01", "NUL bytes"),
])
def test_bad_files_are_input_errors_naming_the_file(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content.encode("latin-1"))
    with pytest.raises(InputError) as error:
        load_intel([path])
    assert error.value.context == str(path)
    assert message in error.value.message


def test_a_feed_without_entries_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.yml", "# nothing yet\n")
    assert load_intel([path]).warnings == (f"{path}: no usable entries",)


def test_missing_path_and_empty_folder_are_input_errors(tmp_path: Path) -> None:
    for path in (tmp_path / "absent", tmp_path):
        with pytest.raises(InputError) as error:
            load_intel([path])
        assert error.value.context == str(path)


def test_folder_loads_yaml_outside_hidden_folders(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", "issuer: Example CA\nserial: ['01']\n")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "b.YAML", "issuer: Example CA\nserial: ['02']\n")
    (tmp_path / ".github").mkdir()
    write(tmp_path / ".github", "workflow.yml", "on: push\n")
    write(tmp_path, "export.csv", "name,issuer,serial\nx,Example CA,03\n")
    db = load_intel([tmp_path, str(tmp_path / "a.yml")])  # the same entry twice counts once
    assert sorted(e.serial or "" for e in db.entries) == ["01", "02"]
    assert db.warnings == ()


# --- matching --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fixtures_db() -> IntelDatabase:
    return load_intel([INTEL / "lolcerts", INTEL / "malwarebazaar-cscb.csv", INTEL / "lolcerts-export.csv"])


def test_match_by_sha256(fixtures_db: IntelDatabase) -> None:
    found = fixtures_db.match(cert(sha256="bc4a37b5503dda67de81ecf4226e98b40d78367c91b20f43d814853bdf3ad7a8",
                                   issuer_cn="Unrelated CA"))
    assert [(m.matched_by, m.entry.source) for m in found] == [("sha256", "lolcerts")]
    assert found[0].certificate == "bc4a37b5503dda67de81ecf4226e98b40d78367c91b20f43d814853bdf3ad7a8"


def test_match_high_bit_serial_written_without_leading_zero(fixtures_db: IntelDatabase) -> None:
    found = fixtures_db.match(cert(serial="00e19c274a0b536d88901faa3c5e7102d4",
                                   issuer_cn="  example   CODE signing ca r1 "))
    assert [(m.matched_by, m.entry.serial) for m in found] == [("issuer+serial", "00e19c274a0b536d88901faa3c5e7102d4")]


@pytest.mark.parametrize("issuer", [
    "VirtualKD-Redux CA", "virtualkd-redux ca", "CN=VirtualKD-Redux CA", "/CN=VirtualKD-Redux CA",
    "CN=VirtualKD-Redux CA, O=Other", "virtualkd-redux  CA",
])
@pytest.mark.parametrize("serial", [
    "-724808c7fd2e2642b98c059e8a80d689",  # openssl
    "72:48:08:c7:fd:2e:26:42:b9:8c:05:9e:8a:80:d6:89",  # YARA / LOLCerts: magnitude without sign
    "8d b7 f7 38 02 d1 d9 bd 46 73 fa 61 75 7f 29 77",  # Windows: the raw bytes
])
def test_match_negative_serial_in_every_spelling(issuer: str, serial: str) -> None:
    db = IntelDatabase([entry(issuer=issuer, serial=canonical_serial(serial))])
    found = db.match(cert(serial=KDBAZIS_SERIAL, issuer_cn="VirtualKD-Redux CA",
                          issuer_dn="CN=VirtualKD-Redux CA"))
    assert [m.matched_by for m in found] == ["issuer+serial"]


def test_match_on_full_dn_in_another_order_and_on_o_without_cn() -> None:
    db = IntelDatabase([
        entry(issuer="/C=US/O=Example Inc/CN=Example CA", serial="0a"),
        entry(issuer="OLLYPWN", serial="4ecc"),
        entry(issuer="C=DK, S=Denmark, O=OLLYPWN", serial="4ecd"),
    ])
    assert len(db.match(cert(serial="0a", issuer_cn="Example CA", issuer_dn="CN=Example CA, O=Example Inc, C=US"))) == 1
    no_cn = cert(serial="4ecc", issuer_cn=None, issuer_o="OLLYPWN", issuer_dn="O=OLLYPWN, ST=Denmark, C=DK")
    assert len(db.match(no_cn)) == 1
    assert len(db.match(cert(serial="4ecd", issuer_cn=None, issuer_o="OLLYPWN",
                             issuer_dn="O=OLLYPWN, ST=Denmark, C=DK"))) == 1


def test_no_match_on_serial_with_another_issuer_or_another_serial() -> None:
    db = IntelDatabase([entry(issuer="Example CA", serial="0a0b")])
    assert db.match(cert(serial="0a0b", issuer_cn="Example CA 2")) == []
    assert db.match(cert(serial="0a0c", issuer_cn="Example CA")) == []
    assert db.match(cert(serial="0a0b", issuer_cn=None, issuer_o=None, issuer_dn="")) == []


def test_an_entry_matched_by_both_keys_is_reported_once_by_sha256() -> None:
    both = entry(issuer="Example CA", serial="0a0b", sha256="ab" * 32)
    db = IntelDatabase([both, both, entry(issuer="Example CA", serial="0a0b", source="malwarebazaar")])
    found = db.match(cert(serial="0a0b", issuer_cn="Example CA", sha256="ab" * 32))
    assert [(m.matched_by, m.entry.source) for m in found] == [
        ("sha256", "lolcerts"), ("issuer+serial", "malwarebazaar")]
    assert len(db) == 2


@needs_samples
@pytest.mark.samples
@pytest.mark.parametrize(("sample", "matched_by", "source"), [
    ("kdbazis.dll", "issuer+serial", "lolcerts"),
    ("7z1900-x64_signed.exe", "sha256", "malwarebazaar"),
])
def test_real_samples_match_the_fixtures(fixtures_db: IntelDatabase, trust: TrustStore, sample: str,
                                         matched_by: str, source: str) -> None:
    report = analyze_file(SAMPLES / sample, trust)
    signer = report.signatures[0].signer
    assert signer is not None
    assert [(m.matched_by, m.entry.source) for m in fixtures_db.match(signer)] == [(matched_by, source)]


@needs_samples
@pytest.mark.samples
def test_clean_sample_matches_nothing(fixtures_db: IntelDatabase, trust: TrustStore) -> None:
    report = analyze_file(SAMPLES / "sigcheck.exe", trust)
    certs = [c for s in report.signatures for c in (*s.chain, *s.embedded_certificates)]
    assert certs and all(fixtures_db.match(c) == [] for c in certs)
