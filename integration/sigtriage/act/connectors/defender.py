"""Microsoft Defender for Endpoint: isolate a machine, block a file hash (a FileSha256 indicator).

Authentication is the OAuth2 client-credentials grant of an Entra ID app registration with the application
permissions Machine.Isolate and Ti.ReadWrite.All. The access token is cached until shortly before it expires;
a 401 from the API (token revoked, permissions changed) gets one fresh token and one retry.

Both actions are safe to repeat: a machine already isolated or with an isolation pending is reported as success
(MDE answers 400 ActiveRequestAlreadyExists, "Action is already in progress"), and POST /api/indicators is
"submit or update", so an existing indicator for the hash is updated, not duplicated.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sigtriage.act.connectors._http import (
    ConnectorSession,
    HttpSettings,
    RemoteHTTPError,
    Service,
    call_json,
    locked_net_config,
    parse_json,
    utc_now,
)
from sigtriage.act.connectors.base import InvalidAction, record, unsupported
from sigtriage.act.connectors.secret import HEADER_SAFE, Secret
from sigtriage.errors import ExternalError
from sigtriage.model.decision import Action, ActionKind, ActionResult
from sigtriage.net import HTTPStatusError, Resolver, system_resolver

DEFAULT_API = "https://api.securitycenter.microsoft.com"
DEFAULT_LOGIN = "https://login.microsoftonline.com"
DEFAULT_SCOPE = "https://api.securitycenter.microsoft.com/.default"
"""Also the audience for the api.security.microsoft.com and regional API hosts."""

_API = Service(
    "Microsoft Defender",
    "the access token",
    "the app registration needs the application permission Machine.Isolate (isolation) or Ti.ReadWrite.All "
    "(indicators), with admin consent",
)
_LOGIN = Service("Microsoft Entra ID", "the client credentials")
_MACHINE_ID = re.compile(r"[0-9a-fA-F]{40}")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_ISOLATION_TYPES = ("Full", "Selective")
_BLOCKING_ACTIONS = ("BlockAndRemediate", "Block", "AlertAndBlock")
"""Only indicator actions that block: BLOCK_HASH must never become 'Allowed' (or a mere 'Audit')."""
_SEVERITIES = ("Informational", "Low", "Medium", "High")
_REFRESH_MARGIN = 300.0
"""Seconds before expiry at which a cached token is replaced: a token must not expire in flight."""


@dataclass(frozen=True)
class DefenderConfig:
    tenant_id: str
    client_id: str
    client_secret: Secret
    api_url: str = DEFAULT_API
    """Or https://api.security.microsoft.com, or a regional host such as https://eu.api.security.microsoft.com."""
    login_url: str = DEFAULT_LOGIN
    scope: str = DEFAULT_SCOPE
    isolation_type: str = "Full"
    """When the action does not say: 'Full' or 'Selective'."""
    indicator_action: str = "BlockAndRemediate"
    """When the action does not say: 'BlockAndRemediate', 'Block' or 'AlertAndBlock'."""
    http: HttpSettings = HttpSettings()


class _LoginFailed(Exception):
    """Getting a token failed: reported as Entra ID's failure, not Defender's."""

    def __init__(self, cause: ExternalError) -> None:
        super().__init__(cause.message)
        self.cause = cause


