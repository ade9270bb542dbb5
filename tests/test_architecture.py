"""The layering rules a newcomer can rely on, checked on the import graph of the package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "integration" / "sigtriage"
THIRD_PARTY_IO = {"requests", "urllib3", "pefile", "signify", "oscrypto", "sqlite3", "socket", "subprocess"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _layer(name: str) -> list[Path]:
    return sorted((PACKAGE / name).rglob("*.py"))


@pytest.mark.parametrize("path", _layer("model"), ids=lambda p: p.name)
def test_model_imports_nothing_of_sigtriage_outside_model(path: Path) -> None:
    bad = {m for m in _imports(path) if m.startswith("sigtriage") and not m.startswith("sigtriage.model")}
    bad |= {m for m in _imports(path) if m.split(".")[0] in THIRD_PARTY_IO}
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", _layer("judge") + _layer("decide"), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_judge_and_decide_are_pure(path: Path) -> None:
    modules = _imports(path)
    assert not {m for m in modules if m.split(".")[0] in THIRD_PARTY_IO}, path
    allowed = ("sigtriage.model", "sigtriage.judge", "sigtriage.decide", "sigtriage.errors")
    assert not {m for m in modules if m.startswith("sigtriage") and not m.startswith(allowed)}, path


@pytest.mark.parametrize("path", _layer("extract") + _layer("alerts"), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_extract_and_alerts_see_only_model_and_errors(path: Path) -> None:
    allowed = ("sigtriage.model", "sigtriage.errors", "sigtriage.extract", "sigtriage.alerts", "sigtriage")
    bad = {m for m in _imports(path) if m.startswith("sigtriage.") and not m.startswith(allowed[:-1])}
    assert not bad, f"{path} imports {bad}"


def test_only_the_transport_imports_requests() -> None:
    users = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")
             if any(m.split(".")[0] in {"requests", "urllib3"} for m in _imports(p))}
    assert users and all(u.startswith("net/") for u in users), users


def test_only_the_cli_prints() -> None:
    printers = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                printers.add(path.relative_to(PACKAGE).as_posix())
    assert printers <= {"cli.py"}, printers
