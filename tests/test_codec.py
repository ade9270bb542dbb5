"""The report is a stable contract: it round-trips through JSON and validates against the published schema."""

from __future__ import annotations

import json

import jsonschema

from sigtriage.extract.analyze import analyze_file
from sigtriage.extract.trust import TrustStore
from sigtriage.model import AnalysisReport
from sigtriage.model.codec import dumps, from_plain, to_plain

from conftest import REPO, TEST_DATA

SCHEMA = REPO / "integration" / "sigtriage" / "schemas" / "analysis-report.schema.json"


def _report(trust: TrustStore) -> AnalysisReport:
    return analyze_file(TEST_DATA / "real" / "attach_amd64.dll", trust)


def test_round_trip(trust: TrustStore) -> None:
    report = _report(trust)
    again = from_plain(AnalysisReport, json.loads(dumps(report)))
    assert again == report


def test_report_validates_against_schema(trust: TrustStore) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(to_plain(_report(trust)), schema)


def test_schema_names_every_report_field(trust: TrustStore) -> None:
    """Completeness: a field added to the model without a schema entry fails here."""
    schema = json.loads(SCHEMA.read_text())
    plain = to_plain(_report(trust))

    def walk(node: object, sch: dict, path: str) -> None:
        if "$ref" in sch:
            ref = sch["$ref"].split("/")[-1]
            sch = schema["$defs"][ref]
        if isinstance(node, dict) and "properties" in sch:
            assert set(node) == set(sch["properties"]), path
            for key, value in node.items():
                walk(value, _non_null(sch["properties"][key]), f"{path}.{key}")
        elif isinstance(node, list) and "items" in sch:
            for item in node:
                walk(item, sch["items"], path + "[]")

    walk(plain, schema, "$")


def _non_null(sch: dict) -> dict:
    for option in sch.get("anyOf", []):
        if option.get("type") != "null":
            return option
    return sch


def test_committed_schemas_match_the_model() -> None:
    from sigtriage.model.documents import DOCUMENTS, generated_schema, schema_path

    for name in DOCUMENTS:
        assert json.loads(schema_path(name).read_text()) == generated_schema(name), (
            f"{name} schema drifted from the model: run docs/regenerate.py")