class DefenderConnector:
    name: str = "defender"

    def __init__(
        self,
        config: DefenderConfig,
        *,
        resolver: Resolver = system_resolver,
        clock: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.session = ConnectorSession(
            locked_net_config([config.api_url, config.login_url], config.http), resolver=resolver
        )
        self._api = config.api_url.rstrip("/")
        self._token_url = f"{config.login_url.rstrip('/')}/{config.tenant_id}/oauth2/v2.0/token"
        self._clock = clock
        self._monotonic = monotonic
        self._token: str | None = None
        self._token_expires = 0.0
        self._handlers: Mapping[ActionKind, Callable[[Action], ActionResult]] = {
            ActionKind.ISOLATE_HOST: self._isolate,
            ActionKind.BLOCK_HASH: self._block_hash,
        }

    def supports(self, kind: ActionKind) -> bool:
        return kind in self._handlers

    def execute(self, action: Action) -> ActionResult:
        handler = self._handlers.get(action.kind)
        if handler is None:
            return record(self.name, action, unsupported(self.name, action.kind))
        try:
            result = handler(action)
        except InvalidAction as exc:
            result = ActionResult(ok=False, retryable=False, detail=f"Microsoft Defender {action.kind.value}: {exc}")
        except _LoginFailed as exc:
            tenant = f"tenant {self.config.tenant_id}"
            result = _LOGIN.failure(exc.cause, subject=tenant, secrets=self._secrets(), now=self._clock())
        except ExternalError as exc:
            result = _API.failure(exc, subject=_subject(action), secrets=self._secrets(), now=self._clock())
        return record(self.name, action, result)

    def _isolate(self, action: Action) -> ActionResult:
        machine = _machine_id(action)
        isolation = action.params.get("isolation_type") or self.config.isolation_type
        if isolation not in _ISOLATION_TYPES:
            raise InvalidAction(f"params.isolation_type must be one of {', '.join(_ISOLATION_TYPES)}")
        comment = action.params.get("comment") or "Isolated by sigtriage"
        if not isinstance(comment, str):
            raise InvalidAction("params.comment must be a string")
        body = {"Comment": comment, "IsolationType": isolation}
        try:
            machine_action = self._call("POST", f"/api/machines/{machine}/isolate", body)
        except RemoteHTTPError as exc:
            if exc.status == 400 and _already_in_progress(exc.payload()):
                return _ok(f"machine {machine} is already isolated or has an isolation pending", {"already": True})
            raise
        return _ok(
            f"{isolation} isolation requested for machine {machine}",
            {"machine_action_id": _field(machine_action, "id"), "status": _field(machine_action, "status")},
        )

    def _block_hash(self, action: Action) -> ActionResult:
        sha256 = action.params.get("sha256")
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
            raise InvalidAction("params.sha256 must be a SHA-256 hex digest")
        sha256 = sha256.lower()
        block = action.params.get("action") or self.config.indicator_action
        if block not in _BLOCKING_ACTIONS:
            raise InvalidAction(f"params.action must be one of {', '.join(_BLOCKING_ACTIONS)}")
        severity = action.params.get("severity") or "High"
        if severity not in _SEVERITIES:
            raise InvalidAction(f"params.severity must be one of {', '.join(_SEVERITIES)}")
        body = {
            "indicatorValue": sha256,
            "indicatorType": "FileSha256",
            "action": block,
            "title": _string(action.params, "title", f"sigtriage: block {sha256[:16]}"),
            "description": _string(action.params, "description", f"File {sha256} blocked by sigtriage triage."),
            "severity": severity,
            "generateAlert": True,
        }
        indicator = self._call("POST", "/api/indicators", body)
        return _ok(f"indicator {block} set for SHA-256 {sha256}", {"indicator_id": _field(indicator, "id")})

    def _call(self, method: str, path: str, body: Any) -> Any:
        url = self._api + path
        try:
            return call_json(self.session, method, url, body=body, headers=self._auth())
        except HTTPStatusError as exc:
            if exc.status != 401:
                raise
        # the token was revoked or the app's permissions changed since it was issued: one fresh token, one retry
        self._token = None
        return call_json(self.session, method, url, body=body, headers=self._auth())

    def _auth(self) -> dict[str, str]:
        if self._token is None or self._monotonic() >= self._token_expires:
            self._token, lifetime = self._fetch_token()
            self._token_expires = self._monotonic() + lifetime - min(_REFRESH_MARGIN, lifetime / 2)
        return {"Authorization": f"Bearer {self._token}"}

    def _fetch_token(self) -> tuple[str, float]:
        form = urlencode({
            "grant_type": "client_credentials",
            "client_id": self.config.client_id,
            "client_secret": self.config.client_secret.reveal(),
            "scope": self.config.scope,
        }).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        try:
            answer = parse_json(self.session.post(self._token_url, form, headers=headers).content)
        except ExternalError as exc:
            raise _LoginFailed(exc) from None
        token = _field(answer, "access_token")
        if not isinstance(token, str) or not HEADER_SAFE.fullmatch(token):
            # checked here because requests would refuse it in a header with an error quoting the value
            raise _LoginFailed(ExternalError("the token answer has no usable access_token"))
        try:
            lifetime = float(_field(answer, "expires_in"))
        except (TypeError, ValueError):
            lifetime = 0.0  # unknown lifetime: use the token for this call only
        return token, max(lifetime, 0.0)

    def _secrets(self) -> list[str]:
        return [self.config.client_secret.reveal(), self._token or ""]


def _ok(detail: str, response: dict[str, Any]) -> ActionResult:
    return ActionResult(ok=True, retryable=False, detail=f"Microsoft Defender: {detail}", response=response)


def _field(document: Any, key: str) -> Any:
    return document.get(key) if isinstance(document, dict) else None


def _string(params: Mapping[str, Any], key: str, default: str) -> str:
    value = params.get(key) or default
    if not isinstance(value, str):
        raise InvalidAction(f"params.{key} must be a string")
    return value


def _machine_id(action: Action) -> str:
    machine = action.params.get("machine_id") or action.target.ref
    if not isinstance(machine, str) or not _MACHINE_ID.fullmatch(machine):
        raise InvalidAction("params.machine_id (or target.ref) must be an MDE machine id (40 hex digits)")
    return machine.lower()


def _subject(action: Action) -> str:
    if action.kind is ActionKind.ISOLATE_HOST:
        return f"machine {action.params.get('machine_id') or action.target.ref}"
    return f"indicator {action.params.get('sha256')}"


def _already_in_progress(payload: Any) -> bool:
    """MDE's answer to isolating a machine already isolated or with an isolation pending."""
    error = _field(payload, "error")
    code, message = _field(error, "code"), _field(error, "message")
    if code == "ActiveRequestAlreadyExists":
        return True
    text = message.lower() if isinstance(message, str) else ""
    return "already in progress" in text or "already isolated" in text
