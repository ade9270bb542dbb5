"""Shared fixtures: the real samples in ../shared (skipped with a reason where absent) and one trust store per run."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from sigtriage.extract.trust import TrustStore, load_trust_store

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


@pytest.fixture(scope="session")
def trust() -> TrustStore:
    return load_trust_store()
