"""sigtriage's verdicts on the synthetic PKI cases (test_data/synthetic): one signature defect per file."""

from __future__ import annotations

from typing import Any

import pytest

from sigtriage.extract.analyze import analyze_file
from sigtriage.extract.trust import TrustStore, load_trust_store
from sigtriage.model import AnalysisReport, Status

pytestmark = pytest.mark.osslsigncode

CASES = [
    "valid_extra_anchor", "valid_no_timestamp", "self_signed", "expired_no_timestamp", "not_yet_valid",
    "bad_key_usage", "tampered", "slack", "truncated_signature", "unsigned", "nested", "wrong_intermediate",
    "lookalike_publisher", "weak_key",
]


@pytest.fixture(scope="module")
def anchored(synthetic: dict[str, Any]) -> TrustStore:
    return load_trust_store((synthetic["anchor"],))


def _analyze(synthetic: dict[str, Any], trust: TrustStore, name: str) -> AnalysisReport:
    return analyze_file(synthetic["cases"][name]["path"], trust)


@pytest.mark.parametrize("name", CASES)
def test_status_with_the_test_root_as_anchor(synthetic: dict[str, Any], anchored: TrustStore, name: str) -> None:
    case = synthetic["cases"][name]
    report = _analyze(synthetic, anchored, name)
    assert report.status.value == case["expected_status"], (report.errors, [s.errors for s in report.signatures])


@pytest.mark.parametrize("name", CASES)
def test_status_without_the_anchor(synthetic: dict[str, Any], trust: TrustStore, name: str) -> None:
    case = synthetic["cases"][name]
    # two defects at once (e.g. expired *and* an unknown root): sigtriage reports the root first, because
    # no other property of a certificate from an untrusted issuer means anything
    expected = case["expected_status_without_anchor"] or "untrusted_root"
    assert _analyze(synthetic, trust, name).status.value == expected


def test_valid_chain_reaches_the_extra_anchor(synthetic: dict[str, Any], anchored: TrustStore) -> None:
    report = _analyze(synthetic, anchored, "valid_extra_anchor")
    sig = report.signatures[0]
    assert [c.subject.cn for c in sig.chain][1:] == ["sigtriage Test Code Signing CA", "sigtriage Test Root CA"]
    assert sig.trusted_root is not None and sig.trusted_root.sha256 == sig.chain[-1].sha256
    assert sig.timestamp is not None and sig.timestamp.kind == "rfc3161" and sig.timestamp.valid
    assert any(t.startswith("anchor:") for t in report.trust)


def test_self_signed_and_untimestamped_expiry_findings(synthetic: dict[str, Any], anchored: TrustStore) -> None:
    expired = _analyze(synthetic, anchored, "expired_no_timestamp")
    assert {"no_timestamp", "signature_not_valid"} <= {f.code for f in expired.findings}
    self_signed = _analyze(synthetic, anchored, "self_signed")
    assert self_signed.signatures[0].signer is not None and self_signed.signatures[0].signer.self_signed


def test_tampered_byte_is_caught_by_the_digest(synthetic: dict[str, Any], anchored: TrustStore) -> None:
    report = _analyze(synthetic, anchored, "tampered")
    assert report.signatures[0].digest_valid is False
    assert report.signatures[0].computed_digest != report.signatures[0].signed_digest
    finding = next(f for f in report.findings if f.code == "signature_not_valid")
    assert finding.severity.value == "critical"


def test_slack_inside_the_certificate_table(synthetic: dict[str, Any], anchored: TrustStore) -> None:
    report = _analyze(synthetic, anchored, "slack")
    assert report.file.cert_table is not None and report.file.cert_table.slack_bytes == 64
    slack = next(f for f in report.findings if f.code == "cert_table_slack")
    assert slack.evidence["slack_bytes"] == 64 and slack.severity.value == "high"


def test_truncated_signature_is_malformed_not_unsigned(synthetic: dict[str, Any], anchored: TrustStore) -> None:
    report = _analyze(synthetic, anchored, "truncated_signature")
    assert report.status is Status.MALFORMED
    assert "past the end of the file" in report.errors[0]


def test_nested_signature_is_reported_in_order(synthetic: dict[str, Any], anchored: TrustStore) -> None:
    report = _analyze(synthetic, anchored, "nested")
    assert [(s.index, s.parent, s.digest_algorithm) for s in report.signatures] == [(0, None, "sha1"), (1, 0, "sha256")]
    assert "weak_digest" not in {f.code for f in report.findings}


def test_wrong_intermediate_names_the_mismatched_link(synthetic: dict[str, Any], anchored: TrustStore) -> None:
    report = _analyze(synthetic, anchored, "wrong_intermediate")
    mismatch = next(f for f in report.findings if f.code == "chain_mismatch")
    assert "is not signed by" in mismatch.message


def test_weak_key_and_lookalike_facts(synthetic: dict[str, Any], anchored: TrustStore) -> None:
    weak = _analyze(synthetic, anchored, "weak_key")
    finding = next(f for f in weak.findings if f.code == "weak_key")
    assert finding.evidence["key_size"] == 1024
    lookalike = _analyze(synthetic, anchored, "lookalike_publisher")
    assert lookalike.file.version_info["CompanyName"] == "Місrosoft Corporation"
    assert lookalike.signatures[0].signer is not None
    assert lookalike.signatures[0].signer.subject.o == "Місrosoft Corporation"
