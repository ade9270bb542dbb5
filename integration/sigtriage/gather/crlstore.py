"""CRLs on disk: a cache of fetched ones (reused until nextUpdate) and an offline folder for air-gapped hosts."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from datetime import datetime
from pathlib import Path

from cryptography import x509

from sigtriage.errors import UsageError
from sigtriage.gather.crl import load_crl

log = logging.getLogger("sigtriage.gather")


class CrlCache:
    """Fetched CRLs keyed by URL hash. Callers store only CRLs they verified, and verify every reuse anyway
    (the cache directory may be writable by others)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def _path(self, url: str) -> Path:
        return self.directory / (hashlib.sha256(url.encode("utf-8")).hexdigest() + ".crl")

    def get(self, url: str, now: datetime) -> x509.CertificateRevocationList | None:
        """The cached CRL for `url` if it is readable and `now` is before its nextUpdate."""
        path = self._path(url)
        try:
            crl = load_crl(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.info("ignoring unreadable cached CRL %s: %s", path.name, exc)
            return None
        next_update = crl.next_update_utc
        return crl if next_update is not None and now < next_update else None

    def put(self, url: str, data: bytes) -> None:
        """Store atomically (parallel workers share the directory); a cache that cannot be written is not an error."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.directory, prefix=".tmp-", delete=False) as handle:
                handle.write(data)
            os.replace(handle.name, self._path(url))
        except OSError as exc:
            log.warning("cannot write the CRL cache in %s: %s", self.directory, exc)


class OfflineCrls:
    """Every *.crl and *.pem (DER or PEM) in a folder, looked up by issuer name."""

    SUFFIXES = (".crl", ".pem")
    MAX_FILES = 1000
    MAX_FILE_BYTES = 64 * 1024 * 1024

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise UsageError(f"revocation.offline_crl_dir: {self.directory} is not a directory")
        self._crls: list[tuple[Path, x509.CertificateRevocationList]] = []
        files = sorted(p for p in self.directory.iterdir() if p.suffix.lower() in self.SUFFIXES and p.is_file())
        if len(files) > self.MAX_FILES:
            log.warning("%s holds %d CRL files; reading the first %d", self.directory, len(files), self.MAX_FILES)
        for path in files[: self.MAX_FILES]:
            try:
                if path.stat().st_size > self.MAX_FILE_BYTES:
                    raise ValueError(f"larger than {self.MAX_FILE_BYTES} bytes")
                self._crls.append((path, load_crl(path.read_bytes())))
            except (OSError, ValueError) as exc:
                log.warning("skipping %s: not a readable CRL (%s)", path, exc)

    def for_issuer(self, issuer: x509.Name) -> list[tuple[Path, x509.CertificateRevocationList]]:
        return [(path, crl) for path, crl in self._crls if crl.issuer == issuer]
