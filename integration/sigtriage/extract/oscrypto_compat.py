"""Make oscrypto (signify's crypto backend, via certvalidator) import on OpenSSL 3.0.10 and later.

oscrypto 1.3.0, the newest release, detects the libcrypto version with the regex `\\d\\.\\d\\.\\d`, which cannot
match a two-digit patch level such as "OpenSSL 3.0.19", and raises LibraryNotFoundError at import
(wbond/oscrypto#75, #78; ralphje/signify#41, #57). The fix is upstream but unreleased.

We install a meta-path finder that rewrites exactly that regex in the two oscrypto modules that hold it, while
they are loaded. It changes nothing if the pattern is absent (a fixed oscrypto), touches no file on disk, and
works the same after any plain `pip install`. `install()` must run before the first import of signify;
`sigtriage.extract` calls it on import.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType
from collections.abc import Sequence

_TARGETS = frozenset({"oscrypto._openssl._libcrypto_ctypes", "oscrypto._openssl._libcrypto_cffi"})
BROKEN_PATTERN = r"'\\b(\\d\\.\\d\\.\\d[a-z]*)\\b'"
FIXED_PATTERN = r"'\\b(\\d+\\.\\d+\\.\\d+[a-z]*)\\b'"


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, origin: str) -> None:
        self._origin = origin

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        with open(self._origin, encoding="utf-8") as handle:
            source = handle.read()
        code = compile(source.replace(BROKEN_PATTERN, FIXED_PATTERN), self._origin, "exec")
        exec(code, module.__dict__)  # noqa: S102 - the module's own source, with one regex replaced


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _TARGETS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.origin is None:
            return None
        return importlib.util.spec_from_file_location(fullname, spec.origin, loader=_PatchingLoader(spec.origin))


def install() -> None:
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
