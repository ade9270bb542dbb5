"""The published JSON documents: their model class, title and schema file, in one table for CLI, docs and tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sigtriage.model.analysis import AnalysisFailure, AnalysisReport
from sigtriage.model.assessment import Assessment
from sigtriage.model.triage import TriageResult
from sigtriage.model.schema import schema_for

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"

DOCUMENTS: dict[str, tuple[type, str]] = {
    "analysis-report": (AnalysisReport, "sigtriage analysis report"),
    "analysis-failure": (AnalysisFailure, "sigtriage analysis failure (a file that could not be analysed)"),
    "assessment": (Assessment, "sigtriage assessment (sigtriage assess --json)"),
    "triage": (TriageResult, "sigtriage triage result (sigtriage triage --json)"),
}


def generated_schema(name: str) -> dict[str, Any]:
    cls, title = DOCUMENTS[name]
    return schema_for(cls, title=title, schema_id=f"https://sigtriage.invalid/schemas/{name}-1.0.json")


def schema_path(name: str) -> Path:
    return SCHEMA_DIR / f"{name}.schema.json"
