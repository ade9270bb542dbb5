"""A generic webhook for SOARs without a dedicated connector (Shuffle, Tines, n8n...): one signed JSON POST per
action.

Body: {"event", "action", "target", "params", "idempotency_key", "sent_at"}, compact JSON, UTF-8.
Headers: X-Sigtriage-Timestamp (Unix seconds), X-Sigtriage-Signature: sha256=<hex HMAC-SHA256 of
`timestamp + "." + body`> with the shared secret, and Idempotency-Key. Signing the timestamp with the body lets a
receiver refuse replays (an old timestamp) as well as forgeries; docs/connectors.md shows the check.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sigtriage.act.connectors._http import ConnectorSession, HttpSettings, Service, locked_net_config, utc_now
from sigtriage.act.connectors.base import InvalidAction, record, unsupported
from sigtriage.act.connectors.secret import HEADER_SAFE, Secret
from sigtriage.errors import ExternalError
from sigtriage.model.decision import Action, ActionKind, ActionResult
from sigtriage.net import Resolver, system_resolver

_SERVICE = Service("The webhook receiver", "the request (signature or credentials)")


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    secret: Secret
    kinds: frozenset[ActionKind] = frozenset({ActionKind.NOTIFY})
    """The action kinds the receiver implements; NOTIFY unless configured."""
    http: HttpSettings = HttpSettings()


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """The X-Sigtriage-Signature value for `body` sent at `timestamp`."""
    return "sha256=" + hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


class WebhookConnector:
    name: str = "webhook"

    def __init__(
        self, config: WebhookConfig, *, resolver: Resolver = system_resolver, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.config = config
        self.session = ConnectorSession(locked_net_config([config.url], config.http), resolver=resolver)
        self._clock = clock

    def supports(self, kind: ActionKind) -> bool:
        return kind in self.config.kinds

    def execute(self, action: Action) -> ActionResult:
        if not self.supports(action.kind):
            return record(self.name, action, unsupported(self.name, action.kind))
        now = self._clock()
        try:
            body, headers = self._request(action, now)
            answer = self.session.post(self.config.url, body, headers=headers)
        except InvalidAction as exc:
            result = ActionResult(ok=False, retryable=False, detail=f"webhook {action.kind.value}: {exc}")
        except ExternalError as exc:
            secrets = [self.config.secret.reveal()]
            result = _SERVICE.failure(exc, subject=f"{action.kind.value} action", secrets=secrets, now=now)
        else:
            detail = f"webhook: {action.kind.value} delivered (HTTP {answer.status})"
            result = ActionResult(ok=True, retryable=False, detail=detail, response={"status": answer.status})
        return record(self.name, action, result)

    def _request(self, action: Action, now: datetime) -> tuple[bytes, dict[str, str]]:
        event = action.params.get("event") if action.kind is ActionKind.NOTIFY else None
        if event is not None and not isinstance(event, str):
            raise InvalidAction("params.event must be a string")
        payload = {
            "event": event or f"sigtriage.{action.kind.value}",
            "action": action.kind.value,
            "target": action.target.ref,
            "params": action.params,
            "idempotency_key": action.idempotency_key,
            "sent_at": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        }
        try:
            body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        except (TypeError, ValueError):
            raise InvalidAction("params must be JSON data (strings, numbers, lists, objects)") from None
        timestamp = str(int(now.timestamp()))
        headers = {
            "Content-Type": "application/json",
            "X-Sigtriage-Timestamp": timestamp,
            "X-Sigtriage-Signature": signature(self.config.secret.reveal().encode(), timestamp, body),
        }
        if action.idempotency_key:
            if not HEADER_SAFE.fullmatch(action.idempotency_key):
                raise InvalidAction("idempotency_key must be printable ASCII without spaces")
            headers["Idempotency-Key"] = action.idempotency_key
        return body, headers
