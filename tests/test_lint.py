"""The project's own checks, run by the test suite so that CI runs them: ruff (lint) and mypy --strict."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO


@pytest.mark.parametrize("tool", [["ruff", "check", "--output-format", "concise", "."], ["mypy"]],
                         ids=["ruff", "mypy-strict"])
def test_static_checks_pass(tool: list[str]) -> None:
    out = subprocess.run([sys.executable, "-m", *tool], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
