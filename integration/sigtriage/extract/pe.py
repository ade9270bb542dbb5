"""PE facts with pefile (headers and resources only) and the certificate table read directly.

pefile memory-maps the file and we ask it for the resource directory alone, so it touches headers and the
resource section, never the whole image. The certificate table is walked by hand because the CVE-2013-3900
padding trick lives exactly in what parsers skip: bytes inside the table after the PKCS#7 blob.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

import pefile

from sigtriage.model import CertTable, PEInfo

SECURITY_DIRECTORY = pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_SECURITY"]
RESOURCE_DIRECTORY = pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_RESOURCE"]
VERSION_KEYS = (
    "CompanyName",
    "ProductName",
    "FileDescription",
    "OriginalFilename",
    "InternalName",
    "FileVersion",
    "ProductVersion",
    "LegalCopyright",
)
EFI_SUBSYSTEMS = {10, 11, 12, 13}
NATIVE_SUBSYSTEM = 1
IMAGE_FILE_DLL = 0x2000
WIN_CERT_TYPE_PKCS_SIGNED_DATA = 2


class PEParseError(ValueError):
    """The file starts like a PE but its headers do not parse."""


class CertTableError(ValueError):
    """The security directory points at a certificate table that does not parse."""


@dataclass(frozen=True)
class PEFacts:
    info: PEInfo
    version_info: dict[str, str]
    overlay_size: int
    security_directory: tuple[int, int]


def _decode(value: bytes | str) -> str:
    if isinstance(value, str):
        return value
    return value.decode("utf-8", errors="replace")


def _version_info(pe: pefile.PE) -> dict[str, str]:
    found: dict[str, str] = {}
    for file_info in getattr(pe, "FileInfo", None) or []:
        for entry in file_info:
            for table in getattr(entry, "StringTable", []):
                for key, value in table.entries.items():
                    name = _decode(key)
                    if name in VERSION_KEYS and name not in found:
                        found[name] = _decode(value).rstrip("\x00").strip()
    return found


def read_pe(path: Path, file_size: int) -> PEFacts:
    # our own read-only map rather than pefile's: PE.close() runs a full gc.collect(), whose cost grows with the
    # heap of a long-running worker
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        try:
            pe = pefile.PE(data=data, fast_load=True)
        except pefile.PEFormatError as exc:
            raise PEParseError(f"PE headers do not parse: {exc}") from exc
        return _facts(pe, file_size)


def _facts(pe: pefile.PE, file_size: int) -> PEFacts:
    directories = pe.OPTIONAL_HEADER.DATA_DIRECTORY
    security = directories[SECURITY_DIRECTORY] if len(directories) > SECURITY_DIRECTORY else None
    sec_dir = (security.VirtualAddress, security.Size) if security else (0, 0)
    try:
        pe.parse_data_directories(directories=[RESOURCE_DIRECTORY])
        version = _version_info(pe)
    except (pefile.PEFormatError, struct.error, IndexError, KeyError, ValueError, AttributeError):
        # a broken resource tree costs us VERSIONINFO, not the signature analysis
        version = {}
    subsystem = pe.OPTIONAL_HEADER.Subsystem
    stamp = pe.FILE_HEADER.TimeDateStamp
    end_of_sections = max((s.PointerToRawData + s.SizeOfRawData for s in pe.sections), default=0)
    end_of_sections = max(end_of_sections, pe.OPTIONAL_HEADER.SizeOfHeaders)
    overlay_end = sec_dir[0] if sec_dir[1] and sec_dir[0] + sec_dir[1] >= file_size else file_size
    info = PEInfo(
        machine=pefile.MACHINE_TYPE.get(pe.FILE_HEADER.Machine, hex(pe.FILE_HEADER.Machine)).replace(
            "IMAGE_FILE_MACHINE_", ""
        ),
        subsystem=pefile.SUBSYSTEM_TYPE.get(subsystem, str(subsystem)).replace("IMAGE_SUBSYSTEM_", ""),
        is_dll=bool(pe.FILE_HEADER.Characteristics & IMAGE_FILE_DLL),
        is_driver=subsystem == NATIVE_SUBSYSTEM,
        is_efi=subsystem in EFI_SUBSYSTEMS,
        link_timestamp=datetime.fromtimestamp(stamp, timezone.utc) if stamp else None,
        checksum_stored=pe.OPTIONAL_HEADER.CheckSum,
        sections=len(pe.sections),
    )
    return PEFacts(
        info=info,
        version_info=version,
        overlay_size=max(0, overlay_end - end_of_sections),
        security_directory=sec_dir,
    )


def _der_length(blob: bytes) -> int | None:
    """Total length of the DER element at the start of `blob`, or None if its header is not definite-length DER."""
    if len(blob) < 2 or blob[0] != 0x30:
        return None
    first = blob[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4 or len(blob) < 2 + count:
        return None
    return 2 + count + int.from_bytes(blob[2 : 2 + count], "big")


def read_cert_table(stream: BinaryIO, offset: int, size: int, file_size: int) -> CertTable:
    if offset <= 0 or size <= 0:
        raise CertTableError("security directory is empty")
    if offset + size > file_size:
        raise CertTableError(
            f"certificate table at {offset:#x} (+{size:#x}) runs past the end of the file ({file_size:#x})"
        )
    stream.seek(offset)
    table = stream.read(size)
    position = entries = slack = 0
    while position + 8 <= size:
        length, revision, cert_type = struct.unpack_from("<IHH", table, position)
        if length <= 8 or position + length > size:
            if entries:
                break  # whatever follows the last entry is not an entry: slack, counted below
            raise CertTableError(f"WIN_CERTIFICATE at {offset + position:#x} has an invalid length {length}")
        entries += 1
        if cert_type == WIN_CERT_TYPE_PKCS_SIGNED_DATA:
            der = _der_length(table[position + 8 : position + length])
            if der is None:
                raise CertTableError(f"WIN_CERTIFICATE at {offset + position:#x} does not hold DER PKCS#7")
            if 8 + der > length:
                raise CertTableError(
                    f"PKCS#7 in WIN_CERTIFICATE at {offset + position:#x} is truncated ({der} bytes claimed, "
                    f"{length - 8} present)"
                )
            # up to 7 bytes of alignment padding after the DER are normal, whether or not dwLength counts them
            slack += max(0, length - 8 - der - _padding(8 + der))
        aligned = length + _padding(length)
        position += aligned
    # everything after the last aligned entry is slack too (an enlarged directory size)
    slack += max(0, size - position)
    if entries == 0:
        raise CertTableError("certificate table holds no WIN_CERTIFICATE entry")
    return CertTable(
        offset=offset,
        size=size,
        aligned=offset % 8 == 0,
        entries=entries,
        slack_bytes=max(0, slack),
        at_end_of_file=offset + size == file_size,
    )


def _padding(length: int) -> int:
    return (8 - length % 8) % 8
