"""`sigtriage assess` and `sigtriage baseline` as a user runs them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import ALERTS, SAMPLES, TEST_DATA, needs_samples

REAL = TEST_DATA / "real" / "attach_amd64.dll"


def run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SIGTRIAGE_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "sigtriage", *args], capture_output=True, text=True, timeout=180,
                          env=env)


def _config(tmp_path: Path, **sections: object) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump({"revocation": {"mode": "off"}, **sections}))
    return path


def test_assess_json_with_embedded_defaults_pins_microsoft(tmp_path: Path) -> None:
    out = run("assess", "--file", str(REAL), "--config", str(_config(tmp_path)), "--json", home=tmp_path)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["pinned_publisher"] == "Microsoft" and doc["verdict"] == "benign"
    assert doc["baseline"] == "sigtriage-default@1"
    assert (tmp_path / "sigtriage.db").is_file()  # the prevalence store lives under SIGTRIAGE_HOME


@needs_samples
def test_assess_human_output_with_a_real_alert(tmp_path: Path) -> None:
    out = run("assess", "--file", str(SAMPLES / "7z1900-x64_signed.exe"), "--alert",
              str(ALERTS / "01_sysmon_eid1_winlogbeat_ecs.json"), "--config", str(_config(tmp_path)), home=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "verdict malicious" in out.stdout and "chain_mismatch" in out.stdout


def test_unknown_alert_format_names_the_fields_needed(tmp_path: Path) -> None:
    alert = tmp_path / "alert.json"
    alert.write_text(json.dumps({"foo": "bar"}))
    out = run("assess", "--file", str(REAL), "--alert", str(alert), home=tmp_path)
    assert out.returncode == 3
    assert "sha256" in out.stderr and "image_path" in out.stderr and "Traceback" not in out.stderr


def test_bad_config_and_bad_baseline_are_clear_errors(tmp_path: Path) -> None:
    config = tmp_path / "c.yml"
    config.write_text("revocation:\n  mode: sometimes\n")
    out = run("assess", "--file", str(REAL), "--config", str(config), home=tmp_path)
    assert out.returncode == 3 and "revocation.mode" in out.stderr and "sometimes" in out.stderr
    baseline = tmp_path / "b.yml"
    baseline.write_text("name: x\nversion: 1\npublishers:\n  - name: Foo\n    certificates: [nothex]\n")
    out = run("baseline", "check", str(baseline), home=tmp_path)
    assert out.returncode == 3
    assert "publishers[0].certificates[0]" in out.stderr and "nothex" in out.stderr
    baseline.write_text("name: x\nversion: 1\nfavourite_colour: blue\n")
    out = run("baseline", "check", str(baseline), home=tmp_path)
    assert out.returncode == 3 and "favourite_colour" in out.stderr


@needs_samples
def test_baseline_learn_then_check_then_use(tmp_path: Path) -> None:
    golden = tmp_path / "golden"
    golden.mkdir()
    for name in ("whois.exe", "SoftwareUpdate.exe", "spotify_sample.exe", "libssp-0.dll"):
        shutil.copy(SAMPLES / name, golden / name)
    learned = tmp_path / "learned.yml"
    out = run("baseline", "learn", str(golden), "--name", "golden-image", "-o", str(learned), home=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "learned from 4 files" in out.stderr
    doc = yaml.safe_load(learned.read_text())
    assert sorted(p["name"] for p in doc["publishers"]) == ["Apple Inc.", "Microsoft Corporation", "Spotify AB"]
    out = run("baseline", "check", str(learned), home=tmp_path)
    assert out.returncode == 0 and "3 publishers" in out.stdout
    out = run("assess", "--file", str(SAMPLES / "spotify_sample.exe"), "--baseline", str(learned), "--config",
              str(_config(tmp_path)), "--json", home=tmp_path)
    assert json.loads(out.stdout)["pinned_publisher"] == "Spotify AB"


def test_empty_config_means_defaults_and_broken_internal_ca_is_named(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yml"
    empty.write_text("")
    out = run("assess", "--file", str(REAL), "--config", str(empty), "--json", "--no-record", home=tmp_path)
    assert out.returncode == 0, out.stderr
    baseline = tmp_path / "b.yml"
    baseline.write_text('name: t\nversion: 1\ninternal_cas:\n  - name: Contoso Root\n    pem: "-----BEGIN CERTIFICATE-----'
                        '\\nAAAA\\n-----END CERTIFICATE-----"\n')
    out = run("baseline", "check", str(baseline), home=tmp_path)
    assert out.returncode == 3 and "internal CA 'Contoso Root'" in out.stderr


@needs_samples
def test_learning_leaves_whql_attested_signers_out(tmp_path: Path) -> None:
    from sigtriage.config.baseline import learn
    from sigtriage.extract.analyze import analyze_file
    from sigtriage.extract.trust import load_trust_store

    trust = load_trust_store()
    doc = learn([analyze_file(SAMPLES / "oem89.cat", trust), analyze_file(SAMPLES / "whois.exe", trust)], name="g")
    assert [p["names"] for p in doc["publishers"]] == [["Microsoft Corporation"]]  # whois only, not the WHQL signer
