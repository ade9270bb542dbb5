"""Write a minimal, valid PE32+ (AMD64) image from scratch, for signing test cases.

Real binaries cannot be committed or redistributed freely, and we need exact control over the layout
(VERSIONINFO strings, overlay, multi-hundred-MiB sizes), so the image is assembled with `struct`:
DOS header + stub, PE/COFF header, PE32+ optional header with 16 data directories, a `.text`
section and, when version strings are given, a `.rsrc` section with an RT_VERSION resource.
Output is deterministic: the same arguments always give the same bytes.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

FILE_ALIGNMENT = 0x200
SECTION_ALIGNMENT = 0x1000
LINK_TIMESTAMP = 0x65000000
"""A fixed, plausible link time (2023-09-12) so output is reproducible and not the suspicious value 0."""

_DOS_STUB = b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21This program cannot be run in DOS mode.\r\r\n$"
_E_LFANEW = 0x80
_OPTIONAL_HEADER_SIZE = 112 + 16 * 8
_ENTRY_CODE = b"\xb8\x01\x00\x00\x00\xc3"
"""mov eax, 1; ret: a harmless entry point (TRUE for DllMain, exit code 1 for a process)."""
_CHUNK = 1 << 20
_FILLER = hashlib.shake_256(b"sigtriage minipe filler").digest(_CHUNK)
"""Incompressible-looking but reproducible section content, repeated to any size without memory cost."""

_SCN_CODE = 0x20 | 0x20000000 | 0x40000000  # CNT_CODE | MEM_EXECUTE | MEM_READ
_SCN_RSRC = 0x40 | 0x40000000  # CNT_INITIALIZED_DATA | MEM_READ
_RT_VERSION = 16
_LANG_EN_US = 0x0409
_CODEPAGE_UNICODE = 0x04B0


def _align(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


def _pad4(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def _version_node(key: str, value: bytes, value_length: int, wtype: int, children: list[bytes]) -> bytes:
    """One VS_VERSIONINFO-family node: header, key, 32-bit aligned value, 32-bit aligned children."""
    body = _pad4(struct.pack("<HHH", 0, value_length, wtype) + (key + "\0").encode("utf-16-le"))
    body += value
    for child in children:
        body = _pad4(body) + child
    return struct.pack("<H", len(body)) + body[2:]


def _version_tuple(version: str) -> tuple[int, int, int, int]:
    parts = [int(p) for p in version.split(".")]
    if len(parts) > 4 or not all(0 <= p <= 0xFFFF for p in parts):
        raise ValueError(f"file_version must be up to four 16-bit numbers, got {version!r}")
    a, b, c, d = parts + [0] * (4 - len(parts))
    return a, b, c, d


def _version_info(strings: dict[str, str], file_version: str, *, dll: bool) -> bytes:
    """Serialize VS_VERSIONINFO with an en-US/Unicode ("040904b0") StringFileInfo table."""
    a, b, c, d = _version_tuple(file_version)
    ms, ls = a << 16 | b, c << 16 | d
    fixed = struct.pack(
        "<13I",
        0xFEEF04BD,  # dwSignature
        0x00010000,  # dwStrucVersion
        ms, ls, ms, ls,  # file and product version
        0x3F, 0,  # dwFileFlagsMask, dwFileFlags
        0x00040004,  # VOS_NT_WINDOWS32
        2 if dll else 1,  # VFT_DLL / VFT_APP
        0, 0, 0,  # subtype, file date
    )
    entries = [
        _version_node(k, (v + "\0").encode("utf-16-le"), len(v) + 1, 1, []) for k, v in strings.items()
    ]
    table = _version_node(f"{_LANG_EN_US:04x}{_CODEPAGE_UNICODE:04x}", b"", 0, 1, entries)
    string_file_info = _version_node("StringFileInfo", b"", 0, 1, [table])
    translation = _version_node("Translation", struct.pack("<HH", _LANG_EN_US, _CODEPAGE_UNICODE), 4, 0, [])
    var_file_info = _version_node("VarFileInfo", b"", 0, 1, [translation])
    return _version_node("VS_VERSION_INFO", fixed, len(fixed), 0, [string_file_info, var_file_info])


def _resource_section(blob: bytes, rva: int) -> bytes:
    """A resource tree with one leaf: RT_VERSION / ID 1 / en-US -> `blob`."""

    def directory(entry_id: int, target: int) -> bytes:
        return struct.pack("<IIHHHH", 0, 0, 0, 0, 0, 1) + struct.pack("<II", entry_id, target)

    # Three 24-byte directories, then the 16-byte data entry at 72, then the data at 88.
    return (
        directory(_RT_VERSION, 0x80000000 | 24)
        + directory(1, 0x80000000 | 48)
        + directory(_LANG_EN_US, 72)
        + struct.pack("<IIII", rva + 88, len(blob), 0, 0)
        + blob
    )


@dataclass(frozen=True)
class _Section:
    name: bytes
    virtual_size: int
    rva: int
    raw_size: int
    raw_offset: int
    characteristics: int

    def header(self) -> bytes:
        return struct.pack(
            "<8sIIIIIIHHI",
            self.name, self.virtual_size, self.rva, self.raw_size, self.raw_offset, 0, 0, 0, 0, self.characteristics,
        )


def _text_chunks(size: int) -> Iterator[bytes]:
    """The .text raw data, streamed: entry code, filler, zero padding up to FileAlignment."""
    head = _ENTRY_CODE + _FILLER[len(_ENTRY_CODE):]
    remaining = size
    first = True
    while remaining > 0:
        chunk = (head if first else _FILLER)[:remaining]
        first = False
        remaining -= len(chunk)
        yield chunk
    yield b"\0" * (_align(size, FILE_ALIGNMENT) - size)


def _image(
    *,
    text_size: int,
    company: str | None,
    product: str | None,
    description: str | None,
    original_filename: str | None,
    file_version: str,
    dll: bool,
    subsystem: int,
    overlay: bytes,
) -> Iterator[bytes]:
    """Yield the whole file in pieces, so that `write_pe` never holds a big image in memory."""
    if text_size < len(_ENTRY_CODE):
        raise ValueError(f"text_size must be at least {len(_ENTRY_CODE)}")
    strings = {
        "CompanyName": company,
        "FileDescription": description,
        "FileVersion": file_version,
        "InternalName": original_filename.rsplit(".", 1)[0] if original_filename else None,
        "LegalCopyright": f"Copyright (C) {company}" if company else None,
        "OriginalFilename": original_filename,
        "ProductName": product,
    }
    with_version = any(v is not None for v in (company, product, description, original_filename))

    header_size = _E_LFANEW + 4 + 20 + _OPTIONAL_HEADER_SIZE + 40 * (2 if with_version else 1)
    size_of_headers = _align(header_size, FILE_ALIGNMENT)
    text = _Section(
        b".text", text_size, SECTION_ALIGNMENT, _align(text_size, FILE_ALIGNMENT), size_of_headers, _SCN_CODE
    )
    sections = [text]
    rsrc_data = b""
    if with_version:
        rsrc_rva = _align(text.rva + text.virtual_size, SECTION_ALIGNMENT)
        blob = _version_info({k: v for k, v in strings.items() if v is not None}, file_version, dll=dll)
        rsrc_data = _resource_section(blob, rsrc_rva)
        sections.append(
            _Section(
                b".rsrc", len(rsrc_data), rsrc_rva, _align(len(rsrc_data), FILE_ALIGNMENT),
                text.raw_offset + text.raw_size, _SCN_RSRC,
            )
        )
    last = sections[-1]
    size_of_image = _align(last.rva + last.virtual_size, SECTION_ALIGNMENT)

    directories = [(0, 0)] * 16
    if with_version:
        directories[2] = (sections[1].rva, sections[1].virtual_size)  # IMAGE_DIRECTORY_ENTRY_RESOURCE

    dos_header = struct.pack(
        "<2s13H8s2H20sI",
        b"MZ", 0x90, 3, 0, 4, 0, 0xFFFF, 0, 0xB8, 0, 0, 0, 0x40, 0, b"", 0, 0, b"", _E_LFANEW,
    )
    characteristics = 0x0002 | 0x0020 | (0x2000 if dll else 0)  # EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE | DLL
    file_header = struct.pack("<HHIIIHH", 0x8664, len(sections), LINK_TIMESTAMP, 0, 0, _OPTIONAL_HEADER_SIZE,
                              characteristics)
    dll_characteristics = 0x0100 | (0 if dll else 0x8000)  # NX_COMPAT | TERMINAL_SERVER_AWARE
    optional_header = struct.pack(
        "<HBBIIIIIQIIHHHHHHIIIIHHQQQQII",
        0x20B,  # PE32+
        14, 0,  # linker version
        text.raw_size,  # SizeOfCode
        sum(s.raw_size for s in sections[1:]),  # SizeOfInitializedData
        0,  # SizeOfUninitializedData
        text.rva,  # AddressOfEntryPoint
        text.rva,  # BaseOfCode
        0x180000000 if dll else 0x140000000,  # ImageBase
        SECTION_ALIGNMENT,
        FILE_ALIGNMENT,
        6, 0, 0, 0, 6, 0,  # OS, image and subsystem versions
        0,  # Win32VersionValue
        size_of_image,
        size_of_headers,
        0,  # CheckSum
        subsystem,
        dll_characteristics,
        0x100000, 0x1000, 0x100000, 0x1000,  # stack and heap reserve/commit
        0,  # LoaderFlags
        16,  # NumberOfRvaAndSizes
    ) + b"".join(struct.pack("<II", rva, size) for rva, size in directories)

    headers = (
        dos_header
        + _DOS_STUB.ljust(_E_LFANEW - len(dos_header), b"\0")
        + b"PE\0\0"
        + file_header
        + optional_header
        + b"".join(s.header() for s in sections)
    )
    yield headers.ljust(size_of_headers, b"\0")
    yield from _text_chunks(text_size)
    if rsrc_data:
        yield rsrc_data.ljust(sections[1].raw_size, b"\0")
    if overlay:
        yield overlay


def build_pe(
    *,
    text_size: int = 4096,
    company: str | None = None,
    product: str | None = None,
    description: str | None = None,
    original_filename: str | None = None,
    file_version: str = "1.0.0.0",
    dll: bool = False,
    subsystem: int = 3,
    overlay: bytes = b"",
) -> bytes:
    """Return a PE32+ image; a VERSIONINFO resource is added when any version string is given.

    InternalName (OriginalFilename without extension) and LegalCopyright ("Copyright (C) <company>") are
    derived, as a real build would set them. `subsystem` 3 is console, 2 GUI; `overlay` is appended after
    the last section (like an installer's payload).
    """
    return b"".join(
        _image(
            text_size=text_size, company=company, product=product, description=description,
            original_filename=original_filename, file_version=file_version, dll=dll, subsystem=subsystem,
            overlay=overlay,
        )
    )


def write_pe(
    path: Path,
    *,
    text_size: int = 4096,
    company: str | None = None,
    product: str | None = None,
    description: str | None = None,
    original_filename: str | None = None,
    file_version: str = "1.0.0.0",
    dll: bool = False,
    subsystem: int = 3,
    overlay: bytes = b"",
) -> Path:
    """Like `build_pe` but streamed to `path` in 1 MiB chunks, for images too big to build in memory."""
    with path.open("wb") as out:
        for chunk in _image(
            text_size=text_size, company=company, product=product, description=description,
            original_filename=original_filename, file_version=file_version, dll=dll, subsystem=subsystem,
            overlay=overlay,
        ):
            out.write(chunk)
    return path
