"""Generate synthetic Authenticode test files: one PE per signature defect sigtriage must recognise.

Real malware and real vendors' binaries cannot be committed, and public samples rarely isolate a single
defect, so every case here is a tiny PE from `minipe`, signed by osslsigncode with keys from the test PKI
in `pki`, then (for some cases) edited byte-wise. Nothing touches the network: timestamps come from
osslsigncode's built-in RFC 3161 TSA (-TSA-certs/-TSA-key/-TSA-time).

Usage: python test_data/synthetic/build.py OUTDIR [--now ISO-8601-UTC]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import struct
import subprocess
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling scripts are not a package
import minipe  # noqa: E402
import pki  # noqa: E402

OSSLSIGNCODE_TIMEOUT = 60
PUBLISHER = "sigtriage Test Publisher"
LOOKALIKE = "\u041c\u0456\u0441rosoft Corporation"
"""'Microsoft Corporation' with Cyrillic Em, Byelorussian-Ukrainian I and Es as its first three letters."""
SLACK = b"SIGTRIAGE-SLACK-" * 4
"""64 bytes (a multiple of 8, so the table stays 8-byte aligned) hidden after the PKCS#7 blob."""
ANCHOR = Path("anchors/root.pem")

_SECURITY_DIRECTORY = 4
_TAMPER_OFFSET = 0x100
"""Offset inside .text of the flipped byte: past the entry code, inside the filler."""


class GeneratorError(RuntimeError):
    """The test files could not be generated (osslsigncode missing or failing)."""


@dataclass(frozen=True)
class Case:
    """One generated file and what a correct analyser must say about it (see README.md)."""

    name: str
    path: str
    description: str
    expected_status: str
    """With anchors/root.pem added as an extra trust anchor."""
    expected_status_without_anchor: str | None
    """None where both untrusted_root and the case's own defect apply: precedence is sigtriage's policy."""
    timestamped: bool
    traits: tuple[str, ...] = ()
    """What later findings should pick up beyond the status, e.g. "weak_key"."""


