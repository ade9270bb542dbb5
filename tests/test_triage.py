"""The main job end to end: real alerts and samples, every dependency failing, re-runs, and many processes at once."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
import responses

from sigtriage.act.connectors.registry import build_connectors
from sigtriage.config.settings import Settings
from sigtriage.config.playbook import load_playbook
from sigtriage.gather.revocation import RevocationConfig
from sigtriage.model.decision import ActionKind, DecisionKind
from sigtriage.net import NetConfig, SafeSession
from sigtriage.pipeline import Engine, build_engine
from sigtriage.store.cases import CaseStore
from sigtriage.triage import triage

from conftest import ALERTS, REPO, SAMPLES, TEST_DATA, needs_samples

REAL = TEST_DATA / "real" / "attach_amd64.dll"
QUICKSTART_ALERT = TEST_DATA / "alerts" / "quickstart_sysmon_eid7_attach_amd64.json"
THEHIVE = "https://thehive.soc.test"
MDE_API = "https://api.securitycenter.microsoft.com"
MDE_LOGIN = "https://login.microsoftonline.com"
SECRETS = {"THEHIVE_KEY": "th-secret-0123456789abcdef", "MDE_SECRET": "mde-secret-0123456789abcdef"}


def _resolver(host: str, port: int) -> tuple[str, ...]:
    return ("93.184.215.14",)  # every test host is "public"; nothing connects (responses intercepts)


class World:
    """One sigtriage installation: a store, an engine, a playbook and (optionally) connectors, under a fake clock."""

    def __init__(self, tmp_path: Path, *, revocation: str = "off", connectors: dict[str, Any] | None = None,
                 inputs: dict[str, Any] | None = None) -> None:
        self.settings = Settings(revocation=RevocationConfig(mode=revocation), store_path=tmp_path / "sigtriage.db",
                                 crl_cache_dir=tmp_path / "crl")
        self.engine: Engine = build_engine(self.settings, session=SafeSession(NetConfig(), resolver=_resolver))
        self.store = CaseStore(self.engine.db)
        self.playbook = load_playbook()
        self.inputs = self.playbook.resolve_inputs({"require_revocation_checked": revocation != "off", **(inputs or {})})
        self.connectors = build_connectors(connectors or {}, environ=SECRETS, resolver=_resolver)
        self.now = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)

    def clock(self) -> datetime:
        return self.now

    def run(self, alert: Path, binary: Path, **kwargs: Any) -> Any:
        return triage(self.engine, self.store, self.playbook, alert_path=alert, file_path=binary,
                      inputs=kwargs.pop("inputs", self.inputs), connectors=self.connectors, clock=self.clock, **kwargs)

    def actions(self, key: str) -> list[dict[str, Any]]:
        return (self.store.case_detail(key) or {})["actions"]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.engine.close()


# ------------------------------------------------------------------ the main job on real inputs


def test_quickstart_alert_with_its_real_binary_auto_closes_under_a_waived_revocation_policy(world: World) -> None:
    result = world.run(QUICKSTART_ALERT, REAL)
    assert result.decision.decision is DecisionKind.AUTO_CLOSE
    assert result.decision.close_reason and "pinned" in result.decision.close_reason
    close = next(a for a in world.actions(result.case_key) if a["kind"] == "close")
    assert close["state"] == "delivered" and close["connector"] == "local"
    case = world.store.get_case(result.case_key)
    assert case is not None and case["status"] == "closed" and case["decision"] == "auto_close"
    assert "Closing reason" in result.note


@needs_samples
def test_spoofed_7zip_escalates(world: World) -> None:
    result = world.run(ALERTS / "01_sysmon_eid1_winlogbeat_ecs.json", SAMPLES / "7z1900-x64_signed.exe")
    assert result.decision.decision is DecisionKind.ESCALATE
    assert result.decision.severity >= 3
    assert not any(a.kind is ActionKind.CLOSE for a in result.decision.actions)
    assert "chain_mismatch" in result.note and "publisher_mismatch" in result.note


@needs_samples
def test_pinned_microsoft_binary_run_as_system_auto_closes_with_a_recorded_reason(world: World) -> None:
    alert = TEST_DATA / "alerts" / "elastic_security_alert_process.json"  # whois.exe as SYSTEM (scheduled task)
    result = world.run(alert, SAMPLES / "whois.exe")
    assert result.assessment is not None and result.assessment.privilege.value == "system"
    assert result.decision.decision is DecisionKind.AUTO_CLOSE
    audit = (world.store.case_detail(result.case_key) or {})["audit"]
    decision = next(json.loads(a["result_json"]) for a in audit if a["step"] == "case.decision")
    assert decision["decision"] == "auto_close" and any("pinned" in r for r in decision["reasons"])


@needs_samples
def test_an_alert_that_names_no_hash_never_auto_closes(world: World, tmp_path: Path) -> None:
    """4688 carries no hash: the file given may not be the one that ran, so the pinned binary is not closed."""
    result = world.run(TEST_DATA / "alerts" / "windows_security_4688_winlogbeat.json", SAMPLES / "whois.exe")
    assert result.decision.decision is DecisionKind.ESCALATE
    assert any("nothing ties the analysed file to the alert" in r for r in result.decision.reasons)


@pytest.mark.parametrize("field", ["sha1", "md5"])
def test_an_alert_whose_other_hashes_disagree_is_not_about_this_file(world: World, tmp_path: Path, field: str) -> None:
    alert = tmp_path / "alert.json"
    alert.write_text(json.dumps({"sigtriage_alert": 1, "host": "h", "image_path": "C:\\a.dll",
                                 field: "0" * (40 if field == "sha1" else 32)}))
    result = world.run(alert, REAL)
    assert result.decision.decision is DecisionKind.ESCALATE
    assert result.assessment is not None and result.assessment.verdict.value == "unknown"
    assert "alert_file_mismatch" in {f.code for f in result.assessment.findings}


@needs_samples
def test_spotify_is_not_escalated_as_a_lookalike(world: World) -> None:
    result = world.run(ALERTS / "06_mde_deviceprocessevents.json", SAMPLES / "spotify_sample.exe")
    text = " ".join(result.decision.reasons) + result.note
    assert "lookalike" not in text and "publisher_mismatch" not in text
    # not pinned in the default baseline, so not auto-closed; at the lowest severity
    assert result.decision.decision is DecisionKind.ESCALATE and result.decision.severity == 1


# ------------------------------------------------------------------ every dependency failing


def test_unparseable_binary_escalates_and_is_recorded(world: World, tmp_path: Path) -> None:
    missing = tmp_path / "gone.dll"
    result = world.run(QUICKSTART_ALERT, missing)
    assert result.decision.decision is DecisionKind.ESCALATE and result.failure
    assert "binary could not be analysed" in result.failure
    assert world.store.get_case(result.case_key)["status"] == "error"  # type: ignore[index]
    assert not any(a["kind"] == "close" for a in world.actions(result.case_key))


def test_corrupt_alert_escalates_with_the_reason(world: World, tmp_path: Path) -> None:
    corrupt = tmp_path / "alert.json"
    corrupt.write_text('{"winlog": {"event_id": 1, "provider_name": "Microsoft-Windows-Sysmon"')
    result = world.run(corrupt, REAL)
    assert result.decision.decision is DecisionKind.ESCALATE
    assert result.failure and "alert could not be read" in result.failure
    again = world.run(corrupt, REAL)  # the same broken alert is the same case
    assert again.case_key == result.case_key


def test_garbage_binary_is_never_closed(world: World, tmp_path: Path) -> None:
    garbage = tmp_path / "x.dll"
    garbage.write_bytes(b"MZ" + bytes(300))
    result = world.run(QUICKSTART_ALERT, garbage)
    assert result.decision.decision is DecisionKind.ESCALATE
    assert result.assessment is not None and result.assessment.analysis.status.value == "malformed"


def test_crl_timeout_escalates_and_never_closes(tmp_path: Path) -> None:
    w = World(tmp_path, revocation="soft-fail")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.GET, re.compile(r"http://.*"), body=requests.exceptions.ConnectTimeout("timed out"))
        mock.add(responses.POST, re.compile(r"http://.*"), body=requests.exceptions.ConnectTimeout("timed out"))
        result = w.run(QUICKSTART_ALERT, REAL)
        assert len(mock.calls) >= 1
    assert result.decision.decision is DecisionKind.ESCALATE
    assert any("revocation" in r for r in result.decision.reasons)
    w.engine.close()


def _thehive_world(tmp_path: Path, **kwargs: Any) -> World:
    return World(tmp_path, connectors={"thehive": {"url": THEHIVE, "api_key_env": "THEHIVE_KEY"}}, **kwargs)


def _thehive_ok(mock: responses.RequestsMock) -> None:
    mock.add(responses.POST, re.compile(rf"{THEHIVE}/api/v1/query.*"), json=[])
    mock.add(responses.POST, re.compile(rf"{THEHIVE}/api/v1/alert/[^/]+/comment"), json={"_id": "~c1"}, status=201)
    mock.add(responses.PATCH, re.compile(rf"{THEHIVE}/api/v1/alert/[^/]+$"), status=204)
    mock.add(responses.POST, re.compile(rf"{THEHIVE}/api/v1/alert/[^/]+/observable"), json=[{"_id": "~o1"}],
             status=201)
    mock.add(responses.POST, re.compile(rf"{THEHIVE}/api/v1/alert/[^/]+/case"), json={"_id": "~case1", "number": 7},
             status=201)


@needs_samples
def test_thehive_500_then_200_nothing_lost_outbox_delivers_later(tmp_path: Path) -> None:
    w = _thehive_world(tmp_path)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, re.compile(rf"{THEHIVE}/.*"), status=500, json={"type": "InternalError"})
        mock.add(responses.PATCH, re.compile(rf"{THEHIVE}/.*"), status=500, json={"type": "InternalError"})
        first = w.run(ALERTS / "01_sysmon_eid1_winlogbeat_ecs.json", SAMPLES / "7z1900-x64_signed.exe",
                      soar_ref="~4096")
    assert first.decision.decision is DecisionKind.ESCALATE
    assert first.delivered == 0 and first.retrying >= 1 and first.failed == 0
    states = {a["kind"]: a["state"] for a in w.actions(first.case_key)}
    assert set(states.values()) == {"pending"}  # the first failed, the rest wait behind it in order
    w.now += timedelta(minutes=10)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        _thehive_ok(mock)
        again = w.run(ALERTS / "01_sysmon_eid1_winlogbeat_ecs.json", SAMPLES / "7z1900-x64_signed.exe",
                      soar_ref="~4096")
        comments = [c for c in mock.calls if c.request.url.endswith("/comment")]
    assert again.replayed and again.failed == 0 and again.retrying == 0
    assert {a["state"] for a in w.actions(first.case_key)} == {"delivered"}
    assert len(comments) == 1 and "chain_mismatch" in json.loads(comments[0].request.body)["message"]
    assert SECRETS["THEHIVE_KEY"] not in json.dumps(w.store.case_detail(first.case_key))
    w.engine.close()


def _defender_world(tmp_path: Path) -> World:
    return World(tmp_path, connectors={
        "defender": {"tenant_id": "contoso-tenant", "client_id": "app-1", "client_secret_env": "MDE_SECRET",
                     "api_url": MDE_API, "login_url": MDE_LOGIN},
    }, inputs={"containment_enabled": True, "approval_required": False})


def _malicious_alert(tmp_path: Path) -> Path:
    """A Sysmon event 1 as SYSTEM on an MDE-managed host, for a binary signed with a spoofed chain."""
    plain = {"sigtriage_alert": 1, "alert_id": "mde-da1234", "host": "ws-fin-0231", "host_id": "8c2e4f6a1b3d5c7e9f0a2b4c6d8e0f1a3b5c7d9e",
             "user": "NT AUTHORITY\\SYSTEM", "user_sid": "S-1-5-18", "integrity_level": "system",
             "image_path": "C:\\Windows\\Temp\\7z.exe",
             "sha256": "43bc0e260fc811b04475ab15c962f26816214fc5ba3706f16f10ac3cb26bea41"}
    path = tmp_path / "alert.json"
    path.write_text(json.dumps(plain))
    return path


@needs_samples
def test_defender_429_then_success_and_exactly_one_isolation_after_many_reruns(tmp_path: Path) -> None:
    w = _defender_world(tmp_path)
    alert = _malicious_alert(tmp_path)
    isolate = re.compile(rf"{MDE_API}/api/machines/8c2e4f6a1b3d5c7e9f0a2b4c6d8e0f1a3b5c7d9e/isolate")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, re.compile(rf"{MDE_LOGIN}/.*/token"), json={"access_token": "tok", "expires_in": 3599})
        mock.add(responses.POST, isolate, status=429, headers={"Retry-After": "30"}, json={"error": {"code": "TooMany"}})
        first = w.run(alert, SAMPLES / "7z1900-x64_signed.exe")
        assert first.decision.decision is DecisionKind.CONTAIN
        assert first.retrying >= 1 and first.failed == 0
        pending = next(a for a in w.actions(first.case_key) if a["kind"] == "isolate_host")
        assert pending["state"] == "pending" and pending["next_attempt_at"] >= "2026-12-03T12:00:30"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, re.compile(rf"{MDE_LOGIN}/.*/token"), json={"access_token": "tok", "expires_in": 3599})
        mock.add(responses.POST, isolate, status=201, json={"id": "ma-1", "type": "Isolate", "status": "Pending"})
        mock.add(responses.POST, re.compile(rf"{MDE_API}/api/indicators"), status=200,
                 json={"id": "995", "indicatorValue": "43bc0e26", "action": "BlockAndRemediate"})
        for minutes in (1, 5, 10, 20, 40):  # re-runs, some before Retry-After has passed
            w.now = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc) + timedelta(minutes=minutes)
            again = w.run(alert, SAMPLES / "7z1900-x64_signed.exe")
            assert again.case_key == first.case_key and again.replayed
        isolations = [c for c in mock.calls if isolate.match(c.request.url)]
        assert len(isolations) == 1
        body = json.loads(isolations[0].request.body)
        assert body["IsolationType"] == "Full" and body["Comment"].startswith("sigtriage")
    assert {a["kind"]: a["state"] for a in w.actions(first.case_key)}["isolate_host"] == "delivered"
    w.engine.close()


@needs_samples
def test_containment_waits_for_approval_by_default(tmp_path: Path) -> None:
    w = _defender_world(tmp_path)
    w.inputs = w.playbook.resolve_inputs({"containment_enabled": True})
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        result = w.run(_malicious_alert(tmp_path), SAMPLES / "7z1900-x64_signed.exe")
        assert not [c for c in mock.calls if "/isolate" in c.request.url]
    assert result.awaiting_approval == 2  # isolate + block hash
    w.engine.close()


def test_dry_run_sends_and_stores_nothing_and_never_blocks_the_real_run(tmp_path: Path) -> None:
    w = _thehive_world(tmp_path)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        dry = w.run(QUICKSTART_ALERT, REAL, inputs={**w.inputs, "dry_run": True}, soar_ref="~1")
        assert len(mock.calls) == 0
    assert dry.decision.dry_run and w.actions(dry.case_key) == []
    audit = (w.store.case_detail(dry.case_key) or {})["audit"]
    assert [a["step"] for a in audit] == ["case.open", "triage.dry_run"]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        _thehive_ok(mock)
        real = w.run(QUICKSTART_ALERT, REAL, soar_ref="~1")
        assert any(c.request.url.endswith("/comment") for c in mock.calls)
    assert real.case_key == dry.case_key and not real.replayed and real.delivered >= 3
    w.engine.close()


def test_alerts_without_an_id_are_separate_cases_per_event(world: World, tmp_path: Path) -> None:
    doc = json.loads(QUICKSTART_ALERT.read_text())
    doc["host"]["name"] = "ws-dev-0999.corp.example.test"
    doc["winlog"]["record_id"] += 1
    other = tmp_path / "other-host.json"
    other.write_text(json.dumps(doc))
    first, second = world.run(QUICKSTART_ALERT, REAL), world.run(other, REAL)
    assert first.case_key != second.case_key and not second.replayed
    assert "ws-dev-0999" in second.note
    reformatted = tmp_path / "same-event.json"
    reformatted.write_text(json.dumps(json.loads(QUICKSTART_ALERT.read_text()), indent=4, sort_keys=True))
    assert world.run(reformatted, REAL).case_key == first.case_key  # the same event, whatever its layout


def test_changing_inputs_or_target_is_a_new_decision(world: World) -> None:
    strict = world.run(QUICKSTART_ALERT, REAL, inputs=world.playbook.resolve_inputs({"require_revocation_checked": True}))
    waived = world.run(QUICKSTART_ALERT, REAL)
    assert strict.case_key != waived.case_key
    assert strict.decision.decision is DecisionKind.ESCALATE and waived.decision.decision is DecisionKind.AUTO_CLOSE


def test_a_failed_alert_is_escalated_at_failure_severity_with_verdict_unknown(world: World, tmp_path: Path) -> None:
    corrupt = tmp_path / "alert.json"
    corrupt.write_text("[]")
    result = world.run(corrupt, REAL)
    assert result.decision.severity == 3
    tags = next(a for a in result.decision.actions if a.kind is ActionKind.TAG).params["tags"]
    assert "sigtriage:verdict:unknown" in tags


def test_rerun_after_a_failed_run_sends_the_new_decision(world: World, tmp_path: Path) -> None:
    failed = world.run(QUICKSTART_ALERT, tmp_path / "not-yet-fetched.dll")
    assert failed.failure and failed.decision.severity == 3
    fixed = world.run(QUICKSTART_ALERT, REAL)
    assert fixed.decision.decision is DecisionKind.AUTO_CLOSE and not fixed.replayed


def test_rerun_requeues_deliveries_that_failed_for_good(tmp_path: Path) -> None:
    from sigtriage.act.outbox import flush

    w = _thehive_world(tmp_path)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, re.compile(rf"{THEHIVE}/.*"), status=503)
        mock.add(responses.PATCH, re.compile(rf"{THEHIVE}/.*"), status=503)
        first = w.run(QUICKSTART_ALERT, REAL, soar_ref="~7")
        for _ in range(12):  # an outage longer than every attempt of the outbox's backoff
            w.now += timedelta(hours=2)
            flush(w.store, w.connectors, now=w.clock)
    states = {a["state"] for a in w.actions(first.case_key)}
    assert "failed" in states and "delivered" not in states
    assert any("503" in (a["last_error"] or "") for a in w.actions(first.case_key))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        _thehive_ok(mock)
        again = w.run(QUICKSTART_ALERT, REAL, soar_ref="~7")
    assert again.replayed and {a["state"] for a in w.actions(first.case_key)} == {"delivered"}
    w.engine.close()


# ------------------------------------------------------------------ many triage processes, one SQLite store


WORKER = """
import sys, json
from pathlib import Path
sys.path.insert(0, {tests!r})
from test_triage import World
w = World(Path(sys.argv[1]))
for alert in sys.argv[2:]:
    r = w.run(Path(alert), Path({real!r}))
    print(json.dumps({{"key": r.case_key, "decision": r.decision.decision.value}}))
