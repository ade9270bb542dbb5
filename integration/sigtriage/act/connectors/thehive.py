"""TheHive 5 (API v1): comment on, re-grade, tag, add observables to, close and promote one alert.

Every action targets a TheHive alert id in `action.target.ref` ("~12345"). Endpoints and body shapes are those
of TheHive 5's v1 API as TheHive4py 2.x (the vendor's client) uses them; docs/connectors.md lists them and where
they are uncertain.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sigtriage.act.connectors._http import (
    ConnectorSession,
    HttpSettings,
    RemoteHTTPError,
    Service,
    call_json,
    locked_net_config,
    remote_message,
    utc_now,
)
from sigtriage.act.connectors.base import InvalidAction, record, unsupported
from sigtriage.act.connectors.secret import Secret
from sigtriage.errors import ExternalError
from sigtriage.model.decision import Action, ActionKind, ActionResult
from sigtriage.net import Resolver, system_resolver

_SERVICE = Service(
    "TheHive",
    "the API key",
    "the API key's user needs alert management permissions (manageAlert/*) in this organisation",
)
ALERT_ID = re.compile(r"~?[A-Za-z0-9_-]{1,64}")
"""TheHive 5 ids look like '~41234'; anything else (a '/', a '..') must not reach a URL path."""
_HASH = re.compile(r"[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class TheHiveConfig:
    url: str
    """Base URL of TheHive, e.g. https://thehive.corp.example:9000 (a path prefix is kept)."""
    api_key: Secret
    organisation: str | None = None
    """Sent as X-Organisation; needed when the API key's user belongs to several organisations."""
    close_status: str = "FalsePositive"
    """Alert status names are tenant-defined in TheHive 5: the one CLOSE uses unless the action names one."""
    http: HttpSettings = HttpSettings()


