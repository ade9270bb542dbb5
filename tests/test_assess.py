"""`assess`: real samples with real alert formats, and the synthetic PKI for every assessment finding."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import responses
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from sigtriage.alerts import load_alert, normalize
from sigtriage.config.baseline import from_document, learn
from sigtriage.config.settings import Settings
from sigtriage.extract.analyze import analyze_file
from sigtriage.gather.revocation import RevocationConfig
from sigtriage.model import Status
from sigtriage.model.assessment import Level, Verdict
from sigtriage.model.context import ExecutionContext, Privilege
from sigtriage.net import NetConfig, SafeSession
from sigtriage.pipeline import Engine, assess_analysis, assess_file, build_engine

from conftest import ALERTS, SAMPLES, TEST_DATA, needs_samples

sys.path.insert(0, str(TEST_DATA / "synthetic"))

PUBLIC_ADDRESS = "93.184.215.14"  # what every *.pki.test name resolves to in these tests (no DNS is used)


def _fake_resolver(host: str, port: int) -> tuple[str, ...]:
    if host.endswith(".pki.test"):
        return (PUBLIC_ADDRESS,)
    if host == "internal.pki.test.corp":
        return ("10.0.0.7",)
    raise OSError(f"no DNS in tests: {host}")


def _context(**fields: Any) -> ExecutionContext:
    return normalize({"sigtriage_alert": 1, "host": "ws-test-01", "alert_id": "t-1",
                      "image_path": "C:\\\\Users\\\\x\\\\app.exe", **fields})


def _engine(tmp_path: Path, *, mode: str = "soft-fail", anchors: tuple[Path, ...] = (),
            baseline_doc: dict[str, Any] | None = None) -> Engine:
    settings = Settings(anchors=anchors, revocation=RevocationConfig(mode=mode), store_path=tmp_path / "db.sqlite",
                        crl_cache_dir=tmp_path / "crl-cache")
    engine = build_engine(settings, session=SafeSession(NetConfig(), resolver=_fake_resolver))
    if baseline_doc is not None:
        engine.baseline = from_document(baseline_doc, base_dir=tmp_path)
    return engine


# ---------------------------------------------------------------- real samples and real alert formats


@needs_samples
def test_whois_from_pinned_microsoft_as_system_is_benign(tmp_path: Path) -> None:
    engine = _engine(tmp_path, mode="off")
    context = _context(sha256="292def98af78c3cb240ed52e0a0a0bc7a15b31ca5ac101891b96875070ed6a9c",
                       user="NT AUTHORITY\\SYSTEM", user_sid="S-1-5-18", integrity_level="system",
                       image_path="C:\\Tools\\whois.exe")
    result = assess_file(engine, SAMPLES / "whois.exe", context)
    assert context.privilege is Privilege.SYSTEM
    assert result.pinned_publisher == "Microsoft"
    assert result.verdict is Verdict.BENIGN and result.level is Level.LOW
    codes = {f.code for f in result.findings}
    assert "publisher_mismatch" not in codes  # Sysinternals is a Microsoft alias
    assert result.platform.xsoar_dbot_score == 1 and result.platform.cortex_level == "safe"


@needs_samples
def test_spoofed_7zip_run_by_a_user_is_at_least_suspicious(tmp_path: Path) -> None:
    context = load_alert(ALERTS / "01_sysmon_eid1_winlogbeat_ecs.json")
    assert context.privilege is Privilege.MEDIUM
    result = assess_file(_engine(tmp_path), SAMPLES / "7z1900-x64_signed.exe", context)
    assert result.verdict in (Verdict.SUSPICIOUS, Verdict.MALICIOUS)
    codes = {f.code for f in result.findings}
    assert {"chain_mismatch", "publisher_mismatch"} <= codes
    assert result.platform.thehive_severity >= 3


@needs_samples
def test_spotify_is_not_a_lookalike(tmp_path: Path) -> None:
    context = load_alert(ALERTS / "06_mde_deviceprocessevents.json")
    result = assess_file(_engine(tmp_path, mode="off"), SAMPLES / "spotify_sample.exe", context)
    codes = {f.code for f in result.findings}
    assert "publisher_lookalike" not in codes and "publisher_mismatch" not in codes
    assert result.verdict is Verdict.BENIGN


@needs_samples
def test_apple_software_update_weak_digest_but_low_level(tmp_path: Path) -> None:
    context = load_alert(ALERTS / "07_elastic_endpoint_process.json")
    assert context.privilege is Privilege.SYSTEM
    result = assess_file(_engine(tmp_path, mode="off"), SAMPLES / "SoftwareUpdate.exe", context)
    weak = next(f for f in result.findings if f.code == "weak_digest")
    assert weak.evidence["digest_algorithms"] == ["md5"]
    assert result.level is Level.LOW


@needs_samples
def test_privilege_raises_the_weight_of_certificate_risk(tmp_path: Path) -> None:
    engine = _engine(tmp_path, mode="off")
    engine.settings = dataclasses.replace(engine.settings, record_prevalence=False)
    analysis = analyze_file(SAMPLES / "kdbazis.dll", engine.trust)
    scores = {}
    for privilege, fields in {"low": {"integrity_level": "low"}, "medium": {"integrity_level": "medium"},
                              "system": {"integrity_level": "system"},
                              "kernel": {"event_kind": "driver_load"}}.items():
        context = _context(sha256=analysis.file.sha256, **fields)
        assert context.privilege.value == privilege
        scores[privilege] = assess_analysis(engine, analysis, context).score
    assert scores["low"] < scores["medium"] < scores["system"] < scores["kernel"]


@needs_samples
def test_learned_baseline_pins_apple_and_blocks_nothing_else(tmp_path: Path) -> None:
    engine = _engine(tmp_path, mode="off")
    golden = [analyze_file(SAMPLES / name, engine.trust) for name in ("SoftwareUpdate.exe", "whois.exe")]
    doc = learn(golden, name="golden")
    assert {p["name"] for p in doc["publishers"]} == {"Apple Inc.", "Microsoft Corporation"}
    engine.baseline = from_document(doc, base_dir=tmp_path)
    result = assess_file(engine, SAMPLES / "SoftwareUpdate.exe", _context(integrity_level="system"))
    assert result.pinned_publisher == "Apple Inc." and result.verdict is Verdict.BENIGN
    spoofed = assess_file(engine, SAMPLES / "7z1900-x64_signed.exe", _context(integrity_level="medium"))
    assert spoofed.pinned_publisher is None


# ---------------------------------------------------------------- synthetic PKI: one finding each


@pytest.fixture(scope="module")
def pe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import minipe

    path = tmp_path_factory.mktemp("pe") / "app.exe"
    minipe.write_pe(path, company="Contoso Tools", product="Contoso")
    return path


def _signed(pe: Path, tmp_path: Path, **kwargs: Any) -> Any:
    import shutil

    if shutil.which("osslsigncode") is None:
        pytest.skip("osslsigncode is not installed: synthetic signed files cannot be made")
    from build import sign_file

    return sign_file(pe, tmp_path, **kwargs)


def _crl(signed: Any, *, revoked: bool, reason: x509.ReasonFlags | None = None,
         revoked_at: datetime | None = None) -> bytes:
    now = datetime.now(timezone.utc)
    builder = (x509.CertificateRevocationListBuilder().issuer_name(signed.intermediate.cert.subject)
               .last_update(now - timedelta(hours=1)).next_update(now + timedelta(days=7)))
    if revoked:
        entry = (x509.RevokedCertificateBuilder().serial_number(signed.leaf.cert.serial_number)
                 .revocation_date(revoked_at or now - timedelta(days=1)))
        if reason is not None:
            entry = entry.add_extension(x509.CRLReason(reason), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(signed.intermediate.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


@responses.activate
def test_revoked_certificate_from_a_crl_served_over_http(pe: Path, tmp_path: Path) -> None:
    url = "http://crl.pki.test/int.crl"
    signed = _signed(pe, tmp_path, crl_url=url, timestamp=False)
    responses.get(url, body=_crl(signed, revoked=True, reason=x509.ReasonFlags.key_compromise),
                  content_type="application/pkix-crl")
    result = assess_file(_engine(tmp_path, anchors=(signed.anchor,)), signed.path, _context(integrity_level="medium"))
    revoked = next(f for f in result.findings if f.code == "revoked_certificate")
    assert revoked.evidence["reason"] == "key_compromise"
    assert result.verdict is Verdict.MALICIOUS
    assert len(responses.calls) == 1


@responses.activate
def test_revocation_after_a_trusted_timestamp_is_not_effective(pe: Path, tmp_path: Path) -> None:
    url = "http://crl.pki.test/int.crl"
    signed = _signed(pe, tmp_path, crl_url=url, now=datetime.now(timezone.utc) - timedelta(days=10))
    responses.get(url, body=_crl(signed, revoked=True, reason=x509.ReasonFlags.cessation_of_operation,
                                 revoked_at=datetime.now(timezone.utc) - timedelta(days=2)))
    result = assess_file(_engine(tmp_path, anchors=(signed.anchor,)), signed.path, _context())
    codes = {f.code for f in result.findings}
    assert "revoked_after_signing" in codes and "revoked_certificate" not in codes


@responses.activate
def test_good_crl_leaves_no_revocation_finding(pe: Path, tmp_path: Path) -> None:
    url = "http://crl.pki.test/int.crl"
    signed = _signed(pe, tmp_path, crl_url=url)
    responses.get(url, body=_crl(signed, revoked=False))
    result = assess_file(_engine(tmp_path, anchors=(signed.anchor,)), signed.path, _context())
    assert "revoked_certificate" not in {f.code for f in result.findings}
    states = {c.subject.split(",")[0]: c for c in result.revocation.checks}
    assert states["CN=sigtriage Test Publisher"].state.value == "good"
    assert states["CN=sigtriage Test Publisher"].method == "crl"
    # the test intermediate names no CRL or OCSP URL: that is unknown, and said so, never a silent pass
    assert states["CN=sigtriage Test Code Signing CA"].state.value == "unknown"


@responses.activate
def test_crl_timeout_is_revocation_unknown_and_hard_fail_makes_it_weigh(pe: Path, tmp_path: Path) -> None:
    import requests

    url = "http://crl.pki.test/int.crl"
    signed = _signed(pe, tmp_path, crl_url=url)
    responses.get(url, body=requests.exceptions.ConnectTimeout("timed out"))
    soft = assess_file(_engine(tmp_path, anchors=(signed.anchor,)), signed.path, _context())
    unknown = next(f for f in soft.findings if f.code == "revocation_unknown")
    assert unknown.severity.value == "low"
    hard = assess_file(_engine(tmp_path / "h", mode="hard-fail", anchors=(signed.anchor,)), signed.path, _context())
    assert next(f for f in hard.findings if f.code == "revocation_unknown").severity.value == "high"
    assert hard.verdict is not Verdict.BENIGN
    required = assess_file(_engine(tmp_path / "r", mode="require", anchors=(signed.anchor,)), signed.path, _context())
    assert required.verdict is Verdict.UNKNOWN


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/x.crl", "http://169.254.169.254/latest/meta-data/", "http://[::1]/x.crl",
    "http://10.1.2.3/x.crl", "http://2130706433/x.crl", "http://0x7f000001/x.crl",
    "http://internal.pki.test.corp/x.crl",
])
def test_ssrf_cdp_urls_never_produce_a_request(pe: Path, tmp_path: Path, url: str) -> None:
    signed = _signed(pe, tmp_path, crl_url=url)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        result = assess_file(_engine(tmp_path, anchors=(signed.anchor,)), signed.path, _context())
        assert len(mock.calls) == 0
    unknown = next(f for f in result.findings if f.code == "revocation_unknown")
    assert "blocked" in " ".join(str(e) for e in unknown.evidence["errors"])


def test_ssrf_redirect_to_a_private_address_is_not_followed(pe: Path, tmp_path: Path) -> None:
    url = "http://crl.pki.test/int.crl"
    signed = _signed(pe, tmp_path, crl_url=url)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(url, status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
        mock.get("http://169.254.169.254/latest/meta-data/", body=b"secret")
        result = assess_file(_engine(tmp_path, anchors=(signed.anchor,)), signed.path, _context())
        assert [c.request.url for c in mock.calls] == [url]
    assert "revocation_unknown" in {f.code for f in result.findings}


def test_recently_issued_certificate(pe: Path, tmp_path: Path) -> None:
    now = datetime.now(timezone.utc)
    signed = _signed(pe, tmp_path, not_before=now - timedelta(days=3), now=now)
    result = assess_file(_engine(tmp_path, mode="off", anchors=(signed.anchor,)), signed.path, _context())
    recent = next(f for f in result.findings if f.code == "recently_issued")
    assert 2.5 < recent.evidence["days"] < 3.5
    older = _signed(pe, tmp_path / "old", not_before=now - timedelta(days=200), now=now)
    aged = assess_file(_engine(tmp_path / "old", mode="off", anchors=(older.anchor,)), older.path, _context())
    assert "recently_issued" not in {f.code for f in aged.findings}


def test_cyrillic_lookalike_publisher(tmp_path: Path) -> None:
    import minipe

    name = "Місrosoft Corporation"
    pe = minipe.write_pe(tmp_path / "wu.exe", company=name)
    signed = _signed(pe, tmp_path, cn=name)
    result = assess_file(_engine(tmp_path, mode="off", anchors=(signed.anchor,)), signed.path,
                         _context(integrity_level="high"))
    lookalike = next(f for f in result.findings if f.code == "publisher_lookalike")
    assert lookalike.evidence["imitates"] in ("Microsoft", "Microsoft Corporation")
    assert lookalike.evidence["technique"] in ("confusable", "mixed_script")
    assert result.verdict is not Verdict.BENIGN


def test_blocked_certificate_by_thumbprint_and_by_issuer_serial(pe: Path, tmp_path: Path) -> None:
    signed = _signed(pe, tmp_path)
    engine = _engine(tmp_path, mode="off", anchors=(signed.anchor,))
    analysis = analyze_file(signed.path, engine.trust)
    leaf = analysis.signatures[0].signer
    assert leaf is not None
    for entry in ({"sha256": leaf.sha256, "reason": "stolen"},
                  {"issuer": leaf.issuer.cn, "serial": leaf.serial, "reason": "stolen"}):
        engine.baseline = from_document({"name": "t", "version": 1, "blocked_certificates": [entry]},
                                        base_dir=tmp_path)
        result = assess_analysis(engine, analysis, _context())
        assert "blocked_certificate" in {f.code for f in result.findings}
        assert result.verdict is Verdict.MALICIOUS


def test_name_of_a_baseline_publisher_without_its_pin(pe: Path, tmp_path: Path) -> None:
    signed = _signed(pe, tmp_path, cn="Contoso Tools")
    engine = _engine(tmp_path, mode="off", anchors=(signed.anchor,))
    engine.baseline = from_document({"name": "t", "version": 1, "publishers": [
        {"name": "Contoso Tools", "certificates": ["ab" * 32]}]}, base_dir=tmp_path)
    result = assess_file(engine, signed.path, _context())
    assert "baseline_name_without_pin" in {f.code for f in result.findings}
    assert result.verdict is Verdict.SUSPICIOUS


def test_rarity_first_seen_then_rare_then_common(pe: Path, tmp_path: Path) -> None:
    signed = _signed(pe, tmp_path)
    engine = _engine(tmp_path, mode="off", anchors=(signed.anchor,))
    analysis = analyze_file(signed.path, engine.trust)

    def codes(host: str) -> set[str]:
        return {f.code for f in assess_analysis(engine, analysis, _context(host=host)).findings}

    assert "first_seen_certificate" in codes("h1")
    assert "first_seen_certificate" in codes("h1")  # the same sighting again does not count twice
    assert "rare_certificate" in codes("h2")
    for host in ("h3", "h4", "h5"):
        codes(host)
    assert not {"rare_certificate", "first_seen_certificate"} & codes("h6")


def test_alert_about_another_file_makes_the_verdict_unknown(pe: Path, tmp_path: Path) -> None:
    signed = _signed(pe, tmp_path)
    result = assess_file(_engine(tmp_path, mode="off", anchors=(signed.anchor,)), signed.path,
                         _context(sha256="0" * 64))
    assert result.verdict is Verdict.UNKNOWN


@pytest.fixture
def intel_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = _engine(tmp_path, mode="off")
    yield engine
    engine.close()


@needs_samples
def test_intel_feeds_match_real_certificates(tmp_path: Path) -> None:
    from sigtriage.gather.intel import load_intel

    engine = _engine(tmp_path, mode="off")
    engine.intel = load_intel([TEST_DATA / "intel" / "lolcerts", TEST_DATA / "intel" / "malwarebazaar-cscb.csv"])
    result = assess_file(engine, SAMPLES / "7z1900-x64_signed.exe", _context())
    match = next(f for f in result.findings if f.code == "intel_match")
    assert match.evidence["source"] == "malwarebazaar" and result.verdict is Verdict.MALICIOUS
    kd = assess_file(engine, SAMPLES / "kdbazis.dll", _context())
    assert any(f.code == "intel_match" and f.evidence["matched_by"] == "issuer+serial" for f in kd.findings)


def test_unsigned_binary_is_never_benign(tmp_path: Path, pe: Path) -> None:
    result = assess_file(_engine(tmp_path, mode="off"), pe, _context(integrity_level="system"))
    assert result.analysis.status is Status.UNSIGNED
    assert result.verdict is Verdict.SUSPICIOUS


@needs_samples
def test_assessment_json_round_trips_and_validates(tmp_path: Path) -> None:
    import json

    import jsonschema

    from sigtriage.model.assessment import Assessment
    from sigtriage.model.codec import dumps, from_plain
    from sigtriage.model.documents import schema_path

    result = assess_file(_engine(tmp_path, mode="off"), SAMPLES / "SoftwareUpdate.exe",
                         load_alert(ALERTS / "07_elastic_endpoint_process.json"))
    plain = json.loads(dumps(result))
    jsonschema.validate(plain, json.loads(schema_path("assessment").read_text()))
    assert from_plain(Assessment, plain) == result
    ecs = plain["platform"]["ecs"]["file"]["code_signature"]
    assert ecs == {"exists": True, "status": "trusted", "trusted": True, "valid": True, "subject_name": "Apple Inc.",
                   "digest_algorithm": "md5", "timestamp": "2008-07-25T22:21:53Z"}


def test_garbage_file_is_not_benign(tmp_path: Path) -> None:
    junk = tmp_path / "junk.exe"
    junk.write_bytes(bytes(range(256)) * 20)
    empty = tmp_path / "empty.exe"
    empty.write_bytes(b"")
    engine = _engine(tmp_path, mode="off")
    for path in (junk, empty):
        result = assess_file(engine, path, _context())
        assert "unsupported_file" in {f.code for f in result.findings}
        assert result.verdict is Verdict.SUSPICIOUS


def test_missing_evidence_never_makes_code_malicious() -> None:
    from sigtriage.judge.score import ScoringPolicy, contributions, verdict_of
    from sigtriage.model import Finding, Severity

    risky = (Finding("signature_not_valid", Severity.HIGH, "untrusted"),
             Finding("first_seen_certificate", Severity.LOW, "new"),
             Finding("revocation_unknown", Severity.HIGH, "CRL unreachable"))
    parts = contributions(risky, Privilege.KERNEL, {}, ScoringPolicy())
    assert sum(p.points for p in parts) >= 70  # the level is critical ...
    assert verdict_of(risky, parts, ScoringPolicy(), evidence_missing=False) is Verdict.SUSPICIOUS  # ... not malicious


@needs_samples
def test_a_nested_signature_chaining_to_a_pinned_ca_pins_the_file(tmp_path: Path) -> None:
    engine = _engine(tmp_path, mode="off")
    engine.baseline = from_document(learn([analyze_file(SAMPLES / "whois.exe", engine.trust)], name="g"),
                                    base_dir=tmp_path)  # pins Microsoft Code Signing PCA 2011 only
    result = assess_file(engine, SAMPLES / "sigcheck.exe", _context())
    assert result.pinned_publisher == "Microsoft Corporation"  # via the nested SHA-256 signature
    assert "baseline_name_without_pin" not in {f.code for f in result.findings}


@needs_samples
def test_require_mode_does_not_hide_a_forged_chain(tmp_path: Path) -> None:
    result = assess_file(_engine(tmp_path, mode="require"), SAMPLES / "7z1900-x64_signed.exe", _context())
    assert result.verdict is Verdict.MALICIOUS  # revocation of a spoofed chain is beside the point