"""


def test_concurrent_triage_processes_share_one_store(tmp_path: Path) -> None:
    alerts = []
    for n in range(6):
        doc = json.loads(QUICKSTART_ALERT.read_text())
        doc["winlog"]["record_id"] = 5000 + n
        doc["event"]["id"] = f"evt-{n}"
        path = tmp_path / f"alert-{n}.json"
        path.write_text(json.dumps(doc))
        alerts.append(str(path))
    script = tmp_path / "worker.py"
    script.write_text(WORKER.format(tests=str(REPO / "tests"), real=str(REAL)))
    # four processes, each triaging all six alerts (in different orders): 24 triages of 6 cases
    procs = [subprocess.Popen([sys.executable, str(script), str(tmp_path), *(alerts[i:] + alerts[:i])],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(4)]
    outputs = [p.communicate(timeout=240) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-2000:] for _, err in outputs]
    results = [json.loads(line) for out, _ in outputs for line in out.splitlines()]
    assert len(results) == 24 and {r["decision"] for r in results} == {"auto_close"}
    conn = sqlite3.connect(tmp_path / "sigtriage.db")
    keys = {r["key"] for r in results}
    assert conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == len(keys) == 6
    assert conn.execute("SELECT COUNT(*) FROM actions WHERE state != 'delivered'").fetchone()[0] == 0
    per_case = conn.execute("SELECT case_key, kind, COUNT(*) FROM actions GROUP BY case_key, kind").fetchall()
    assert all(count == 1 for _, _, count in per_case) and len(per_case) == 6 * 3  # note, tag, close
    decisions = conn.execute("SELECT COUNT(*) FROM audit WHERE step = 'case.decision'").fetchone()[0]
    assert decisions == 6  # decided once per case; the other 18 runs replayed it
    assert conn.execute("SELECT COUNT(*) FROM audit WHERE step = 'triage.replay'").fetchone()[0] == 18
    conn.close()


def test_an_edited_playbook_or_baseline_is_a_new_decision_even_without_a_version_bump(world: World,
                                                                                      tmp_path: Path) -> None:
    from sigtriage.config.baseline import DEFAULT_BASELINE, load_baseline
    from sigtriage.config.playbook import DEFAULT_PLAYBOOK

    first = world.run(QUICKSTART_ALERT, REAL)
    edited = tmp_path / "playbook.yml"
    edited.write_text(DEFAULT_PLAYBOOK.read_text().replace("Benign: signed by", "Benign (edited): signed by"))
    world.playbook = load_playbook(edited)
    second = world.run(QUICKSTART_ALERT, REAL)
    assert second.case_key != first.case_key and not second.replayed
    assert second.decision.close_reason and "edited" in second.decision.close_reason
    baseline = tmp_path / "baseline.yml"
    baseline.write_text(DEFAULT_BASELINE.read_text().replace("rare_max_hosts: 2", "rare_max_hosts: 3"))
    world.engine.baseline = load_baseline(baseline)
    assert world.run(QUICKSTART_ALERT, REAL).case_key not in (first.case_key, second.case_key)