class TheHiveConnector:
    name: str = "thehive"

    def __init__(
        self,
        config: TheHiveConfig,
        *,
        resolver: Resolver = system_resolver,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.config = config
        self.session = ConnectorSession(locked_net_config([config.url], config.http), resolver=resolver)
        self._alerts = config.url.rstrip("/") + "/api/v1/alert/"
        self._clock = clock
        self._query = config.url.rstrip("/") + "/api/v1/query?name=alert-comments"
        self._handlers: Mapping[ActionKind, Callable[[str, Action], ActionResult]] = {
            ActionKind.ADD_NOTE: self._add_note,
            ActionKind.SET_SEVERITY: self._set_severity,
            ActionKind.TAG: self._tag,
            ActionKind.ADD_OBSERVABLE: self._add_observable,
            ActionKind.CLOSE: self._close,
            ActionKind.PROMOTE: self._promote,
        }

    def supports(self, kind: ActionKind) -> bool:
        return kind in self._handlers

    def execute(self, action: Action) -> ActionResult:
        handler = self._handlers.get(action.kind)
        if handler is None:
            return record(self.name, action, unsupported(self.name, action.kind))
        alert = action.target.ref or ""
        try:
            if not ALERT_ID.fullmatch(alert):
                raise InvalidAction(f"target.ref must be a TheHive alert id like '~12345', not {alert[:80]!r}")
            result = handler(alert, action)
        except InvalidAction as exc:
            result = ActionResult(ok=False, retryable=False, detail=f"TheHive {action.kind.value}: {exc}")
        except ExternalError as exc:
            secrets = [self.config.api_key.reveal()]
            result = _SERVICE.failure(exc, subject=f"alert {alert}", secrets=secrets, now=self._clock())
        return record(self.name, action, result)

    # --- one method per action kind: validate params, call, say what happened --------------------------------

    def _add_note(self, alert: str, action: Action) -> ActionResult:
        message = _text(action.params, "markdown")
        if action.idempotency_key:
            # TheHive has no idempotency key, and a comment is the one action a repeat would duplicate (a retry
            # after a timeout the server did not notice): the note carries its key, and is not posted twice
            marker = f"sigtriage:{action.idempotency_key}"
            if self._has_comment_with(alert, marker):
                return _ok(f"comment already on alert {alert}", {"already": True})
            message += f"\n\n`{marker}`"
        comment = self._call("POST", f"{alert}/comment", {"message": message})
        return _ok(f"comment added to alert {alert}", {"comment_id": _field(comment, "_id")})

    def _has_comment_with(self, alert: str, marker: str) -> bool:
        query = {"query": [{"_name": "getAlert", "idOrName": alert}, {"_name": "comments"}]}
        comments = call_json(self.session, "POST", self._query, body=query, headers=self._headers())
        return isinstance(comments, list) and any(marker in str(_field(c, "message")) for c in comments)

    def _set_severity(self, alert: str, action: Action) -> ActionResult:
        severity = action.params.get("severity")
        if not isinstance(severity, int) or isinstance(severity, bool) or not 1 <= severity <= 4:
            raise InvalidAction("params.severity must be 1 (low) .. 4 (critical)")
        self._call("PATCH", alert, {"severity": severity})
        return _ok(f"alert {alert} severity set to {severity}")

    def _tag(self, alert: str, action: Action) -> ActionResult:
        tags = _tags(action.params, required=True)
        # addTags merges server-side: a read-modify-write of `tags` could drop tags an analyst adds meanwhile
        self._call("PATCH", alert, {"addTags": tags})
        return _ok(f"tags added to alert {alert}: {', '.join(tags)}")

    def _add_observable(self, alert: str, action: Action) -> ActionResult:
        params = action.params
        data_type = params.get("data_type", "hash")
        data = _text(params, "data")
        if not isinstance(data_type, str) or not data_type:
            raise InvalidAction("params.data_type must be a TheHive observable type such as 'hash'")
        if data_type == "hash" and not _HASH.fullmatch(data):
            raise InvalidAction("params.data must be an MD5, SHA-1 or SHA-256 hex digest for a hash observable")
        body: dict[str, Any] = {"dataType": data_type, "data": data}
        if params.get("message"):
            body["message"] = _text(params, "message")
        if params.get("tags"):
            body["tags"] = _tags(params, required=False)
        try:
            created = self._call("POST", f"{alert}/observable", body)
        except RemoteHTTPError as exc:
            # TheHive refuses a duplicate with 400 "Observable already exists": the state we wanted is there
            if exc.status == 400 and "already exists" in (remote_message(exc.payload()) or "").lower():
                return _ok(f"observable {data_type} already on alert {alert}", {"already": True})
            raise
        ids = [o.get("_id") for o in created if isinstance(o, dict)] if isinstance(created, list) else []
        return _ok(f"observable {data_type} added to alert {alert}", {"observable_ids": ids})

    def _close(self, alert: str, action: Action) -> ActionResult:
        params = action.params
        status = params.get("status") or self.config.close_status
        if not isinstance(status, str):
            raise InvalidAction("params.status must be a status name defined in TheHive")
        body = {"status": status}
        if params.get("summary"):
            body["summary"] = _text(params, "summary")
        self._call("PATCH", alert, body)
        return _ok(f"alert {alert} closed as {status}")

    def _promote(self, alert: str, action: Action) -> ActionResult:
        try:
            case = self._call("POST", f"{alert}/case", {})
        except RemoteHTTPError as exc:
            # An alert already imported is refused (400, wording varies by version): the alert's caseId,
            # not the error text, decides whether the case we wanted exists
            existing = self._case_of(alert) if exc.status == 400 else None
            if existing is None:
                raise
            return _ok(f"alert {alert} was already promoted to case {existing}", {"case_id": existing, "already": True})
        number = _field(case, "number")
        return _ok(f"alert {alert} promoted to case #{number}", {"case_id": _field(case, "_id"), "case_number": number})

    def _case_of(self, alert: str) -> str | None:
        try:
            caseid = _field(self._call("GET", alert, None), "caseId")
        except ExternalError:
            return None
        return caseid if isinstance(caseid, str) and caseid else None

    def _call(self, method: str, path: str, body: Any) -> Any:
        return call_json(self.session, method, self._alerts + path, body=body, headers=self._headers())

    def _headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.config.api_key.reveal()}"}
        if self.config.organisation:
            headers["X-Organisation"] = self.config.organisation
        return headers


def _ok(detail: str, response: dict[str, Any] | None = None) -> ActionResult:
    return ActionResult(ok=True, retryable=False, detail=f"TheHive: {detail}", response=response or {})


def _field(document: Any, key: str) -> Any:
    return document.get(key) if isinstance(document, dict) else None


def _text(params: Mapping[str, Any], key: str) -> str:
    value = params.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidAction(f"params.{key} must be a non-empty string")
    return value


def _tags(params: Mapping[str, Any], *, required: bool) -> list[str]:
    tags = params.get("tags")
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags) or (required and not tags):
        raise InvalidAction("params.tags must be a list of non-empty strings")
    return list(dict.fromkeys(tags))
