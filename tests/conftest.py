"""Shared fixtures: the real samples in ../shared (skipped with a reason where absent) and one trust store per run."""

from __future__ import annotations

import json
import os
import sqlite3
import shutil
import socket
import sys
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import pytest

from sigtriage.extract.trust import TrustStore, load_trust_store
from sigtriage.store.cases import CaseStore
from sigtriage.store.db import connect

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SIGTRIAGE_SHARED", REPO.parent / "shared"))
SAMPLES = SHARED / "samples"
ALERTS = SHARED / "alerts"
TEST_DATA = REPO / "test_data"

needs_samples = pytest.mark.skipif(
    not (SAMPLES / "expected.json").is_file(),
    reason=f"real samples not found at {SAMPLES} (../shared is absent on this machine)",
)


def expected_samples() -> list[dict[str, Any]]:
    if not (SAMPLES / "expected.json").is_file():
        return []
    return list(json.loads((SAMPLES / "expected.json").read_text())["files"])


@pytest.fixture(autouse=True)
def no_real_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the network: a real name lookup fails the test (resolvers are injected instead)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"test tried a real DNS lookup: {args}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(scope="session")
def trust() -> TrustStore:
    return load_trust_store()


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The synthetic PKI cases (test_data/synthetic), built once per run: {'dir', 'anchor', 'cases': {name: entry}}."""
    if shutil.which("osslsigncode") is None:
        pytest.skip("osslsigncode is not installed (apt-get install osslsigncode): synthetic cases cannot be built")
    sys.path.insert(0, str(TEST_DATA / "synthetic"))
    import build  # type: ignore[import-not-found]

    out = tmp_path_factory.mktemp("synthetic")
    build.build_cases(out)
    entries = json.loads((out / "cases.json").read_text())
    cases = {e["name"]: {**e, "path": out / e["path"]} for e in (entries["cases"] if isinstance(entries, dict) else entries)}
    return {"dir": out, "anchor": out / "anchors" / "root.pem", "cases": cases}


@pytest.fixture()
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """A fresh, migrated store database."""
    db = connect(tmp_path / "s.db")
    yield db
    db.close()


@pytest.fixture()
def store(conn: sqlite3.Connection) -> CaseStore:
    return CaseStore(conn)
