"""The `sigtriage analyze` command as a user runs it: real processes, real exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema

from sigtriage.model.documents import schema_path

from conftest import TEST_DATA

REAL = TEST_DATA / "real" / "attach_amd64.dll"


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sigtriage", *args], capture_output=True, text=True, timeout=timeout)


def test_human_output_names_signer_and_status() -> None:
    out = run("analyze", str(REAL))
    assert out.returncode == 0, out.stderr
    assert "valid" in out.stdout and "Microsoft 3rd Party Application Component" in out.stdout


def test_json_lines_for_a_walked_directory_with_workers(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    shutil.copy(REAL, tmp_path / "a.dll")
    shutil.copy(REAL, tmp_path / "sub" / "b.dll")
    (tmp_path / "sub" / "empty.exe").write_bytes(b"")
    out = run("analyze", "--json", "--workers", "2", str(tmp_path))
    assert out.returncode == 0, out.stderr
    docs = [json.loads(line) for line in out.stdout.splitlines()]
    assert [Path(d["file"]["path"]).name for d in docs] == ["a.dll", "b.dll", "empty.exe"]
    assert [d["status"] for d in docs] == ["valid", "valid", "unsupported"]
    schema = json.loads(schema_path("analysis-report").read_text())
    for doc in docs:
        jsonschema.validate(doc, schema)


def test_unreadable_input_gives_an_error_document_and_exit_3(tmp_path: Path) -> None:
    out = run("analyze", "--json", str(REAL), str(tmp_path / "missing.exe"))
    assert out.returncode == 3
    first, second = (json.loads(line) for line in out.stdout.splitlines())
    assert first["status"] == "valid"
    jsonschema.validate(second, json.loads(schema_path("analysis-failure").read_text()))
    assert second["error_type"] == "input"


def test_usage_errors_exit_2_without_traceback(tmp_path: Path) -> None:
    out = run("analyze", "--at", "yesterday", str(REAL))
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and "--at" in out.stderr
    bad_anchor = tmp_path / "anchor.pem"
    bad_anchor.write_text("not a certificate")
    out = run("analyze", "--trust-anchor", str(bad_anchor), str(REAL))
    assert out.returncode == 3 and "anchor.pem" in out.stderr and "Traceback" not in out.stderr


def test_at_changes_the_verdict_for_an_untimestamped_signature(tmp_path: Path) -> None:
    """--at evaluates trust at another time; the real DLL is timestamped, so it stays valid."""
    out = run("analyze", "--json", "--at", "2099-01-01T00:00:00Z", str(REAL))
    assert json.loads(out.stdout)["status"] == "valid"
    assert json.loads(out.stdout)["evaluated_at"] == "2099-01-01T00:00:00Z"


def test_no_microsoft_roots_without_anchors_trusts_nothing() -> None:
    out = run("analyze", "--json", "--no-microsoft-roots", str(REAL))
    doc = json.loads(out.stdout)
    assert doc["status"] == "untrusted_root" and doc["trust"] == []


def test_bad_output_paths_and_ids_fail_before_any_work(tmp_path: Path) -> None:
    env_home = ["--config", str(tmp_path / "missing.yml")]  # never reached: the argument checks come first
    alert = str(TEST_DATA / "alerts" / "quickstart_sysmon_eid7_attach_amd64.json")
    for extra in (["--note", str(tmp_path)], ["--note", str(tmp_path / "no" / "x.md")],
                  ["--thehive-alert-id", "../../etc"]):
        out = run("triage", "--alert", alert, "--file", str(REAL), *extra, *env_home)
        assert out.returncode == 2 and "Traceback" not in out.stderr, (extra, out.stderr)
    out = run("baseline", "learn", str(TEST_DATA / "real"), "-o", str(tmp_path))
    assert out.returncode == 2 and "not a regular file" in out.stderr


def test_special_files_never_hang_a_triage(tmp_path: Path) -> None:
    import os

    config = tmp_path / "c.yml"
    config.write_text(f"revocation: {{mode: 'off'}}\nstore: {{path: {tmp_path / 'db.sqlite'}}}\n")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    alert = str(TEST_DATA / "alerts" / "quickstart_sysmon_eid7_attach_amd64.json")
    for binary, alert_file in ((str(fifo), alert), ("/dev/zero", alert), (str(REAL), "/dev/zero")):
        out = run("triage", "--alert", alert_file, "--file", binary, "--config", str(config), "--json", timeout=60)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["decision"]["decision"] == "escalate"
