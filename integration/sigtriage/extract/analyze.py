"""Analyse one file: detect its format, hash it once, describe every signature, derive status and findings.

The only entry point of the extract layer: `analyze_file(path, trust, options) -> AnalysisReport`.
It raises InputError for a file it cannot read at all; everything about the file's *content*, however broken,
becomes a status and a message in the report.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

from signify.authenticode import AuthenticodeSignature, CertificateTrustList
from signify.authenticode.signed_file import SignedPEFile
from signify.exceptions import SignifyError

from sigtriage import __version__
from sigtriage.errors import InputError
from sigtriage.extract.findings import analysis_findings
from sigtriage.extract.hashing import Digests, Range, digest_stream
from sigtriage.extract.limits import time_limit
from sigtriage.extract.pe import CertTableError, PEFacts, PEParseError, read_cert_table, read_pe
from sigtriage.extract.signatures import CertificateCache, SignatureInput, describe_signature, windows_status
from sigtriage.extract.trust import TrustStore
from sigtriage.model import AnalysisReport, CertTable, FileFacts, Signature, Status

MSI_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
FLAT_EXTENSIONS = {".inf", ".ini", ".txt", ".xml", ".cfg", ".bin", ".cab", ".mui"}
"""Files Windows signs through catalogs rather than an embedded signature; others of no known format are unsupported."""
PARSE_ERRORS = (SignifyError, ValueError, TypeError, KeyError, IndexError, AttributeError, EOFError, OSError)
"""What the parsers raise on hostile input; each becomes `malformed`, never a crash."""


@dataclass(frozen=True)
class Options:
    catalogs: tuple[Path, ...] = ()
    at: datetime | None = None
    all_hashes: bool = False
    timeout: float | None = 120.0


@dataclass
class _Work:
    """Mutable scratch for one file; only the frozen report leaves this module."""

    path: Path
    stream: BinaryIO
    size: int
    fmt: str = "flat"
    pe: PEFacts | None = None
    cert_table: CertTable | None = None
    ranges: tuple[Range, ...] = ()
    errors: list[str] = field(default_factory=list)
    status: Status | None = None

    def fail(self, status: Status, message: str) -> None:
        self.errors.append(message)
        self.status = self.status or status


def _whole_algorithms(options: Options) -> tuple[str, ...]:
    return ("sha256", "sha1", "md5") if options.all_hashes else ("sha256",)


Catalogs = list[tuple[str, CertificateTrustList]]
"""Parsed security catalogs by file name: parsed once per run (a catalog can run to megabytes), used per file."""


def load_catalogs(paths: tuple[Path, ...]) -> Catalogs:
    catalogs = []
    for path in paths:
        try:
            catalogs.append((path.name, CertificateTrustList.from_envelope(path.read_bytes())))
        except OSError as exc:
            raise InputError(f"cannot read catalog: {exc.strerror}", context=str(path)) from exc
        except PARSE_ERRORS as exc:
            raise InputError(f"not a signed catalog: {exc}", context=str(path)) from exc
    return catalogs


def _walk_signatures(tops: list[AuthenticodeSignature]) -> list[tuple[AuthenticodeSignature, int | None]]:
    """Top-level signatures in file order, each followed by its nested ones (depth first), with parent indexes."""
    ordered: list[tuple[AuthenticodeSignature, int | None]] = []

    def visit(sig: AuthenticodeSignature, parent: int | None) -> None:
        index = len(ordered)
        ordered.append((sig, parent))
        for nested in sig.signer_info.nested_signed_datas:
            visit(nested, index)

    for top in tops:
        visit(top, None)
    return ordered


def _pe_signatures(work: _Work) -> list[tuple[AuthenticodeSignature, int | None]]:
    try:
        work.pe = read_pe(work.path, work.size)
    except PEParseError as exc:
        work.fail(Status.MALFORMED, str(exc))
        return []
    signed = SignedPEFile(work.stream)
    try:
        omit = signed.get_authenticode_omit_sections()
    except PARSE_ERRORS as exc:
        work.fail(Status.MALFORMED, f"PE headers do not allow Authenticode hashing: {exc}")
        return []
    if omit:
        cuts = sorted(omit.values())
        starts = [0] + [c.start + c.length for c in cuts]
        ends = [c.start for c in cuts] + [work.size]
        work.ranges = tuple(Range(s, e) for s, e in zip(starts, ends, strict=True) if e > s)
    offset, size = work.pe.security_directory
    if not size:
        return []
    try:
        work.cert_table = read_cert_table(work.stream, offset, size, work.size)
        # signify stops at the first entry it cannot parse; slack after the last entry is such a stop, and
        # legitimate (reported as a finding), so compare what it parsed with the entries the table holds
        tops = list(signed.iter_embedded_signatures(include_nested=False, ignore_parse_errors=True))
        if len(tops) < work.cert_table.entries:
            work.fail(Status.MALFORMED, f"only {len(tops)} of {work.cert_table.entries} certificate table entries "
                      "hold a signature that parses")
        return _walk_signatures(tops)
    except CertTableError as exc:
        work.fail(Status.MALFORMED, f"certificate table does not parse: {exc}")
    except PARSE_ERRORS as exc:
        work.fail(Status.MALFORMED, f"signature does not parse: {exc}")
    return []


def _msi_signatures(work: _Work) -> list[tuple[AuthenticodeSignature, int | None]]:
    from signify.authenticode.signed_file.msi import SignedMsiFile

    try:
        return _walk_signatures(list(SignedMsiFile(work.stream).iter_embedded_signatures(include_nested=False)))
    except PARSE_ERRORS as exc:
        work.fail(Status.MALFORMED, f"MSI signature does not parse: {exc}")
        return []


def _detect(work: _Work) -> None:
    work.stream.seek(0)
    head = work.stream.read(8)
    if head[:2] == b"MZ":
        work.fmt = "pe"
    elif head == MSI_MAGIC:
        work.fmt = "msi"
    elif head[:1] == b"\x30":
        work.fmt = "catalog"


def _embedded_inputs(work: _Work, found: list[tuple[AuthenticodeSignature, int | None]], digests: Digests,
                     msi_digest: dict[str, bytes]) -> list[SignatureInput]:
    inputs = []
    for index, (sig, parent) in enumerate(found):
        indirect = sig.indirect_data
        algorithm = indirect.digest_algorithm().name
        if work.fmt == "pe":
            computed: bytes | None = bytes.fromhex(digests.authentihash[algorithm])
        else:
            computed = msi_digest.get(algorithm)
        page_hashes = work.fmt == "pe" and indirect.content_type == "microsoft_spc_pe_image_data" and bool(
            getattr(indirect.content, "serialized_data_asn1_available", False))
        check = None
        if page_hashes or work.fmt == "msi":
            signed_file = sig.signed_file
            check = (lambda sf=signed_file, data=indirect: sf.verify_additional_hashes(data))
        inputs.append(SignatureInput(
            signed_data=sig, index=index, parent=parent, source="embedded", digest_algorithm=algorithm,
            signed_digest=indirect.digest, computed_digest=computed, page_hashes_present=page_hashes,
            check_page_hashes=check,
        ))
    return inputs


def _catalog_inputs(work: _Work, catalogs: list[tuple[str, CertificateTrustList]], digests: Digests,
                    first_index: int) -> list[SignatureInput]:
    inputs: list[SignatureInput] = []
    for name, ctl in catalogs:
        algorithm = ctl.subject_algorithm().name
        table = digests.authentihash if work.fmt == "pe" else digests.whole
        ours = bytes.fromhex(table[algorithm])
        subject = ctl.find_subject(ours)
        if subject is None:
            work.errors.append(f"catalog {name} does not list this file ({algorithm} {ours.hex()})")
            continue
        inputs.append(SignatureInput(
            signed_data=ctl, index=first_index + len(inputs), parent=None, source=f"catalog:{name}",
            digest_algorithm=algorithm, signed_digest=ours, computed_digest=ours,
        ))
    return inputs


def _catalog_file_input(work: _Work) -> SignatureInput | None:
    work.stream.seek(0)
    try:
        ctl = CertificateTrustList.from_envelope(work.stream.read())
        algorithm = ctl.digest_algorithm().name
        return SignatureInput(signed_data=ctl, index=0, parent=None, source="embedded", digest_algorithm=algorithm,
                              signed_digest=ctl.signer_info.message_digest or b"",
                              computed_digest=ctl.get_content_digest())
    except PARSE_ERRORS as exc:
        work.fmt = "flat"
        work.fail(Status.UNSUPPORTED, f"starts like DER but is not a signed catalog: {exc}")
        return None


def _overall(work: _Work, sigs: tuple[Signature, ...]) -> Status:
    if work.status is not None and work.status is not Status.UNSUPPORTED:
        return work.status
    if not sigs:
        if work.status is Status.UNSUPPORTED:
            return Status.UNSUPPORTED
        if work.fmt == "flat" and work.path.suffix.lower() not in FLAT_EXTENSIONS:
            return Status.UNSUPPORTED
        return Status.UNSIGNED
    if any(s.status is Status.DIGEST_MISMATCH for s in sigs):
        return Status.DIGEST_MISMATCH
    embedded = [s for s in sigs if s.source == "embedded" and s.parent is None]
    primary = embedded[0].status if embedded else None
    if primary is Status.VALID:
        return primary
    if any(s.status is Status.VALID for s in sigs if s.source != "embedded"):
        return Status.VALID  # Windows accepts a file through a valid catalog signature
    return primary or sigs[0].status


def _open(path: Path) -> tuple[BinaryIO, int]:
    try:
        info = path.stat()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", context=str(path)) from exc
    if stat.S_ISDIR(info.st_mode):
        raise InputError("is a directory, not a file", context=str(path))
    if not stat.S_ISREG(info.st_mode):
        raise InputError("is not a regular file", context=str(path))
    try:
        return open(path, "rb"), info.st_size  # noqa: SIM115 - closed by analyze_file
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror}", context=str(path)) from exc


def analyze_file(path: Path, trust: TrustStore, options: Options = Options(),
                 catalogs: Catalogs | None = None) -> AnalysisReport:
    """`catalogs`: `options.catalogs` already loaded (a walk loads them once); loaded here when not given."""
    catalogs = load_catalogs(options.catalogs) if catalogs is None else catalogs
    stream, size = _open(path)
    with stream, time_limit(options.timeout, str(path)):
        return _analyze(Path(path), stream, size, trust, options, catalogs)


def _analyze(path: Path, stream: BinaryIO, size: int, trust: TrustStore, options: Options,
             catalogs: list[tuple[str, CertificateTrustList]]) -> AnalysisReport:
    work = _Work(path=path, stream=stream, size=size)
    evaluated_at = options.at or datetime.now(timezone.utc)
    if size == 0:
        work.fail(Status.UNSUPPORTED, "empty file")
    else:
        _detect(work)
    found: list[tuple[AuthenticodeSignature, int | None]] = []
    if work.fmt == "pe":
        found = _pe_signatures(work)
    elif work.fmt == "msi":
        found = _msi_signatures(work)
    catalog_file = _catalog_file_input(work) if work.fmt == "catalog" else None

    authenticode = {sig.indirect_data.digest_algorithm().name for sig, _ in found} if work.fmt == "pe" else set()
    whole = set(_whole_algorithms(options))
    for _, ctl in catalogs:
        (authenticode if work.fmt == "pe" else whole).add(ctl.subject_algorithm().name)
    if work.fmt == "pe" and work.ranges:
        authenticode |= {"sha256", "sha1"} if options.all_hashes else {"sha256"}
    if not work.ranges:
        authenticode = set()
    digests = digest_stream(stream, whole=tuple(sorted(whole)), authenticode=tuple(sorted(authenticode)),
                            authenticode_ranges=work.ranges)
    msi_digest: dict[str, bytes] = {}
    if work.fmt == "msi" and found:
        signed_file = found[0][0].signed_file
        assert signed_file is not None  # signify sets it for every signature it read from a file
        for sig, _ in found:
            algo = sig.indirect_data.digest_algorithm
            msi_digest[algo().name] = signed_file.get_fingerprint(algo)

    inputs = _embedded_inputs(work, found, digests, msi_digest)
    if catalog_file is not None:
        inputs.append(catalog_file)
    inputs += _catalog_inputs(work, catalogs, digests, len(inputs))
    describe = CertificateCache()
    try:
        signatures = tuple(describe_signature(i, trust, options.at, describe) for i in inputs)
    except PARSE_ERRORS as exc:
        # asn1crypto parses lazily: a corrupt certificate or attribute surfaces only when it is read
        work.fail(Status.MALFORMED, f"signature does not parse: {exc}")
        signatures = ()
    status = _overall(work, signatures)
    errors = tuple(work.errors)
    authentihash = dict(digests.authentihash) or {k: v.hex() for k, v in msi_digest.items()}
    facts = FileFacts(
        path=os.fspath(path),
        name=path.name,
        size=size,
        format=work.fmt,
        md5=digests.whole.get("md5"),
        sha1=digests.whole.get("sha1"),
        sha256=digests.whole["sha256"],
        authentihash=authentihash,
        pe=work.pe.info if work.pe else None,
        version_info=work.pe.version_info if work.pe else {},
        overlay_size=work.pe.overlay_size if work.pe else None,
        cert_table=work.cert_table,
    )
    return AnalysisReport(
        file=facts,
        signatures=signatures,
        status=status,
        windows_status=windows_status(status),
        findings=analysis_findings(facts, signatures, status, errors),
        errors=errors,
        evaluated_at=evaluated_at,
        trust=trust.description,
        tool_version=__version__,
    )