def osslsigncode(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run osslsigncode, failing loudly: a silently unsigned "signed" case would make tests lie."""
    exe = shutil.which("osslsigncode")
    if exe is None:
        raise GeneratorError("osslsigncode not found on PATH; install it (Debian/Ubuntu: apt-get install osslsigncode)")
    try:
        result = subprocess.run(
            [exe, *map(str, args)], capture_output=True, text=True, timeout=OSSLSIGNCODE_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise GeneratorError(f"osslsigncode {args[0]} timed out after {OSSLSIGNCODE_TIMEOUT} s") from exc
    if result.returncode != 0:
        raise GeneratorError(f"osslsigncode {' '.join(map(str, args))} failed:\n{result.stdout}{result.stderr}")
    return result


def _unix(moment: datetime) -> str:
    return str(int(moment.timestamp()))


@dataclass(frozen=True)
class _Signer:
    """The files osslsigncode needs for one signing identity."""

    key: Path
    certs: Path


def _signer(pki_dir: Path, name: str, identity: pki.Identity, *embedded: pki.Identity) -> _Signer:
    """Write key and certificate files; `embedded` are the extra certificates placed in the signature."""
    return _Signer(
        pki.write_key(pki_dir / f"{name}.key", identity.key),
        pki.write_certs(pki_dir / f"{name}.pem", [identity.cert, *(e.cert for e in embedded)]),
    )


def _sign(
    infile: Path,
    outfile: Path,
    credentials: list[str | Path],
    *,
    signing_time: datetime,
    digest: str = "sha256",
    tsa: _Signer | None = None,
    nest: bool = False,
) -> Path:
    """Sign with a fixed signingTime (for reproducibility) and, with `tsa`, an offline RFC 3161 timestamp."""
    outfile.unlink(missing_ok=True)  # osslsigncode refuses to overwrite, which would break a rebuild
    args: list[str | Path] = ["sign", *credentials, "-h", digest, "-time", _unix(signing_time)]
    if tsa:
        args += ["-TSA-certs", tsa.certs, "-TSA-key", tsa.key, "-TSA-time", _unix(signing_time)]
    if nest:
        args.append("-nest")
    osslsigncode(*args, "-in", infile, "-out", outfile)
    return outfile


def _key_certs(signer: _Signer) -> list[str | Path]:
    return ["-certs", signer.certs, "-key", signer.key]


def _optional_header(data: bytes | bytearray) -> int:
    (e_lfanew,) = struct.unpack_from("<I", data, 0x3C)
    return e_lfanew + 4 + 20


def _security_directory(data: bytes | bytearray) -> tuple[int, int, int]:
    """Return (file offset of the directory entry, table offset, table size) of the certificate table."""
    entry = _optional_header(data) + 112 + 8 * _SECURITY_DIRECTORY
    offset, size = struct.unpack_from("<II", data, entry)
    return entry, offset, size


def pe_checksum(data: bytes | bytearray) -> int:
    """The PE CheckSum (imagehlp's CheckSumMappedFile): 16-bit one's-complement sum plus the file length."""
    checksum_at = _optional_header(data) + 64
    padded = bytes(data[:checksum_at]) + b"\0\0\0\0" + bytes(data[checksum_at + 4 :]) + b"\0" * (len(data) % 2)
    total = sum(struct.unpack(f"<{len(padded) // 2}H", padded))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total + len(data)


def _set_checksum(data: bytearray) -> None:
    struct.pack_into("<I", data, _optional_header(data) + 64, pe_checksum(data))


def _tamper(signed: bytes) -> bytes:
    """Flip one byte of .text: the Authenticode digest no longer matches; the signature blob is untouched."""
    data = bytearray(signed)
    optional_header = _optional_header(data)
    (size_of_optional_header,) = struct.unpack_from("<H", data, optional_header - 4)
    (text_raw,) = struct.unpack_from("<I", data, optional_header + size_of_optional_header + 20)
    data[text_raw + _TAMPER_OFFSET] ^= 0xFF
    return bytes(data)


def _add_slack(signed: bytes) -> bytes:
    """CVE-2013-3900: grow the security directory over appended bytes, leaving WIN_CERTIFICATE.dwLength alone.

    The Authenticode digest skips the whole table, so the signature stays valid while carrying a payload;
    the checksum is fixed up as a careful attacker would.
    """
    data = bytearray(signed)
    entry, offset, size = _security_directory(data)
    if offset + size != len(data):
        raise GeneratorError("expected the certificate table at the end of the file")
    data += SLACK
    struct.pack_into("<I", data, entry + 4, size + len(SLACK))
    _set_checksum(data)
    return bytes(data)


def _truncate_signature(signed: bytes) -> bytes:
    """Cut the file in the middle of the PKCS#7, as a broken download would; the directory still claims it all."""
    _, offset, _ = _security_directory(signed)
    (length,) = struct.unpack_from("<I", signed, offset)
    return signed[: offset + 8 + (length - 8) // 2]


def build_cases(outdir: Path, *, now: datetime | None = None) -> dict[str, Path]:
    """Write every case, `anchors/root.pem`, the PKI files (`pki/`) and `cases.json` under `outdir`.

    `now` (default: the current time) anchors every validity period, signing time and timestamp; with a
    fixed `now` the output is identical between runs except for timestamped cases, where osslsigncode's
    TSA picks a random serial number. Returns case name -> file path.
    """
    if now is not None and now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = (now or pki.utcnow()).astimezone(UTC).replace(microsecond=0)
    outdir.mkdir(parents=True, exist_ok=True)
    pki_dir, work = outdir / "pki", outdir / "work"
    for directory in (pki_dir, work, outdir / ANCHOR.parent):
        directory.mkdir(exist_ok=True)

    root = pki.root_ca(now=now)
    intermediate = pki.intermediate_ca(root, now=now)
    impostor = pki.intermediate_ca(root, key_label="B", now=now)
    timestamping = pki.tsa(root, now=now)
    pki.write_certs(outdir / ANCHOR, [root.cert])
    pki.write_der(pki_dir / "root.cer", root.cert)

    def leaf(
        cn: str,
        *,
        not_before: datetime = now - timedelta(days=30),
        not_after: datetime = now + timedelta(days=365),
        eku: tuple[x509.ObjectIdentifier, ...] = pki.CODE_SIGNING,
        key_usage: frozenset[str] = pki.DIGITAL_SIGNATURE,
        key_size: int = 2048,
    ) -> pki.Identity:
        """A leaf under the real intermediate with CN = O = `cn`, valid now-30d..now+365d unless told otherwise."""
        return pki.code_signing_leaf(intermediate, cn, cn, not_before, not_after, eku=eku, key_usage=key_usage,
                                     key_size=key_size)

    publisher_identity = leaf(PUBLISHER)
    publisher = _signer(pki_dir, "publisher", publisher_identity, intermediate)
    tsa_files = _signer(pki_dir, "tsa", timestamping)  # no root in the token: -TSA-CAfile must supply it

    unsigned = minipe.write_pe(
        outdir / "unsigned.exe", company=PUBLISHER, product="sigtriage Synthetic Test",
        description="sigtriage synthetic Authenticode test case", original_filename="sigtriage-test.exe",
    )
    lookalike_pe = minipe.write_pe(
        work / "lookalike_unsigned.exe", company=LOOKALIKE, product="Microsoft\u00ae Windows\u00ae Operating System",
        description="Windows Update Helper", original_filename="wuhelper.exe", file_version="10.0.19041.1",
    )

    cases: list[Case] = []
    paths: dict[str, Path] = {}

    def add(path: Path, description: str, status: str, without_anchor: str | None, *, timestamped: bool = False,
            traits: tuple[str, ...] = ()) -> None:
        name = path.stem
        cases.append(Case(name, path.relative_to(outdir).as_posix(), description, status, without_anchor,
                          timestamped, traits))
        paths[name] = path

    valid = _sign(unsigned, outdir / "valid_extra_anchor.exe", _key_certs(publisher), signing_time=now,
                  tsa=tsa_files)
    add(valid, "leaf -> intermediate -> test root, SHA-256, RFC 3161 timestamp by the test TSA", "valid",
        "untrusted_root", timestamped=True)

    add(_sign(unsigned, outdir / "valid_no_timestamp.exe", _key_certs(publisher), signing_time=now),
        "same chain as valid_extra_anchor, no timestamp", "valid", "untrusted_root")

    self_signed = pki.self_signed_leaf("sigtriage Self-Signed Publisher", o="sigtriage Self-Signed Publisher",
                                       now=now)
    add(_sign(unsigned, outdir / "self_signed.exe",
              ["-pkcs12", pki.write_pkcs12(pki_dir / "self_signed.p12", self_signed)], signing_time=now),
        "signed with a self-signed code-signing certificate (signed via PKCS#12)", "self_signed", "self_signed")

    expired = _signer(pki_dir, "expired", leaf("sigtriage Expired Publisher", not_before=now - timedelta(days=400),
                                               not_after=now - timedelta(days=35)), intermediate)
    add(_sign(unsigned, outdir / "expired_no_timestamp.exe", _key_certs(expired),
              signing_time=now - timedelta(days=60)),
        "leaf valid now-400d..now-35d, signed (signingTime now-60d) without a timestamp", "expired", None)

    future = _signer(pki_dir, "not_yet_valid", leaf("sigtriage Future Publisher",
                                                    not_before=now + timedelta(days=30),
                                                    not_after=now + timedelta(days=395)), intermediate)
    add(_sign(unsigned, outdir / "not_yet_valid.exe", _key_certs(future), signing_time=now),
        "leaf valid from now+30d, signed now without a timestamp", "not_yet_valid", None)

    server_auth = _signer(pki_dir, "bad_key_usage", leaf(
        "sigtriage TLS Server", eku=(ExtendedKeyUsageOID.SERVER_AUTH,),
        key_usage=frozenset({"digital_signature", "key_encipherment"})), intermediate)
    add(_sign(unsigned, outdir / "bad_key_usage.exe", _key_certs(server_auth), signing_time=now),
        "leaf with EKU serverAuth only (a TLS certificate), no codeSigning", "bad_key_usage", None)

    tampered = outdir / "tampered.exe"
    tampered.write_bytes(_tamper(valid.read_bytes()))
    add(tampered, f"valid_extra_anchor with the byte at .text+{_TAMPER_OFFSET:#x} flipped after signing",
        "digest_mismatch", "digest_mismatch", timestamped=True)

    slack = outdir / "slack.exe"
    slack.write_bytes(_add_slack(valid.read_bytes()))
    add(slack, f"valid_extra_anchor with {len(SLACK)} bytes appended inside the certificate table "
        "(directory size grown, dwLength unchanged: CVE-2013-3900)", "valid", "untrusted_root", timestamped=True,
        traits=("cert_table_slack",))

    truncated = outdir / "truncated_signature.exe"
    truncated.write_bytes(_truncate_signature(valid.read_bytes()))
    add(truncated, "valid_extra_anchor cut in the middle of the PKCS#7; the security directory points past EOF",
        "malformed", "malformed", timestamped=True)

    add(unsigned, "the plain PE, with VERSIONINFO", "unsigned", "unsigned")

    sha1_only = _sign(unsigned, work / "nested_sha1_only.exe", _key_certs(publisher), signing_time=now,
                      digest="sha1")
    add(_sign(sha1_only, outdir / "nested.exe", _key_certs(publisher), signing_time=now, nest=True),
        "SHA-1 primary signature with a nested SHA-256 signature (dual signing)", "valid", "untrusted_root",
        traits=("sha1_primary", "nested_signature"))

    wrong = _signer(pki_dir, "wrong_intermediate", publisher_identity, impostor)
    add(_sign(unsigned, outdir / "wrong_intermediate.exe", _key_certs(wrong), signing_time=now),
        "the publisher leaf (issued by intermediate A) with intermediate B embedded instead: same subject DN, "
        "other key, so the embedded chain does not link",
        "chain_invalid", "chain_invalid")

    lookalike = _signer(pki_dir, "lookalike", leaf(LOOKALIKE), intermediate)
    add(_sign(lookalike_pe, outdir / "lookalike_publisher.exe", _key_certs(lookalike), signing_time=now),
        "valid chain; leaf CN/O and VERSIONINFO CompanyName are 'Microsoft Corporation' with Cyrillic "
        "look-alike letters", "valid", "untrusted_root", traits=("lookalike_publisher",))

    weak = _signer(pki_dir, "weak_key", leaf("sigtriage Weak Key Publisher", key_size=1024), intermediate)
    add(_sign(unsigned, outdir / "weak_key.exe", _key_certs(weak), signing_time=now),
        "valid chain, leaf key RSA-1024", "valid", "untrusted_root", traits=("weak_key",))

    manifest = {
        "generator": "test_data/synthetic/build.py",
        "now": now.isoformat(),
        "anchor": ANCHOR.as_posix(),
        "cases": [asdict(case) for case in cases],
    }
    (outdir / "cases.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return paths


@dataclass(frozen=True)
class SignedFile:
    """A PE signed by `sign_file`, with the PKI that signed it (tests issue CRLs with `intermediate`)."""

    path: Path
    anchor: Path
    root: pki.Identity
    intermediate: pki.Identity
    leaf: pki.Identity


def sign_file(unsigned: Path, workdir: Path, *, now: datetime | None = None, cn: str = PUBLISHER,
              not_before: datetime | None = None, crl_url: str | None = None, ocsp_url: str | None = None,
              timestamp: bool = True) -> SignedFile:
    """Sign any PE with a test leaf (SHA-256; RFC 3161 timestamp unless told not to): for benchmarks on large
    files and for assessment tests that need a leaf with a CRL/OCSP URL, a given age or a given name."""
    now = (now or pki.utcnow()).astimezone(UTC).replace(microsecond=0)
    pki_dir = workdir / "pki"
    pki_dir.mkdir(parents=True, exist_ok=True)
    root = pki.root_ca(now=now)
    intermediate = pki.intermediate_ca(root, now=now)
    identity = pki.code_signing_leaf(intermediate, cn, cn, not_before or now - timedelta(days=30),
                                     now + timedelta(days=365), crl_url=crl_url, ocsp_url=ocsp_url)
    label = hashlib.sha256(f"{cn}|{not_before}|{crl_url}|{ocsp_url}".encode()).hexdigest()[:12]
    publisher = _signer(pki_dir, f"leaf-{label}", identity, intermediate)
    tsa_files = _signer(pki_dir, "tsa", pki.tsa(root, now=now)) if timestamp else None
    anchor = pki.write_certs(workdir / "root.pem", [root.cert])
    signed = _sign(unsigned, workdir / f"{unsigned.stem}-{label}{unsigned.suffix}", _key_certs(publisher),
                   signing_time=now, tsa=tsa_files)
    return SignedFile(signed, anchor, root, intermediate, identity)

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--now", type=datetime.fromisoformat,
                        help="reference time, e.g. 2025-01-01T00:00:00+00:00 (default: now)")
    args = parser.parse_args(argv)
    if args.now is not None and args.now.tzinfo is None:
        parser.error("--now needs a UTC offset, e.g. 2025-01-01T00:00:00+00:00")
    try:
        paths = build_cases(args.outdir, now=args.now)
    except GeneratorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for name, path in paths.items():
        print(f"{name:24} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
