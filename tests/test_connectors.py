"""Connectors: the exact requests each action sends, how answers and failures map to ActionResults, token
handling, webhook signatures, the host lock (SSRF), transport settings, and that secrets never leak.

No test touches the network: HTTP goes through `responses`, names resolve through a fake resolver, and any real
DNS lookup fails the test.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import responses

from sigtriage.act.connectors import (
    Connector,
    DefenderConfig,
    DefenderConnector,
    MemoryConnector,
    Secret,
    TheHiveConfig,
    TheHiveConnector,
    WebhookConfig,
    WebhookConnector,
    build_connectors,
)
from sigtriage.act.connectors._http import HttpSettings
from sigtriage.config.validate import schema
from sigtriage.errors import InputError, SigtriageError, UsageError
from sigtriage.model.decision import Action, ActionKind, ActionResult, Target
from sigtriage.net import BlockedURLError, NetConfig

PUBLIC = "93.184.216.34"
THEHIVE = "http://thehive.corp.test:9000"
ALERTS = f"{THEHIVE}/api/v1/alert"
QUERY = f"{THEHIVE}/api/v1/query?name=alert-comments"
MDE = "https://api.securitycenter.microsoft.com"
TENANT = "8d2f6c4e-1b3a-4f5e-9c7d-2a1b3c4d5e6f"
CLIENT = "5a6b7c8d-0000-4e1f-8a2b-3c4d5e6f7a8b"
TOKEN_URL = f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
HOOK = "https://hooks.soar.test/sigtriage"
MACHINE = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07"
SHA256 = "0f" * 32

API_KEY = "thehive-key-SECRET-7f3a9b2c4d5e"
CLIENT_SECRET = "entra-secret-SECRET-Q~8xYz.abc123"
TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.SECRET-token-payload.c2lnbmF0dXJl"
HMAC_KEY = "webhook-hmac-SECRET-5d41402abc4b2a76"
SECRETS = (API_KEY, CLIENT_SECRET, TOKEN, HMAC_KEY)
NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


def resolve(host: str, port: int) -> tuple[str, ...]:
    """TheHive is internal (10.x, allowed only because it is the configured host); everything else public."""
    table = {"thehive.corp.test": ("10.20.0.5",), "intranet.corp.test": ("10.20.0.6",)}
    if host in table:
        return table[host]
    if host.endswith((".test", ".microsoft.com", ".microsoftonline.com")):
        return (PUBLIC,)
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


@pytest.fixture(autouse=True)
def no_real_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"test tried a real DNS lookup: {args}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def thehive(**config: Any) -> TheHiveConnector:
    settings = {"url": THEHIVE, "api_key": Secret(API_KEY), "organisation": "SOC", **config}
    return TheHiveConnector(TheHiveConfig(**settings), resolver=resolve, clock=lambda: NOW)


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def defender(monotonic: Monotonic | None = None, **config: Any) -> DefenderConnector:
    settings = {"tenant_id": TENANT, "client_id": CLIENT, "client_secret": Secret(CLIENT_SECRET), **config}
    return DefenderConnector(
        DefenderConfig(**settings), resolver=resolve, clock=lambda: NOW, monotonic=monotonic or Monotonic()
    )


def webhook(**config: Any) -> WebhookConnector:
    settings = {"url": HOOK, "secret": Secret(HMAC_KEY), **config}
    return WebhookConnector(WebhookConfig(**settings), resolver=resolve, clock=lambda: NOW)


def action(kind: ActionKind, connector: str, ref: str | None = "~12345", **params: Any) -> Action:
    return Action(kind, Target(connector, ref), params, idempotency_key=f"triage-7:{kind.value}")


def sent_body(request: Any) -> bytes:
    body = request.body
    assert isinstance(body, bytes)
    return body


def sent_json(call: Any) -> Any:
    return json.loads(sent_body(call.request))


def token_answer(rsps: responses.RequestsMock, token: str = TOKEN, expires_in: int = 3599) -> None:
    body = {"token_type": "Bearer", "expires_in": expires_in, "ext_expires_in": expires_in, "access_token": token}
    rsps.add(responses.POST, TOKEN_URL, json=body)


MACHINE_ACTION = {
    "id": "5382f7ea-7557-4ab7-9782-d50480024a4e",
    "type": "Isolate",
    "scope": "Full",
    "requestor": CLIENT,
    "requestorComment": "sigtriage: untrusted signer",
    "status": "Pending",
    "machineId": MACHINE,
    "computerDnsName": "ws-0042.corp.example",
    "creationDateTimeUtc": "2025-03-01T12:00:01.3497153Z",
    "lastUpdateTimeUtc": "2025-03-01T12:00:01.3497153Z",
    "relatedFileInfo": None,
}


# --- TheHive: the requests ------------------------------------------------------------------------------------


def test_thehive_add_note_posts_a_comment_with_bearer_auth_and_organisation(rsps: responses.RequestsMock) -> None:
    earlier = {"_id": "~40960", "_type": "Comment", "createdBy": "analyst@corp.example", "createdAt": 1740820000000,
               "message": "Looking at this one", "isEdited": False, "extraData": {}}
    rsps.add(responses.POST, QUERY, json=[earlier])
    comment = {**earlier, "_id": "~40964256", "createdBy": "sigtriage@corp.example", "createdAt": 1740830401000,
               "message": "**Untrusted signer**\n\n`sigtriage:triage-7:add_note`"}
    rsps.add(responses.POST, f"{ALERTS}/~12345/comment", json=comment, status=201)

    result = thehive().execute(action(ActionKind.ADD_NOTE, "thehive", markdown="**Untrusted signer**"))

    assert result == ActionResult(True, False, "TheHive: comment added to alert ~12345", {"comment_id": "~40964256"})
    lookup, post = (c.request for c in rsps.calls)
    # the note carries its idempotency key, looked up first so that a repeat does not post it twice
    query = [{"_name": "getAlert", "idOrName": "~12345"}, {"_name": "comments"}]
    assert json.loads(sent_body(lookup)) == {"query": query}
    assert post.method == "POST"
    assert post.headers["Authorization"] == f"Bearer {API_KEY}"
    assert post.headers["X-Organisation"] == "SOC"
    assert post.headers["Content-Type"] == "application/json"
    assert post.headers["Accept"] == "application/json"
    assert json.loads(sent_body(post)) == {"message": "**Untrusted signer**\n\n`sigtriage:triage-7:add_note`"}
    assert lookup.headers["Authorization"] == f"Bearer {API_KEY}" and lookup.headers["X-Organisation"] == "SOC"


def test_thehive_note_already_posted_is_not_posted_again(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.POST, QUERY, json=[{"_id": "~40964256", "message": "x\n\n`sigtriage:triage-7:add_note`"}])
    result = thehive().execute(action(ActionKind.ADD_NOTE, "thehive", markdown="x"))
    assert result == ActionResult(True, False, "TheHive: comment already on alert ~12345", {"already": True})
    assert len(rsps.calls) == 1


def test_thehive_note_without_idempotency_key_is_posted_as_is(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.POST, f"{ALERTS}/~12345/comment", json={"_id": "~1"}, status=201)
    note = Action(ActionKind.ADD_NOTE, Target("thehive", "~12345"), {"markdown": "x"})
    assert thehive().execute(note).ok
    assert sent_json(rsps.calls[0]) == {"message": "x"}


@pytest.mark.parametrize(
    ("kind", "params", "body", "detail"),
    [
        (ActionKind.SET_SEVERITY, {"severity": 3}, {"severity": 3}, "alert ~12345 severity set to 3"),
        (ActionKind.TAG, {"tags": ["sigtriage", "signer:revoked", "sigtriage"]},
         {"addTags": ["sigtriage", "signer:revoked"]}, "tags added to alert ~12345: sigtriage, signer:revoked"),
        (ActionKind.CLOSE, {"summary": "Signed by Microsoft, seen on 412 hosts"},
         {"status": "FalsePositive", "summary": "Signed by Microsoft, seen on 412 hosts"},
         "alert ~12345 closed as FalsePositive"),
        (ActionKind.CLOSE, {"status": "Duplicated"}, {"status": "Duplicated"}, "alert ~12345 closed as Duplicated"),
    ],
)
def test_thehive_alert_updates_are_patches(
    rsps: responses.RequestsMock, kind: ActionKind, params: dict[str, Any], body: dict[str, Any], detail: str
) -> None:
    rsps.add(responses.PATCH, f"{ALERTS}/~12345", status=204)

    result = thehive().execute(action(kind, "thehive", **params))

    assert result == ActionResult(True, False, f"TheHive: {detail}", {})
    assert rsps.calls[0].request.method == "PATCH"
    assert sent_json(rsps.calls[0]) == body


def test_thehive_close_uses_the_configured_status_name(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.PATCH, f"{ALERTS}/~12345", status=204)
    assert thehive(close_status="Other").execute(action(ActionKind.CLOSE, "thehive")).ok
    assert sent_json(rsps.calls[0]) == {"status": "Other"}


def test_thehive_add_observable(rsps: responses.RequestsMock) -> None:
    created = [{
        "_id": "~81928208", "_type": "Observable", "_createdBy": "sigtriage@corp.example", "_createdAt": 1740830401000,
        "dataType": "hash", "data": SHA256, "startDate": 1740830401000, "tlp": 2, "tlpLabel": "AMBER", "pap": 2,
        "papLabel": "AMBER", "ioc": False, "sighted": False, "reports": {}, "message": "image that ran",
        "tags": ["sigtriage"], "extraData": {}, "ignoreSimilarity": False,
    }]
    rsps.add(responses.POST, f"{ALERTS}/~12345/observable", json=created, status=201)

    result = thehive().execute(action(
        ActionKind.ADD_OBSERVABLE, "thehive", data_type="hash", data=SHA256, message="image that ran",
        tags=["sigtriage"],
    ))

    assert result.ok and result.response == {"observable_ids": ["~81928208"]}
    assert sent_json(rsps.calls[0]) == {
        "dataType": "hash", "data": SHA256, "message": "image that ran", "tags": ["sigtriage"]
    }


def test_thehive_duplicate_observable_is_success(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.POST, f"{ALERTS}/~12345/observable", status=400,
             json={"type": "CreateError", "message": "Observable already exists"})

    result = thehive().execute(action(ActionKind.ADD_OBSERVABLE, "thehive", data=SHA256))

    assert result.ok and result.response == {"already": True}
    assert sent_json(rsps.calls[0]) == {"dataType": "hash", "data": SHA256}


def test_thehive_promote_returns_the_case(rsps: responses.RequestsMock) -> None:
    case = {"_id": "~122880", "_type": "Case", "number": 42, "title": "Unsigned loader", "status": "New",
            "stage": "New", "severity": 3, "startDate": 1740830401000, "tlp": 2, "pap": 2, "flag": False,
            "owner": "sigtriage@corp.example", "tags": [], "extraData": {}}
    rsps.add(responses.POST, f"{ALERTS}/~12345/case", json=case, status=201)

    result = thehive().execute(action(ActionKind.PROMOTE, "thehive"))

    assert result == ActionResult(True, False, "TheHive: alert ~12345 promoted to case #42",
                                  {"case_id": "~122880", "case_number": 42})
    assert sent_json(rsps.calls[0]) == {}


def test_thehive_promote_of_an_imported_alert_reports_the_existing_case(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.POST, f"{ALERTS}/~12345/case", status=400,
             json={"type": "BadRequestError", "message": "The alert ~12345 has already been imported"})
    rsps.add(responses.GET, f"{ALERTS}/~12345", json={"_id": "~12345", "status": "Imported", "caseId": "~122880"})

    result = thehive().execute(action(ActionKind.PROMOTE, "thehive"))

    assert result.ok and result.response == {"case_id": "~122880", "already": True}


def test_thehive_promote_refused_for_another_reason_stays_a_failure(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.POST, f"{ALERTS}/~12345/case", status=400,
             json={"type": "BadRequestError", "message": "Case template SOC-default not found"})
    rsps.add(responses.GET, f"{ALERTS}/~12345", json={"_id": "~12345", "status": "New"})

    result = thehive().execute(action(ActionKind.PROMOTE, "thehive"))

    assert not result.ok and not result.retryable
    assert result.detail == ("TheHive rejected the request on alert ~12345 (400): "
                             "BadRequestError: Case template SOC-default not found")


# --- TheHive: failures ----------------------------------------------------------------------------------------


def test_thehive_500_is_retryable_and_the_retry_succeeds(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.PATCH, f"{ALERTS}/~12345", status=500, body="<html>Internal Server Error</html>")
    rsps.add(responses.PATCH, f"{ALERTS}/~12345", status=204)
    connector = thehive()
    grade = action(ActionKind.SET_SEVERITY, "thehive", severity=4)

    first = connector.execute(grade)
    second = connector.execute(grade)

    assert first == ActionResult(False, True, "TheHive failed with HTTP 500", {})
    assert second.ok


@pytest.mark.parametrize(
    ("status", "body", "detail"),
    [
        (401, {"type": "AuthenticationError", "message": "Authentication failure"},
         "TheHive rejected the API key (401): AuthenticationError: Authentication failure"),
        (403, {"type": "AuthorizationError", "message": "Your are not authorized to update alert"},
         "TheHive refused the request on alert ~12345 (403): AuthorizationError: Your are not authorized to update "
         "alert; the API key's user needs alert management permissions (manageAlert/*) in this organisation"),
        (404, {"type": "NotFoundError", "message": "alert ~12345 not found"},
         "TheHive has no alert ~12345 (404): NotFoundError: alert ~12345 not found"),
        (400, {"type": "BadRequestError", "message": "Invalid severity"},
         "TheHive rejected the request on alert ~12345 (400): BadRequestError: Invalid severity"),
    ],
)
def test_thehive_client_errors_are_permanent_with_a_clear_detail(
    rsps: responses.RequestsMock, status: int, body: dict[str, str], detail: str
) -> None:
    rsps.add(responses.PATCH, f"{ALERTS}/~12345", status=status, json=body)
    result = thehive().execute(action(ActionKind.SET_SEVERITY, "thehive", severity=2))
    assert result == ActionResult(False, False, detail, {})


def test_thehive_timeout_is_retryable(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.PATCH, f"{ALERTS}/~12345", body=requests.exceptions.ReadTimeout("read timed out"))
    result = thehive().execute(action(ActionKind.TAG, "thehive", tags=["x"]))
    assert not result.ok and result.retryable
    assert result.detail == f"TheHive: timed out: {ALERTS}/~12345"


def test_thehive_html_answer_is_a_permanent_failure(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.POST, f"{ALERTS}/~12345/case", status=200, body="<html>Please sign in</html>")
    result = thehive().execute(action(ActionKind.PROMOTE, "thehive"))
    assert result == ActionResult(False, False, "TheHive: the answer is not JSON (is the URL the API's?)", {})


@pytest.mark.parametrize(
    ("act", "problem"),
    [
        (action(ActionKind.ADD_NOTE, "thehive", ref="../../api/v1/user", markdown="x"), "target.ref must be"),
        (action(ActionKind.ADD_NOTE, "thehive", ref=None, markdown="x"), "target.ref must be"),
        (action(ActionKind.ADD_NOTE, "thehive"), "params.markdown"),
        (action(ActionKind.SET_SEVERITY, "thehive", severity=7), "params.severity"),
        (action(ActionKind.SET_SEVERITY, "thehive", severity=True), "params.severity"),
        (action(ActionKind.SET_SEVERITY, "thehive", severity=3.0), "params.severity"),
        (action(ActionKind.TAG, "thehive", tags=[]), "params.tags"),
        (action(ActionKind.TAG, "thehive", tags="one"), "params.tags"),
        (action(ActionKind.ADD_OBSERVABLE, "thehive", data="not-a-hash"), "hex digest"),
        (action(ActionKind.ISOLATE_HOST, "thehive", machine_id=MACHINE), "does not support isolate_host"),
    ],
)
def test_thehive_bad_actions_fail_permanently_without_a_request(
    rsps: responses.RequestsMock, act: Action, problem: str
) -> None:
    result = thehive().execute(act)
    assert not result.ok and not result.retryable and problem in result.detail
    assert len(rsps.calls) == 0


# --- SSRF: a connector talks to its configured host only ------------------------------------------------------


def test_a_redirect_to_the_metadata_service_is_not_followed(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.PATCH, f"{ALERTS}/~12345", status=302,
             headers={"Location": "http://169.254.169.254/latest/meta-data/iam/security-credentials/"})

    result = thehive().execute(action(ActionKind.CLOSE, "thehive"))

    assert not result.ok and not result.retryable
    assert result.detail == ("TheHive answered with a redirect to http://169.254.169.254/latest/meta-data/iam/"
                             "security-credentials/; connectors follow no redirects (is the URL right?)")
    assert [c.request.url for c in rsps.calls] == [f"{ALERTS}/~12345"]


def test_a_redirect_to_another_public_host_is_not_followed_either(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.POST, HOOK, status=307, headers={"Location": "https://collector.attacker.test/"})
    result = webhook().execute(action(ActionKind.NOTIFY, "webhook", event="triage.done"))
    assert not result.ok
    assert len(rsps.calls) == 1


def test_the_allowlist_holds_the_configured_host_and_nothing_else() -> None:
    connector = thehive()
    config = connector.session.config
    assert (config.allow_hosts, config.allow_cidrs, config.max_redirects) == (("thehive.corp.test",), (), 0)
    connector.session.guard.check_url(f"{ALERTS}/~1")  # internal, but configured
    for url in ("http://intranet.corp.test/", "http://10.20.0.5/", "http://169.254.169.254/", "http://127.0.0.1:9000/"):
        with pytest.raises(BlockedURLError):
            connector.session.guard.check_url(url)


def test_a_base_url_given_as_an_address_allows_that_address_only() -> None:
    connector = thehive(url="https://[fd00::12]:9443/thehive")
    assert connector.session.config.allow_cidrs == ("fd00::12/128",)
    connector.session.guard.check_url("https://[fd00::12]:9443/thehive/api/v1/alert/~1")
    with pytest.raises(BlockedURLError):
        connector.session.guard.check_url("https://[fd00::13]/")


def test_defender_allows_its_api_and_login_hosts() -> None:
    connector = defender(api_url="https://eu.api.security.microsoft.com")
    assert connector.session.config.allow_hosts == ("eu.api.security.microsoft.com", "login.microsoftonline.com")


# --- Defender -------------------------------------------------------------------------------------------------


def test_defender_isolate_gets_a_token_then_isolates(rsps: responses.RequestsMock) -> None:
    token_answer(rsps)
    rsps.add(responses.POST, f"{MDE}/api/machines/{MACHINE}/isolate", json=MACHINE_ACTION, status=201)

    result = defender().execute(action(
        ActionKind.ISOLATE_HOST, "defender", ref=MACHINE, comment="sigtriage: untrusted signer", isolation_type="Full"
    ))

    assert result == ActionResult(
        True, False, f"Microsoft Defender: Full isolation requested for machine {MACHINE}",
        {"machine_action_id": MACHINE_ACTION["id"], "status": "Pending"},
    )
    login, isolate = (c.request for c in rsps.calls)
    assert login.method == "POST" and login.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(sent_body(login).decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": [CLIENT],
        "client_secret": [CLIENT_SECRET],
        "scope": ["https://api.securitycenter.microsoft.com/.default"],
    }
    assert "Authorization" not in login.headers
    assert isolate.headers["Authorization"] == f"Bearer {TOKEN}"
    assert isolate.headers["Content-Type"] == "application/json"
    assert json.loads(sent_body(isolate)) == {"Comment": "sigtriage: untrusted signer", "IsolationType": "Full"}


def test_defender_token_is_cached_until_shortly_before_expiry(rsps: responses.RequestsMock) -> None:
    clock = Monotonic()
    connector = defender(clock, isolation_type="Selective")
    token_answer(rsps, expires_in=3599)
    rsps.add(responses.POST, f"{MDE}/api/machines/{MACHINE}/isolate", json=MACHINE_ACTION, status=201)
    rsps.add(responses.POST, f"{MDE}/api/indicators", json={"id": "995"})

    assert connector.execute(action(ActionKind.ISOLATE_HOST, "defender", ref=MACHINE)).ok
    clock.now += 3000  # 59 s before the margin-adjusted expiry (3599 - 300)
    assert connector.execute(action(ActionKind.BLOCK_HASH, "defender", ref=None, sha256=SHA256)).ok
    assert [c.request.url for c in rsps.calls].count(TOKEN_URL) == 1
    assert sent_json(rsps.calls[1])["IsolationType"] == "Selective"

    clock.now += 300  # now inside the margin: a new token first
    token_answer(rsps, token=TOKEN + "2")
    rsps.add(responses.POST, f"{MDE}/api/indicators", json={"id": "995"})
    assert connector.execute(action(ActionKind.BLOCK_HASH, "defender", ref=None, sha256=SHA256)).ok
    assert [c.request.url for c in rsps.calls].count(TOKEN_URL) == 2
    assert rsps.calls[-1].request.headers["Authorization"] == f"Bearer {TOKEN}2"


def test_defender_401_refreshes_the_token_once_and_retries_once(rsps: responses.RequestsMock) -> None:
    token_answer(rsps)
    rsps.add(responses.POST, f"{MDE}/api/machines/{MACHINE}/isolate", status=401,
             json={"error": {"code": "Unauthorized", "message": "Unauthorized", "target": "43f4cb08"}})
    token_answer(rsps, token=TOKEN + "2")
    rsps.add(responses.POST, f"{MDE}/api/machines/{MACHINE}/isolate", json=MACHINE_ACTION, status=201)

    result = defender().execute(action(ActionKind.ISOLATE_HOST, "defender", ref=MACHINE))

    assert result.ok
    assert rsps.calls[3].request.headers["Authorization"] == f"Bearer {TOKEN}2"


def test_defender_401_after_the_refresh_is_a_permanent_failure(rsps: responses.RequestsMock) -> None:
    unauthorized = {"error": {"code": "Unauthorized", "message": "Unauthorized", "target": "43f4cb08"}}
    for _ in range(2):
        token_answer(rsps)
        rsps.add(responses.POST, f"{MDE}/api/machines/{MACHINE}/isolate", status=401, json=unauthorized)

    result = defender().execute(action(ActionKind.ISOLATE_HOST, "defender", ref=MACHINE))

    assert result == ActionResult(
        False, False, "Microsoft Defender rejected the access token (401): Unauthorized: Unauthorized", {}
    )
    assert len(rsps.calls) == 4


def test_defender_429_returns_the_retry_after_delay_then_succeeds(rsps: responses.RequestsMock) -> None:
    token_answer(rsps)
    rsps.add(responses.POST, f"{MDE}/api/indicators", status=429, headers={"Retry-After": "37"},
             json={"error": {"code": "TooManyRequests", "message": "Too many requests", "target": "1fa66c0f"}})
    rsps.add(responses.POST, f"{MDE}/api/indicators", status=200, json={"id": "995", "indicatorValue": SHA256})
    connector = defender()
    block = action(ActionKind.BLOCK_HASH, "defender", ref=None, sha256=SHA256)

    first = connector.execute(block)
    second = connector.execute(block)

    assert first == ActionResult(
        False, True,
        "Microsoft Defender is rate-limiting requests (429): TooManyRequests: Too many requests; retry after 37 s",
        {"retry_after": 37.0},
    )
    assert second.ok and second.response == {"indicator_id": "995"}


def test_defender_retry_after_as_an_http_date(rsps: responses.RequestsMock) -> None:
    token_answer(rsps)
    rsps.add(responses.POST, f"{MDE}/api/indicators", status=503,
             headers={"Retry-After": "Sat, 01 Mar 2025 12:02:00 GMT"})
    result = defender().execute(action(ActionKind.BLOCK_HASH, "defender", ref=None, sha256=SHA256))
    assert result.retryable and result.response == {"retry_after": 120.0}


@pytest.mark.parametrize(
    "error",
    [
        {"code": "ActiveRequestAlreadyExists", "message": "Action is already in progress", "target": "a1b2"},
        {"code": "BadRequest", "message": "Machine is already isolated", "target": "a1b2"},
    ],
)
def test_defender_already_isolated_is_success(rsps: responses.RequestsMock, error: dict[str, str]) -> None:
    token_answer(rsps)
    rsps.add(responses.POST, f"{MDE}/api/machines/{MACHINE}/isolate", status=400, json={"error": error})

    result = defender().execute(action(ActionKind.ISOLATE_HOST, "defender", ref=MACHINE))

    assert result == ActionResult(
        True, False, f"Microsoft Defender: machine {MACHINE} is already isolated or has an isolation pending",
        {"already": True},
    )


def test_defender_other_400_is_a_failure(rsps: responses.RequestsMock) -> None:
    token_answer(rsps)
    rsps.add(responses.POST, f"{MDE}/api/machines/{MACHINE}/isolate", status=400,
             json={"error": {"code": "OsPlatformNotSupported",
                             "message": "OS Platform macOS isn't supported for this action"}})
    result = defender().execute(action(ActionKind.ISOLATE_HOST, "defender", ref=MACHINE))
    assert not result.ok and not result.retryable
    assert result.detail.endswith("(400): OsPlatformNotSupported: OS Platform macOS isn't supported for this action")


def test_defender_403_names_the_missing_permission(rsps: responses.RequestsMock) -> None:
    token_answer(rsps)
    rsps.add(responses.POST, f"{MDE}/api/machines/{MACHINE}/isolate", status=403,
             json={"error": {"code": "Forbidden",
                             "message": "The application does not have any of the required application permissions"}})
    result = defender().execute(action(ActionKind.ISOLATE_HOST, "defender", ref=MACHINE))
    assert not result.ok and not result.retryable
    assert result.detail.startswith(f"Microsoft Defender refused the request on machine {MACHINE} (403): Forbidden:")
    assert "Machine.Isolate" in result.detail


def test_defender_404_unknown_machine(rsps: responses.RequestsMock) -> None:
    token_answer(rsps)
    rsps.add(responses.POST, f"{MDE}/api/machines/{MACHINE}/isolate", status=404,
             json={"error": {"code": "ResourceNotFound", "message": f"Machine {MACHINE} was not found"}})
    result = defender().execute(action(ActionKind.ISOLATE_HOST, "defender", ref=MACHINE))
    assert result.detail == (f"Microsoft Defender has no machine {MACHINE} (404): "
                             f"ResourceNotFound: Machine {MACHINE} was not found")
    assert not result.retryable


def test_defender_block_hash_submits_a_file_indicator(rsps: responses.RequestsMock) -> None:
    token_answer(rsps)
    indicator: dict[str, Any] = {
        "id": "995", "indicatorValue": SHA256, "indicatorType": "FileSha256", "action": "BlockAndRemediate",
        "application": None, "source": "sigtriage", "sourceType": "AadApp", "title": "Revoked signer",
        "creationTimeDateTimeUtc": "2025-03-01T12:00:01.0Z", "createdBy": CLIENT, "expirationTime": None,
        "lastUpdateTime": "2025-03-01T12:00:01.0Z", "lastUpdatedBy": None, "severity": "High",
        "description": "Signed with a revoked certificate", "recommendedActions": None, "rbacGroupNames": [],
        "generateAlert": True,
    }
    rsps.add(responses.POST, f"{MDE}/api/indicators", json=indicator, status=200)

    result = defender().execute(action(
        ActionKind.BLOCK_HASH, "defender", ref=None, sha256=SHA256.upper(), title="Revoked signer",
        description="Signed with a revoked certificate",
    ))

    detail = f"Microsoft Defender: indicator BlockAndRemediate set for SHA-256 {SHA256}"
    assert result == ActionResult(True, False, detail, {"indicator_id": "995"})
    assert sent_json(rsps.calls[1]) == {
        "indicatorValue": SHA256,
        "indicatorType": "FileSha256",
        "action": "BlockAndRemediate",
        "title": "Revoked signer",
        "description": "Signed with a revoked certificate",
        "severity": "High",
        "generateAlert": True,
    }


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"sha256": SHA256, "action": "Allowed"}, "params.action"),
        ({"sha256": SHA256, "action": "Audit"}, "params.action"),
        ({"sha256": "abc"}, "params.sha256"),
        ({"sha256": SHA256, "severity": "Critical"}, "params.severity"),
    ],
)
def test_defender_block_hash_refuses_what_would_not_block(
    rsps: responses.RequestsMock, params: dict[str, Any], problem: str
) -> None:
    result = defender().execute(action(ActionKind.BLOCK_HASH, "defender", ref=None, **params))
    assert not result.ok and not result.retryable and problem in result.detail
    assert len(rsps.calls) == 0


def test_defender_machine_id_is_checked_before_it_reaches_a_path(rsps: responses.RequestsMock) -> None:
    result = defender().execute(action(ActionKind.ISOLATE_HOST, "defender", ref="../indicators"))
    assert not result.ok and "40 hex digits" in result.detail
    assert len(rsps.calls) == 0


def test_defender_regional_api_base(rsps: responses.RequestsMock) -> None:
    token_answer(rsps)
    rsps.add(responses.POST, f"https://eu.api.security.microsoft.com/api/machines/{MACHINE}/isolate",
             json=MACHINE_ACTION, status=201)
    assert defender(api_url="https://eu.api.security.microsoft.com/").execute(
        action(ActionKind.ISOLATE_HOST, "defender", ref=MACHINE, machine_id=MACHINE)
    ).ok


def test_defender_login_failure_is_reported_as_entra_id_and_permanent(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.POST, TOKEN_URL, status=401, json={
        "error": "invalid_client",
        "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the "
                             "request is the client secret value.\r\nTrace ID: 0c6e\r\nCorrelation ID: 7d1f",
        "error_codes": [7000215],
    })
    result = defender().execute(action(ActionKind.ISOLATE_HOST, "defender", ref=MACHINE))
    assert result == ActionResult(False, False, (
        "Microsoft Entra ID rejected the client credentials (401): invalid_client: AADSTS7000215: Invalid client "
        "secret provided. Ensure the secret being sent in the request is the client secret value."), {})


def test_defender_token_answer_without_a_usable_token(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.POST, TOKEN_URL, json={"token_type": "Bearer", "access_token": "bad token\r\nX-Injected: 1"})
    result = defender().execute(action(ActionKind.ISOLATE_HOST, "defender", ref=MACHINE))
    assert result == ActionResult(False, False, "Microsoft Entra ID: the token answer has no usable access_token", {})


def test_defender_timeout_is_retryable(rsps: responses.RequestsMock) -> None:
    token_answer(rsps)
    rsps.add(responses.POST, f"{MDE}/api/machines/{MACHINE}/isolate", body=requests.exceptions.ConnectTimeout())
    result = defender().execute(action(ActionKind.ISOLATE_HOST, "defender", ref=MACHINE))
    assert not result.ok and result.retryable


# --- Webhook --------------------------------------------------------------------------------------------------


def receiver_verify(secret: str, headers: Mapping[str, str], body: bytes, now: datetime, tolerance: int = 300) -> bool:
    """What a receiver does (docs/connectors.md): fresh timestamp, then a constant-time HMAC comparison."""
    timestamp = headers.get("X-Sigtriage-Timestamp", "")
    if not timestamp.isdigit() or abs(now.timestamp() - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers.get("X-Sigtriage-Signature", ""), f"sha256={expected}")


def test_webhook_notify_is_signed_and_verifiable(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.POST, HOOK, status=202, json={"accepted": True})
    notify = action(ActionKind.NOTIFY, "webhook", ref="alert-77", event="triage.escalated", payload={"severity": 4})

    result = webhook().execute(notify)

    assert result == ActionResult(True, False, "webhook: notify delivered (HTTP 202)", {"status": 202})
    request = rsps.calls[0].request
    headers, body = {k: str(v) for k, v in request.headers.items()}, sent_body(request)
    assert receiver_verify(HMAC_KEY, headers, body, NOW + timedelta(seconds=2))
    assert headers["Idempotency-Key"] == "triage-7:notify"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Sigtriage-Timestamp"] == str(int(NOW.timestamp()))
    assert json.loads(body) == {
        "event": "triage.escalated",
        "action": "notify",
        "target": "alert-77",
        "params": {"event": "triage.escalated", "payload": {"severity": 4}},
        "idempotency_key": "triage-7:notify",
        "sent_at": "2025-03-01T12:00:00Z",
    }
    # a receiver refuses forgeries, tampering and replays
    assert not receiver_verify("another-secret-value", headers, body, NOW)
    assert not receiver_verify(HMAC_KEY, headers, body.replace(b"escalated", b"closed"), NOW)
    assert not receiver_verify(HMAC_KEY, {**headers, "X-Sigtriage-Timestamp": str(int(NOW.timestamp()) + 1)}, body, NOW)
    assert not receiver_verify(HMAC_KEY, headers, body, NOW + timedelta(hours=1))


def test_webhook_carries_other_kinds_only_when_configured(rsps: responses.RequestsMock) -> None:
    isolate = action(ActionKind.ISOLATE_HOST, "webhook", ref="ws-0042", comment="contain")
    assert not webhook().supports(ActionKind.ISOLATE_HOST)
    assert webhook().execute(isolate) == ActionResult(False, False, "webhook does not support isolate_host actions", {})

    rsps.add(responses.POST, HOOK, status=200)
    assert webhook(kinds=frozenset({ActionKind.NOTIFY, ActionKind.ISOLATE_HOST})).execute(isolate).ok
    assert sent_json(rsps.calls[0])["event"] == "sigtriage.isolate_host"


def test_webhook_503_is_retryable_and_401_is_not(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.POST, HOOK, status=503)
    rsps.add(responses.POST, HOOK, status=401, body="bad signature")
    connector = webhook()
    notify = action(ActionKind.NOTIFY, "webhook", event="x")
    assert connector.execute(notify) == ActionResult(False, True, "The webhook receiver failed with HTTP 503", {})
    assert connector.execute(notify) == ActionResult(
        False, False, "The webhook receiver rejected the request (signature or credentials) (401)", {}
    )


def test_webhook_params_that_are_not_json_fail_permanently(rsps: responses.RequestsMock) -> None:
    result = webhook().execute(action(ActionKind.NOTIFY, "webhook", event="x", payload={1, 2}))
    assert not result.ok and not result.retryable and "JSON" in result.detail


# --- Secrets never leak ---------------------------------------------------------------------------------------


def test_secrets_stay_out_of_details_responses_and_logs(
    rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # vendors that echo credentials back: the connector scrubs them
    rsps.add(responses.PATCH, f"{ALERTS}/~12345", status=401,
             json={"type": "AuthenticationError", "message": f"Invalid key {API_KEY}"})
    rsps.add(responses.POST, TOKEN_URL, status=400,
             json={"error": "invalid_request", "error_description": f"bad secret {CLIENT_SECRET}"})
    token_answer(rsps)
    rsps.add(responses.POST, f"{MDE}/api/indicators", status=400,
             json={"error": {"code": "InvalidInput", "message": f"token {TOKEN} rejected"}})
    rsps.add(responses.POST, HOOK, status=400, json={"error": f"expected secret {HMAC_KEY}"})
    rsps.add(responses.POST, HOOK, body=requests.exceptions.ConnectionError("refused"))

    connectors: list[Connector] = [thehive(), defender(), webhook()]
    results = [
        connectors[0].execute(action(ActionKind.TAG, "thehive", tags=["x"])),
        connectors[1].execute(action(ActionKind.ISOLATE_HOST, "defender", ref=MACHINE)),
        connectors[1].execute(action(ActionKind.BLOCK_HASH, "defender", ref=None, sha256=SHA256)),
        connectors[2].execute(action(ActionKind.NOTIFY, "webhook", event="x")),
        connectors[2].execute(action(ActionKind.NOTIFY, "webhook", event="x")),
    ]

    assert [r.ok for r in results] == [False] * 5
    assert "Invalid key ***" in results[0].detail and "bad secret ***" in results[1].detail
    shown = caplog.text + "".join(f"{r!s}{r!r}{json.dumps(r.response)}" for r in results)
    shown += "".join(repr(c.config) for c in connectors if hasattr(c, "config"))
    for secret in SECRETS:
        assert secret not in shown


def test_secret_objects_never_print_their_value() -> None:
    secret = Secret(API_KEY)
    assert API_KEY not in f"{secret} {secret!r} {[secret]} {TheHiveConfig(THEHIVE, secret)}"
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(secret)


# --- Registry -------------------------------------------------------------------------------------------------


CONFIG: dict[str, Any] = {
    "thehive": {"url": THEHIVE, "api_key_env": "THEHIVE_API_KEY", "organisation": "SOC", "close_status": "Other"},
    "defender": {"tenant_id": TENANT, "client_id": CLIENT, "client_secret_env": "MDE_CLIENT_SECRET"},
    "webhook": {"url": HOOK, "secret_env": "SIGTRIAGE_WEBHOOK_SECRET", "kinds": ["notify", "isolate_host"]},
}
ENV = {"THEHIVE_API_KEY": API_KEY, "MDE_CLIENT_SECRET": CLIENT_SECRET, "SIGTRIAGE_WEBHOOK_SECRET": HMAC_KEY}


def build(config: Any, env: Mapping[str, str] = ENV, **options: Any) -> dict[str, Connector]:
    return build_connectors(config, environ=env, resolver=resolve, **options)


def test_registry_builds_each_configured_connector() -> None:
    connectors = build(CONFIG)
    assert {name: c.name for name, c in connectors.items()} == {n: n for n in ("thehive", "defender", "webhook")}
    assert all(isinstance(c, Connector) for c in connectors.values())
    hive = connectors["thehive"]
    assert isinstance(hive, TheHiveConnector)
    config = hive.config
    assert (config.api_key.reveal(), config.organisation, config.close_status) == (API_KEY, "SOC", "Other")
    assert connectors["webhook"].supports(ActionKind.ISOLATE_HOST)
    assert build(None) == {}


def test_registry_missing_secret_names_the_variable_never_a_value() -> None:
    env = {k: v for k, v in ENV.items() if k != "MDE_CLIENT_SECRET"}
    with pytest.raises(UsageError) as caught:
        build(CONFIG, env)
    assert "MDE_CLIENT_SECRET" in str(caught.value) and "triage.connectors.defender" in str(caught.value)
    for secret in SECRETS:
        assert secret not in str(caught.value)


@pytest.mark.parametrize(
    ("section", "error", "text"),
    [
        ({"url": THEHIVE}, UsageError, "set exactly one of api_key and api_key_env"),
        ({"url": THEHIVE, "api_key": API_KEY, "api_key_env": "X"}, UsageError, "exactly one"),
        ({"url": THEHIVE, "api_key": "short"}, UsageError, "at least 8 characters"),
        ({"url": THEHIVE, "api_key": 123456789012345}, UsageError, "api_key must be a string"),
        ({"url": THEHIVE, "api_key": "has space in key"}, UsageError, "contains spaces"),
        ({"url": f"http://admin:{API_KEY}@thehive.corp.test/", "api_key": API_KEY}, UsageError,
         "credentials in the URL"),
        ({"url": "ftp://thehive.corp.test/", "api_key": API_KEY}, InputError, "does not match '^https?://'"),
        ({"url": THEHIVE + "/?token=x", "api_key": API_KEY}, UsageError, "no query string"),
        ({"url": "https://thehive.bücher.test/", "api_key": API_KEY}, UsageError, "punycode"),
        ({"url": THEHIVE, "api_key": API_KEY, "colour": "red"}, InputError, "'colour' was unexpected"),
        ({"url": THEHIVE, "api_key": API_KEY, "proxies": f"http://u:{API_KEY}@proxy"}, InputError,
         "is not of type 'object'"),
    ],
)
def test_registry_configuration_errors(section: dict[str, Any], error: type[SigtriageError], text: str) -> None:
    with pytest.raises(error) as caught:
        build({"thehive": section})
    assert text in str(caught.value)
    assert API_KEY not in str(caught.value) and "123456789012345" not in str(caught.value)


def test_registry_unknown_connector_is_refused() -> None:
    with pytest.raises(InputError, match="'splunk' was unexpected"):
        build({"splunk": {}})


def test_schema_action_kinds_match_the_model() -> None:
    kinds = schema("connectors")["properties"]["webhook"]["properties"]["kinds"]["items"]["enum"]
    assert set(kinds) == {k.value for k in ActionKind}


def test_transport_settings_reach_the_safe_session(tmp_path: Path) -> None:
    bundle = tmp_path / "corp-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")  # existence is what SafeSession checks
    proxies = {"https": "http://proxy.corp.test:3128"}
    config = {
        "thehive": {**CONFIG["thehive"], "proxies": proxies, "ca_bundle": "corp-ca.pem", "connect_timeout": 2,
                    "read_timeout": 7, "total_timeout": 20},
        "defender": CONFIG["defender"],
    }
    net = NetConfig(read_timeout=9, proxies={"https": "http://egress.corp.test:8080"}, allow_hosts=("crl.corp.test",))

    connectors = build(config, base_dir=tmp_path, net=net)

    hive, mde = connectors["thehive"], connectors["defender"]
    assert isinstance(hive, TheHiveConnector) and isinstance(mde, DefenderConnector)
    session = hive.session.config
    assert dict(session.proxies) == proxies and session.ca_bundle == str(bundle)
    assert (session.connect_timeout, session.read_timeout, session.total_timeout) == (2, 7, 20)
    # unset settings come from `net`, its allowlist never does
    inherited = mde.session.config
    assert dict(inherited.proxies) == {"https": "http://egress.corp.test:8080"} and inherited.read_timeout == 9
    assert "crl.corp.test" not in inherited.allow_hosts + session.allow_hosts


def test_missing_ca_bundle_is_a_usage_error_of_the_connector(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="ca_bundle") as caught:
        build({"thehive": {**CONFIG["thehive"], "ca_bundle": "absent.pem"}}, base_dir=tmp_path)
    assert caught.value.context == "triage.connectors.thehive"


def test_a_section_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(InputError, match="is not of type 'object'"):
        build(["thehive"])


def test_settings_object_hides_proxy_credentials() -> None:
    assert "pw" not in repr(HttpSettings(proxies={"https": "http://u:pw@proxy.corp.test:3128"}))


# --- MemoryConnector ------------------------------------------------------------------------------------------


def test_memory_connector_records_and_fails_on_demand() -> None:
    memory = MemoryConnector()
    note = action(ActionKind.ADD_NOTE, "memory", markdown="x")
    memory.fail_next(2, retry_after=30)

    results = [memory.execute(note) for _ in range(3)]

    assert [(r.ok, r.retryable) for r in results] == [(False, True), (False, True), (True, False)]
    assert results[0] == ActionResult(False, True, "memory: simulated outage", {"retry_after": 30})
    assert results[2] == ActionResult(True, False, "memory: recorded add_note", {"sequence": 1})
    assert memory.executed == [note] and len(memory.attempts) == 3
    assert isinstance(memory, Connector)


def test_memory_connector_limited_to_some_kinds() -> None:
    memory = MemoryConnector(kinds=frozenset({ActionKind.NOTIFY}))
    result = memory.execute(action(ActionKind.ISOLATE_HOST, "memory", machine_id=MACHINE))
    assert result == ActionResult(False, False, "memory does not support isolate_host actions", {})
    assert memory.attempts == [] and memory.executed == []
