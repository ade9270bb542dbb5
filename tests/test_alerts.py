"""Alert normalisation: every format from its fixture, the real alerts, the privilege table, and hostile input."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigtriage.alerts import FORMATS, PARSERS, load_alert, normalize, plain
from sigtriage.alerts.privilege import derive_privilege, elevation_of, integrity_of
from sigtriage.errors import AlertFormatError, InputError
from sigtriage.model.context import EdrSignatureClaim, ExecutionContext, Integrity, Privilege

from conftest import ALERTS, REPO, TEST_DATA

FIXTURES = TEST_DATA / "alerts"
DOCS = REPO / "docs" / "alert-formats.md"

MS_WINDOWS_VALID = EdrSignatureClaim(signed=True, subject="Microsoft Windows", status="Valid", trusted=True)
WHOIS = "292def98af78c3cb240ed52e0a0a0bc7a15b31ca5ac101891b96875070ed6a9c"
SIGCHECK = "8b54bf9e38afe5f0123f513b450f4ef9b773f93ed24d30e0f559df4ae067e40a"
SIGCHECK_SHA1 = "ceaee2c6a2305d454aea111eb882ef8070c54548"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def context(source_format: str, **fields: Any) -> ExecutionContext:
    """An expected context: everything absent unless given."""
    empty: dict[str, Any] = {
        "event_kind": "process_start",
        "alert_id": None,
        "event_time": None,
        "host": None,
        "host_id": None,
        "user": None,
        "user_sid": None,
        "integrity_level": Integrity.UNKNOWN,
        "elevated": None,
        "is_service": False,
        "image_path": None,
        "command_line": None,
        "parent_image": None,
        "sha256": None,
        "sha1": None,
        "md5": None,
        "company_name": None,
        "edr_signature": None,
        "privilege": Privilege.UNKNOWN,
        "notes": (),
    }
    return ExecutionContext(source_format=source_format, **{**empty, **fields})


EXPECTED = {
    "sysmon_eid6_driver_load_winlogbeat_ecs.json": context(
        "sysmon_ecs",
        event_kind="driver_load",
        event_time=utc("2026-12-01T07:58:41.302"),
        host="ws-eng-0112.corp.example.test",
        image_path="C:\\Windows\\System32\\drivers\\pciide.sys",
        sha256="f2a7cc645b96946cc65bf60e14e70dc09c848d27c7943ce5dea0c01a6b863480",
        sha1="98cc3b8f38311abfdf577be403ff9f74aa55f745",
        md5="b5b8b5ef2e5cb34df8dcf8831e3534fa",
        edr_signature=MS_WINDOWS_VALID,
        privilege=Privilege.KERNEL,
    ),
    "sysmon_eid7_image_load_winlogbeat_ecs.json": context(
        "sysmon_ecs",
        event_kind="image_load",
        event_time=utc("2026-12-01T09:03:17.664"),
        host="ws-fin-0231.corp.example.test",
        user="NT AUTHORITY\\SYSTEM",
        user_sid="S-1-5-18",
        is_service=True,
        image_path="C:\\Windows\\System32\\DXCore.dll",
        parent_image="C:\\Windows\\System32\\svchost.exe",
        sha256="36de2c16a1f88d33f4c77b60b94ce5f276379f8f9195f038608a94889d3680f3",
        sha1="54e854ca22c01d1fd5b3bedbcdff3414d7e0a72a",
        md5="30bd37bdfb058684b472b2255acddc24",
        company_name="Microsoft Corporation",
        edr_signature=MS_WINDOWS_VALID,
        privilege=Privilege.SYSTEM,
        notes=("user SID S-1-5-18 inferred from the well-known account name 'NT AUTHORITY\\SYSTEM'",),
    ),
    "quickstart_sysmon_eid7_attach_amd64.json": context(
        "sysmon_ecs",
        event_kind="image_load",
        event_time=utc("2026-12-02T14:41:07.031"),
        host="ws-dev-0112.corp.example.test",
        user="CORP\\dev.chen",
        image_path="C:\\Users\\dev.chen\\AppData\\Local\\Programs\\Python\\Python311\\Lib\\site-packages\\debugpy"
        "\\_vendored\\pydevd\\pydevd_attach_to_process\\attach_amd64.dll",
        parent_image="C:\\Users\\dev.chen\\AppData\\Local\\Programs\\Python\\Python311\\python.exe",
        sha256="3552ec7494159f00c1dfcdeece81b3265607b2fe347ae5878148ffe57454cf6f",
        sha1="cb712df5588927b4ca8258b9cedba2b8cbbbf20c",
        md5="0e9b83d71bc84cf26d3e8fdff924d378",
        edr_signature=EdrSignatureClaim(signed=True, subject="Microsoft 3rd Party Application Component", status="Valid",
                                        trusted=True),
        notes=("privilege unknown: no integrity level, elevation or service account in the alert",),
    ),
    "windows_security_4688_winlogbeat.json": context(
        "windows_security_4688",
        event_time=utc("2026-12-01T03:00:02.871"),
        host="srv-app-014.corp.example.test",
        user="CORP\\SRV-APP-014$",
        user_sid="S-1-5-18",
        integrity_level=Integrity.SYSTEM,
        is_service=True,
        image_path="C:\\ProgramData\\Sysinternals\\whois.exe",
        command_line='"C:\\ProgramData\\Sysinternals\\whois.exe" -accepteula -v corp-update.example.net',
        parent_image="C:\\Windows\\System32\\svchost.exe",
        privilege=Privilege.SYSTEM,
    ),
    "mde_alert_api_evidence.json": context(
        "mde_alert",
        alert_id="da638685427915183277_-1468752912",
        event_time=utc("2026-12-01T11:26:58.117240"),
        host="ws-ops-0219.corp.example.test",
        host_id="4f6a8c0e2b4d6f8a0c2e4a6b8d0f2a4c6e8b0d2f",
        user="CORP\\dana.ortiz",
        user_sid="S-1-5-21-1111111111-2222222222-3333333333-2207",
        image_path="C:\\Users\\dana.ortiz\\Downloads\\SysinternalsSuite\\sigcheck.exe",
        command_line="sigcheck.exe  -accepteula -e -u -s C:\\ProgramData",
        parent_image="C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
        sha256=SIGCHECK,
        sha1=SIGCHECK_SHA1,
        notes=(
            "the MDE alerts API reports no integrity level or token elevation (see DeviceProcessEvents)",
            "privilege unknown: no integrity level, elevation or service account in the alert",
        ),
    ),
    "elastic_security_alert_process.json": context(
        "elastic_endpoint",
        alert_id="3f0e6c1a9b2d4e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f",
        event_time=utc("2026-12-01T03:00:04.208"),
        host="srv-app-014",
        host_id="7d9f1b3c-5e7a-4c9e-8b1d-3f5a7c9e1b3d",
        user="NT AUTHORITY\\SYSTEM",
        user_sid="S-1-5-18",
        integrity_level=Integrity.SYSTEM,
        elevated=True,
        is_service=True,
        image_path="C:\\ProgramData\\Sysinternals\\whois.exe",
        command_line='"C:\\ProgramData\\Sysinternals\\whois.exe" -accepteula -v corp-update.example.net',
        parent_image="C:\\Windows\\System32\\svchost.exe",
        sha256=WHOIS,
        sha1="f91eef5471c2a171a0e90742ed03bbe39b62e28d",
        md5="ff54b2974f60016fc14638f3043b29d5",
        company_name="Sysinternals - www.sysinternals.com",
        edr_signature=EdrSignatureClaim(signed=True, subject="Microsoft Corporation", status="trusted", trusted=True),
        privilege=Privilege.SYSTEM,
    ),
    "splunk_es_notable_process.json": context(
        "splunk_es_notable",
        alert_id="0B5E9A27-4C1D-4F36-9E2A-7D3C8B1F6A40@@notable@@c94d5b1e2a7f4e06b3d8a1c5f9e2b7d4",
        event_time=utc("2026-12-01T15:42:05"),
        host="WS-IT-0042",
        user="CORP\\adm.okafor",
        user_sid="S-1-5-21-1111111111-2222222222-3333333333-1188",
        integrity_level=Integrity.HIGH,
        image_path="C:\\Tools\\SysinternalsSuite\\sigcheck.exe",
        command_line="sigcheck.exe -accepteula -s -e -u C:\\ProgramData",
        parent_image="C:\\Windows\\System32\\cmd.exe",
        sha256=SIGCHECK,
        sha1=SIGCHECK_SHA1,
        md5="ab35c68e263bb4dca6c11e16cd7fb9d8",
        privilege=Privilege.HIGH,
    ),
    "sigtriage_plain_driver_load.json": context(
        "sigtriage",
        event_kind="driver_load",
        alert_id="SOC-2026-12-01-0042",
        event_time=utc("2026-12-01T08:00:00"),
        host="ws-lab-0007.corp.example.test",
        image_path="C:\\Windows\\System32\\kdbazis.dll",
        sha256="4518b17aecceaa1af5f5ae5256668d14b8de5b131e79301e0c6f3a09323a73bf",
        company_name="VirtualKD-Redux",
        privilege=Privilege.KERNEL,
    ),
}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_parses_to_exact_context(name: str) -> None:
    assert load_alert(FIXTURES / name) == EXPECTED[name]


def test_every_fixture_is_listed_and_every_format_has_one() -> None:
    assert sorted(p.name for p in FIXTURES.glob("*.json")) == sorted(EXPECTED)
    readme = (FIXTURES / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in EXPECTED)
    real = {"sysmon_ecs", "mde_device_process_events", "elastic_endpoint"}
    assert {c.source_format for c in EXPECTED.values()} | real == set(FORMATS)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_exactly_one_parser_detects_each_fixture(name: str) -> None:
    doc = fixture(name)
    assert [p.FORMAT for p in PARSERS if p.detect(doc)] == [EXPECTED[name].source_format]


def test_docs_describe_every_format_and_plain_field() -> None:
    docs = DOCS.read_text()
    assert all(f"## `{name}`" in docs for name in FORMATS)
    assert all(f"`{name}`" in docs for name in plain.FIELDS)


# The real alerts in ../shared/alerts (index.json there says what triage should conclude).
REAL = {
    "01_sysmon_eid1_winlogbeat_ecs.json": context(
        "sysmon_ecs",
        event_time=utc("2026-11-30T09:14:22.418"),
        host="ws-fin-0231.corp.example.test",
        user="CORP\\avery.lin",
        user_sid="S-1-5-21-1111111111-2222222222-3333333333-1604",
        integrity_level=Integrity.MEDIUM,
        image_path="C:\\Users\\avery.lin\\Downloads\\7z1900-x64.exe",
        command_line='"C:\\Users\\avery.lin\\Downloads\\7z1900-x64.exe" ',
        parent_image="C:\\Windows\\explorer.exe",
        sha256="43bc0e260fc811b04475ab15c962f26816214fc5ba3706f16f10ac3cb26bea41",
        company_name="Igor Pavlov",
        privilege=Privilege.MEDIUM,
    ),
    "06_mde_deviceprocessevents.json": context(
        "mde_device_process_events",
        event_time=utc("2026-11-30T17:22:09.551234"),
        host="ws-mkt-0408.corp.example.test",
        host_id="8c2e4f6a1b3d5c7e9f0a2b4c6d8e0f1a3b5c7d9e",
        user="corp\\jo.mercer",
        user_sid="S-1-5-21-1111111111-2222222222-3333333333-3391",
        integrity_level=Integrity.MEDIUM,
        elevated=False,
        image_path="C:\\Users\\jo.mercer\\Downloads\\SpotifyInstaller.exe",
        command_line='"SpotifyInstaller.exe" ',
        parent_image="c:\\program files (x86)\\microsoft\\edge\\application\\msedge.exe",
        sha256="819d0d6036e1c138f88788f1ddf9be710ea7c398ce823c170eedd555aaec9f0d",
        sha1="1c5c3e9e30e4e1c9d63d3c0454399ca88f9274ef",
        md5="18966a143a6cfa038ca592693168a144",
        company_name="Spotify Ltd",
        privilege=Privilege.MEDIUM,
    ),
    "07_elastic_endpoint_process.json": context(
        "elastic_endpoint",
        alert_id="NwWk1p4x8K9Qx2mz+++0Ab2L",
        event_time=utc("2026-11-30T02:00:03.117"),
        host="ws-hr-0077",
        host_id="0f5b7a9c-1d3e-4f60-8a2b-4c6d8e0f1a2b",
        user="NT AUTHORITY\\SYSTEM",
        user_sid="S-1-5-18",
        integrity_level=Integrity.SYSTEM,
        is_service=True,
        image_path="C:\\Program Files (x86)\\Apple Software Update\\SoftwareUpdate.exe",
        command_line='"C:\\Program Files (x86)\\Apple Software Update\\SoftwareUpdate.exe" -task',
        parent_image="C:\\Windows\\System32\\svchost.exe",
        sha256="050bbeb6b9aa404261b20989325c68433708367aaaed4e1dff3d24ae29a52d2a",
        sha1="8322f1c2c355d88432f1f03a1f231f63912186bd",
        md5="7b43567b4c32ad7aded537cd3b1342b9",
        company_name="Apple Inc.",
        edr_signature=EdrSignatureClaim(signed=True, subject="Apple Inc.", status="trusted", trusted=True),
        privilege=Privilege.SYSTEM,
    ),
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_alert(name: str) -> None:
    path = ALERTS / name
    if not path.is_file():
        pytest.skip(f"real alert {name} not found in {ALERTS} (../shared is absent on this machine)")
    assert load_alert(path) == REAL[name]


@pytest.mark.parametrize(
    ("event_kind", "user_sid", "integrity", "elevated", "is_service", "expected"),
    [
        ("driver_load", None, Integrity.UNKNOWN, None, False, Privilege.KERNEL),
        ("driver_load", "S-1-5-21-1-2-3-1001", Integrity.LOW, False, False, Privilege.KERNEL),
        ("process_start", "S-1-5-18", Integrity.UNKNOWN, None, False, Privilege.SYSTEM),
        ("process_start", "S-1-5-19", Integrity.UNKNOWN, None, False, Privilege.SYSTEM),
        ("image_load", "S-1-5-20", Integrity.MEDIUM, None, False, Privilege.SYSTEM),
        ("process_start", None, Integrity.SYSTEM, None, False, Privilege.SYSTEM),
        ("process_start", "S-1-5-21-1-2-3-1001", Integrity.MEDIUM, None, True, Privilege.SYSTEM),
        ("process_start", None, Integrity.HIGH, None, False, Privilege.HIGH),
        ("process_start", None, Integrity.UNKNOWN, True, False, Privilege.HIGH),
        ("process_start", None, Integrity.MEDIUM, True, False, Privilege.HIGH),
        ("process_start", None, Integrity.MEDIUM, False, False, Privilege.MEDIUM),
        ("process_start", None, Integrity.LOW, None, False, Privilege.LOW),
        ("process_start", None, Integrity.UNTRUSTED, None, False, Privilege.LOW),
        ("process_start", None, Integrity.UNKNOWN, False, False, Privilege.UNKNOWN),
        ("process_start", "S-1-5-21-1-2-3-1001", Integrity.UNKNOWN, None, False, Privilege.UNKNOWN),
    ],
)
def test_privilege_table(
    event_kind: str,
    user_sid: str | None,
    integrity: Integrity,
    elevated: bool | None,
    is_service: bool,
    expected: Privilege,
) -> None:
    got = derive_privilege(
        event_kind=event_kind, user_sid=user_sid, integrity=integrity, elevated=elevated, is_service=is_service
    )
    assert got is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("System", Integrity.SYSTEM),
        ("high", Integrity.HIGH),
        ("Medium Mandatory Level", Integrity.MEDIUM),
        ("MediumPlus", Integrity.MEDIUM),
        ("AppContainer", Integrity.LOW),
        ("Untrusted", Integrity.UNTRUSTED),
        ("S-1-16-16384", Integrity.SYSTEM),
        ("S-1-16-20480", Integrity.SYSTEM),
        ("S-1-16-12288", Integrity.HIGH),
        ("S-1-16-8448", Integrity.MEDIUM),
        ("S-1-16-8192", Integrity.MEDIUM),
        ("s-1-16-4096", Integrity.LOW),
        ("S-1-16-0", Integrity.UNTRUSTED),
        ("S-1-16-x", None),
        ("S-1-16-\u0661\u0662", None),
        ("S-1-16-99999999999999999999", None),
        ("Elevated", None),
        (12288, None),
        (None, None),
    ],
)
def test_integrity_names_and_label_sids(value: object, expected: Integrity | None) -> None:
    assert integrity_of(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("%%1936", (None, True)),
        ("%%1937", (True, True)),
        ("%%1938", (False, True)),
        ("TokenElevationTypeFull", (True, True)),
        ("TokenElevationTypeLimited", (False, True)),
        ("TokenElevationTypeDefault", (None, True)),
        ("limited", (False, True)),
        (True, (True, True)),
        ("%%1939", (None, False)),
        (2, (None, False)),
    ],
)
def test_token_elevation_spellings(value: object, expected: tuple[bool | None, bool]) -> None:
    assert elevation_of(value) == expected


def test_unknown_format_lists_formats_and_plain_fields() -> None:
    with pytest.raises(AlertFormatError) as caught:
        normalize({"Computer": "ws-1", "Message": "something happened"})
    message = str(caught.value)
    assert "'Computer', 'Message'" in message
    assert all(name in message for name in FORMATS)
    assert '{"sigtriage_alert": 1}' in message
    assert "sha256 or image_path" in message
    assert all(name in message for name in plain.FIELDS)


# Shapes and branches the fixtures do not reach.


def test_sysmon_without_ecs_reads_event_data() -> None:
    doc = {
        "winlog": {
            "provider_name": "Microsoft-Windows-Sysmon",
            "event_id": "1",
            "event_data": {
                "UtcTime": "2026-12-01 10:00:00.000",
                "Image": "C:\\Windows\\Temp\\svc.exe",
                "ParentImage": "C:\\Windows\\System32\\services.exe",
                "User": "CORP\\svc-backup",
                "IntegrityLevel": "High",
                "Hashes": "MD5=" + "A" * 32,
            },
        }
    }
    got = normalize(doc)
    assert (got.user, got.user_sid, got.integrity_level) == ("CORP\\svc-backup", None, Integrity.HIGH)
    assert (got.event_time, got.md5, got.sha256) == (utc("2026-12-01T10:00:00"), "a" * 32, None)
    assert got.is_service and got.privilege is Privilege.SYSTEM  # started by services.exe


def test_sysmon_event_without_a_binary_is_rejected() -> None:
    doc = {"winlog": {"channel": "Microsoft-Windows-Sysmon/Operational", "event_id": 3}}
    with pytest.raises(AlertFormatError, match=r"Sysmon event '3' .*supported: 1 \(process create\)"):
        normalize(doc)


RAW_4688_DATA = {
    "SubjectUserSid": "S-1-5-21-1-2-3-500",
    "SubjectUserName": "admin",
    "SubjectDomainName": "CORP",
    "NewProcessName": "C:\\Tools\\sigcheck.exe",
    "TokenElevationType": "%%1937",
    "MandatoryLabel": "S-1-16-12288",
    "TargetUserSid": "S-1-0-0",
    "TargetUserName": "-",
    "ParentProcessName": "C:\\Windows\\System32\\cmd.exe",
}


def test_4688_raw_event_data_object() -> None:
    doc = {
        "EventID": 4688,
        "TimeCreated": "2026-12-01T10:00:00.1234567Z",
        "Computer": "ws-1",
        "EventData": RAW_4688_DATA,
    }
    got = normalize(doc)
    assert got.source_format == "windows_security_4688"
    assert (got.host, got.user, got.user_sid, got.elevated) == ("ws-1", "CORP\\admin", "S-1-5-21-1-2-3-500", True)
    assert (got.integrity_level, got.privilege) == (Integrity.HIGH, Privilege.HIGH)
    assert got.event_time == datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=timezone.utc)


def test_4688_xmltodict_shape_and_target_account() -> None:
    data = {**RAW_4688_DATA, "TargetUserSid": "S-1-5-20", "TargetUserName": "NETWORK SERVICE"}
    data["TargetDomainName"] = "NT AUTHORITY"
    doc = {
        "Event": {
            "System": {"EventID": {"@Qualifiers": "", "#text": "4688"}, "Computer": "srv-1"},
            "EventData": {"Data": [{"@Name": k, "#text": v} for k, v in data.items()] + ["junk", {"@Name": 5}]},
        }
    }
    got = normalize(doc)
    assert (got.host, got.user, got.user_sid, got.privilege) == (
        "srv-1",
        "NT AUTHORITY\\NETWORK SERVICE",
        "S-1-5-20",
        Privilege.SYSTEM,
    )


def test_mde_alert_without_evidence_says_how_to_get_it() -> None:
    doc = fixture("mde_alert_api_evidence.json")
    del doc["evidence"]
    with pytest.raises(AlertFormatError, match=r"\$expand=evidence"):
        normalize(doc)


def test_mde_alert_notes_other_binaries_and_file_only_evidence() -> None:
    doc = fixture("mde_alert_api_evidence.json")
    process, file = doc["evidence"][1], doc["evidence"][2]
    doc["evidence"] = [file, {**file, "sha256": "b" * 64, "fileName": "payload.dll"}]
    got = normalize(doc)
    assert got.sha256 == SIGCHECK and got.command_line is None
    assert "no Process evidence: assumed the File evidence ran as a process" in got.notes
    assert "other file/process evidence not triaged here: payload.dll" in got.notes
    doc["evidence"] = [file, process]
    assert normalize(doc).command_line == process["processCommandLine"]


def test_mde_image_load_row_takes_the_loading_process_token() -> None:
    row = {
        "Timestamp": "2026-12-01T10:00:00Z",
        "DeviceId": "d" * 40,
        "DeviceName": "ws-2",
        "ActionType": "ImageLoaded",
        "FileName": "DXCore.dll",
        "FolderPath": "C:\\Windows\\System32",
        "SHA256": "36DE2C16A1F88D33F4C77B60B94CE5F276379F8F9195F038608A94889D3680F3",
        "InitiatingProcessFileName": "svchost.exe",
        "InitiatingProcessFolderPath": "c:\\windows\\system32\\svchost.exe",
        "InitiatingProcessAccountDomain": "nt authority",
        "InitiatingProcessAccountName": "local service",
        "InitiatingProcessAccountSid": "S-1-5-19",
        "InitiatingProcessIntegrityLevel": "System",
        "InitiatingProcessTokenElevation": "TokenElevationTypeDefault",
    }
    got = normalize(row)
    assert (got.event_kind, got.image_path) == ("image_load", "C:\\Windows\\System32\\DXCore.dll")
    assert (got.parent_image, got.user_sid, got.privilege) == (
        "c:\\windows\\system32\\svchost.exe",
        "S-1-5-19",
        Privilege.SYSTEM,
    )
    assert got.sha256 == "36de2c16a1f88d33f4c77b60b94ce5f276379f8f9195f038608a94889d3680f3"


def test_mde_row_with_other_action_is_rejected() -> None:
    with pytest.raises(AlertFormatError, match="'ConnectionSuccess' names no binary"):
        normalize({"DeviceId": "d" * 40, "ActionType": "ConnectionSuccess"})


def test_elastic_event_of_another_category_is_rejected() -> None:
    doc = {"agent": {"type": "endpoint"}, "event": {"category": ["library"]}, "dll": {"path": "C:\\x.dll"}}
    with pytest.raises(AlertFormatError, match=r"\['library'\] names no process"):
        normalize(doc)


def test_splunk_export_wrapper_and_multivalue_fields() -> None:
    notable = {
        **fixture("splunk_es_notable_process.json"),
        "user": ["NT AUTHORITY\\SYSTEM", "CORP\\adm.okafor"],
        "user_id": None,
        "process_integrity_level": None,
        "process_hash": [SIGCHECK.upper(), "md5=" + "c" * 32],
        "orig_time": None,
    }
    got = normalize([{"preview": False, "result": notable}])
    assert (got.user, got.user_sid, got.privilege) == ("NT AUTHORITY\\SYSTEM", "S-1-5-18", Privilege.SYSTEM)
    assert (got.sha256, got.md5, got.sha1) == (SIGCHECK, "c" * 32, None)
    assert got.event_time == datetime(2026, 12, 1, 15, 45, 12, tzinfo=timezone.utc)
    assert "multivalue field user: used the first of 2 values" in got.notes


PLAIN = {"sigtriage_alert": 1, "sha256": WHOIS}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sigtriage_alert": 2}, "sigtriage_alert must be 1, got 2"),
        ({"sigtriage_alert": True}, "sigtriage_alert must be 1, got True"),
        ({"sha_256": WHOIS}, "unknown field.s. sha_256"),
        ({"sha256": "xyz"}, r"malformed sha256 \(hex"),
        ({"sha256": None}, "names no binary"),
        ({"time": "yesterday"}, "malformed time"),
        ({"user_sid": "SYSTEM"}, "malformed user_sid"),
        ({"integrity_level": "High"}, "integrity_level must be one of system, high"),
        ({"event_kind": "network"}, "event_kind must be one of process_start"),
        ({"elevated": "yes"}, "elevated must be true, false or null"),
        ({"host": ["ws-1"]}, "host must be a string or null"),
    ],
)
def test_plain_format_is_strict(change: dict[str, object], message: str) -> None:
    with pytest.raises(AlertFormatError, match=message):
        normalize({**PLAIN, **change})


def test_plain_minimal_and_explicit_service() -> None:
    got = normalize({**PLAIN, "is_service": True, "time": "2026-12-01T09:00:00+01:00"})
    assert (got.sha256, got.privilege, got.event_time) == (WHOIS, Privilege.SYSTEM, utc("2026-12-01T08:00:00"))


# Hostile input: only AlertFormatError (or a context with notes), never another exception.


@pytest.mark.parametrize(
    "doc",
    [None, 0, 1.5, True, "alert", b"alert", [], [1, 2], [[{}]], {}, {"winlog": None}, {"sigtriage_alert": None}],
    ids=repr,
)
def test_non_alerts_raise_alert_format_error(doc: object) -> None:
    with pytest.raises(AlertFormatError):
        normalize(doc)


def test_deeply_nested_junk() -> None:
    deep: object = {}
    for _ in range(sys.getrecursionlimit() * 2):
        deep = {"winlog": deep, "process": [deep]}
    with pytest.raises(AlertFormatError):
        normalize(deep)


@pytest.mark.parametrize("name", sorted(EXPECTED) + ["06_mde_deviceprocessevents.json"])
@pytest.mark.parametrize("junk", [None, 7, -1.5, True, "", "-", [], {}, ["x"], {"#text": None}])
def test_every_field_replaced_by_junk(name: str, junk: object) -> None:
    """Each top-level and nested value in turn becomes junk: a context or AlertFormatError, nothing else."""
    source = FIXTURES / name if (FIXTURES / name).is_file() else ALERTS / name
    if not source.is_file():
        pytest.skip(f"{source} not found")
    doc = json.loads(source.read_text())
    for path in _paths(doc):
        _expect_context_or_format_error(_replaced(doc, path, junk))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
KEYS = ["winlog", "event_data", "EventID", "EventData", "Data", "machineId", "evidence", "DeviceId", "ActionType",
        "kibana.alert.uuid", "agent", "process", "Ext", "token", "event_id", "security_domain", "rule_name",
        "sigtriage_alert", "sha256", "image_path", "Hashes", "User", "result", "Event", "System"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(EXPECTED)), st.lists(st.tuples(st.sampled_from(KEYS), JSON), max_size=6))
def test_fuzzed_fixtures(name: str, additions: list[tuple[str, object]]) -> None:
    """Fixtures with vendor keys overwritten by random JSON at every depth they occur."""
    doc = fixture(name)
    for key, value in additions:
        for path in _paths(doc):
            if path and path[-1] == key:
                doc = _replaced(doc, path, value)
        if isinstance(doc, dict):
            doc[key] = value
    _expect_context_or_format_error(doc)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS), JSON, max_size=8))
def test_random_documents(doc: dict[str, object]) -> None:
    _expect_context_or_format_error(doc)


def _expect_context_or_format_error(doc: object) -> None:
    try:
        got = normalize(doc)
    except AlertFormatError:
        return
    assert isinstance(got, ExecutionContext)
    assert got.sha256 is not None or got.image_path is not None
    assert got.event_time is None or got.event_time.utcoffset() == timezone.utc.utcoffset(None)


def _paths(node: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    paths = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            paths += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            paths += _paths(value, (*prefix, index))
    return paths


def _replaced(node: Any, path: tuple[Any, ...], value: object) -> Any:
    if not path:
        return value
    copy = dict(node) if isinstance(node, dict) else list(node)
    copy[path[0]] = _replaced(node[path[0]], path[1:], value)
    return copy


# load_alert: the file edge.


def test_load_alert_reads_ndjson_line_utf16_and_a_list_of_one(tmp_path: Path) -> None:
    expected = EXPECTED["sigtriage_plain_driver_load.json"]
    doc = fixture("sigtriage_plain_driver_load.json")
    (tmp_path / "a.ndjson").write_text(json.dumps(doc) + "\n")
    (tmp_path / "b.json").write_bytes(json.dumps([doc]).encode("utf-16"))  # with BOM, as PowerShell 5 writes
    assert load_alert(tmp_path / "a.ndjson") == expected
    assert load_alert(tmp_path / "b.json") == expected


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        (b"", AlertFormatError, "not JSON: Expecting value at line 1 column 1"),
        (b'{"a": 1}\n{"a": 2}\n', AlertFormatError, "Extra data .*one alert per file"),
        (b"\xff\xfe\x00", AlertFormatError, "not JSON"),
        (b"[" * 200_000, AlertFormatError, "not JSON: RecursionError"),
        (b"[]", AlertFormatError, "expected one alert, got a list of 0"),
        (b'{"sigtriage_alert": 1}', AlertFormatError, r"\(sigtriage\): the alert names no binary"),
    ],
)
def test_load_alert_errors_name_the_file(tmp_path: Path, content: bytes, error: type, message: str) -> None:
    path = tmp_path / "alert.json"
    path.write_bytes(content)
    with pytest.raises(error, match=message) as caught:
        load_alert(path)
    assert str(path) in str(caught.value)


def test_load_alert_missing_directory_and_oversized(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read alert") as missing:
        load_alert(tmp_path / "absent.json")
    assert not isinstance(missing.value, AlertFormatError) and str(tmp_path) in str(missing.value)
    with pytest.raises(InputError, match="cannot read alert"):
        load_alert(tmp_path)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (16 * 1024 * 1024 + 1))
    with pytest.raises(InputError, match="not an alert"):
        load_alert(big)

