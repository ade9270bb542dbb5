"""signify must import after a plain install on OpenSSL 3.0.1x, where oscrypto 1.3.0's version regex fails."""

from __future__ import annotations

import re
import ssl
import subprocess
import sys

from sigtriage.extract import oscrypto_compat

VERSION_STRINGS = {
    "OpenSSL 3.0.19 27 Jan 2026": "3.0.19",
    "OpenSSL 3.0.2 15 Mar 2022": "3.0.2",
    "OpenSSL 1.1.1w  11 Sep 2023": "1.1.1w",
    "OpenSSL 3.5.10 1 Jan 2027": "3.5.10",
}


def _pattern(literal: str) -> str:
    value = eval(literal)  # noqa: S307 - a string literal copied from our own module constants
    assert isinstance(value, str)
    return value


def test_fixed_pattern_reads_two_digit_patch_levels() -> None:
    broken, fixed = _pattern(oscrypto_compat.BROKEN_PATTERN), _pattern(oscrypto_compat.FIXED_PATTERN)
    assert re.search(broken, "OpenSSL 3.0.19 27 Jan 2026") is None  # the upstream bug, reproduced
    for text, version in VERSION_STRINGS.items():
        match = re.search(fixed, text)
        assert match is not None and match.group(1) == version


def test_installed_oscrypto_still_has_the_pattern_we_replace() -> None:
    """If a fixed oscrypto is released, this fails: then the shim can go (and this test with it)."""
    import importlib.util

    for name in ("oscrypto._openssl._libcrypto_ctypes", "oscrypto._openssl._libcrypto_cffi"):
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None
        with open(spec.origin, encoding="utf-8") as handle:
            assert oscrypto_compat.BROKEN_PATTERN in handle.read()


def test_signify_imports_and_verifies_in_a_fresh_interpreter() -> None:
    """A clean process, as a user's: import sigtriage, then signify, then detect the real libcrypto version."""
    code = (
        "import sigtriage.extract, signify.authenticode, oscrypto._openssl._libcrypto_ctypes as l;"
        "print('.'.join(map(str, l.version_info)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    expected = re.search(r"(\d+\.\d+\.\d+)", ssl.OPENSSL_VERSION)
    assert expected is not None
    assert out.stdout.strip() == expected.group(1)
