"""Hostile and broken input: a clear status and message, never a traceback, never a hang."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from sigtriage.batch import analyze_one
from sigtriage.errors import InputError
from sigtriage.extract.analyze import Options, analyze_file
from sigtriage.extract.trust import TrustStore
from sigtriage.model import AnalysisFailure, AnalysisReport, Status, WindowsStatus

from conftest import TEST_DATA

REAL = TEST_DATA / "real" / "attach_amd64.dll"


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_real_dll_is_valid(trust: TrustStore) -> None:
    report = analyze_file(REAL, trust)
    assert report.status is Status.VALID
    assert report.signatures[0].signer is not None
    assert report.signatures[0].signer.subject.cn == "Microsoft 3rd Party Application Component"


def test_zero_length_is_unsupported(tmp_path: Path, trust: TrustStore) -> None:
    report = analyze_file(_write(tmp_path, "empty.exe", b""), trust)
    assert report.status is Status.UNSUPPORTED
    assert report.windows_status is WindowsStatus.NOT_SUPPORTED_FILE_FORMAT
    assert report.errors == ("empty file",)


def test_random_bytes_are_unsupported(tmp_path: Path, trust: TrustStore) -> None:
    report = analyze_file(_write(tmp_path, "noise.exe", os.urandom(4096).replace(b"MZ", b"mz")), trust)
    assert report.status is Status.UNSUPPORTED


def test_der_looking_garbage_is_unsupported_with_reason(tmp_path: Path, trust: TrustStore) -> None:
    report = analyze_file(_write(tmp_path, "fake.cat", b"\x30\x82\x01\x00" + os.urandom(300)), trust)
    assert report.status is Status.UNSUPPORTED
    assert "not a signed catalog" in report.errors[0]


def test_directory_is_a_typed_input_error(tmp_path: Path, trust: TrustStore) -> None:
    with pytest.raises(InputError, match="is a directory"):
        analyze_file(tmp_path, trust)
    failure = analyze_one(tmp_path, trust, Options())
    assert isinstance(failure, AnalysisFailure) and failure.error_type == "input"


def test_missing_file_is_a_typed_input_error(tmp_path: Path, trust: TrustStore) -> None:
    failure = analyze_one(tmp_path / "nope.exe", trust, Options())
    assert isinstance(failure, AnalysisFailure)
    assert "No such file" in failure.message


def test_truncated_pe_headers_are_malformed(tmp_path: Path, trust: TrustStore) -> None:
    report = analyze_file(_write(tmp_path, "cut.dll", REAL.read_bytes()[:200]), trust)
    assert report.status is Status.MALFORMED
    assert "PE headers" in report.errors[0]


@pytest.mark.parametrize("keep", [0.5, 0.97, 0.995])
def test_truncated_signed_pe_is_malformed_not_unsigned(tmp_path: Path, trust: TrustStore, keep: float) -> None:
    data = REAL.read_bytes()
    report = analyze_file(_write(tmp_path, "cut.dll", data[: int(len(data) * keep)]), trust)
    assert report.status is Status.MALFORMED
    assert {f.code for f in report.findings} == {"malformed_signature"}


def test_security_directory_pointing_at_garbage_is_malformed(tmp_path: Path, trust: TrustStore) -> None:
    data = bytearray(REAL.read_bytes())
    pe = struct.unpack_from("<I", data, 0x3C)[0]
    security_entry = pe + 24 + 112 + 4 * 8  # PE32+ optional header: data directories start at +112
    offset, size = struct.unpack_from("<II", data, security_entry)
    data[offset + 8 : offset + 64] = os.urandom(56)
    report = analyze_file(_write(tmp_path, "garbled.dll", bytes(data)), trust)
    assert report.status is Status.MALFORMED


def test_flipped_byte_is_digest_mismatch(tmp_path: Path, trust: TrustStore) -> None:
    data = bytearray(REAL.read_bytes())
    data[0x1000] ^= 0xFF
    report = analyze_file(_write(tmp_path, "tampered.dll", bytes(data)), trust)
    assert report.status is Status.DIGEST_MISMATCH
    assert report.windows_status is WindowsStatus.HASH_MISMATCH
    assert report.signatures[0].digest_valid is False


def test_every_prefix_and_corruption_yields_a_report(tmp_path: Path, trust: TrustStore) -> None:
    """A coarse sweep: cut or corrupt the real DLL at many offsets; each result is a report, none a crash."""
    data = REAL.read_bytes()
    step = max(1, len(data) // 60)
    for cut in range(0, len(data), step):
        for variant in (data[:cut], data[:cut] + os.urandom(64) + data[cut + 64 :]):
            result = analyze_one(_write(tmp_path, "x.dll", variant), trust, Options(timeout=30))
            assert isinstance(result, AnalysisReport), result
            assert result.status in set(Status)


def test_time_limit_stops_a_slow_file(tmp_path: Path, trust: TrustStore, monkeypatch: pytest.MonkeyPatch) -> None:
    import sigtriage.extract.analyze as analyze_module

    def slow(*args: object, **kwargs: object) -> None:
        while True:
            pass

    monkeypatch.setattr(analyze_module, "_analyze", slow)
    result = analyze_one(REAL, trust, Options(timeout=0.5))
    assert isinstance(result, AnalysisFailure) and result.error_type == "timeout"
