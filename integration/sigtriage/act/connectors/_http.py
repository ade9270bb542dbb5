"""HTTP plumbing shared by the connectors: a SafeSession locked to the connector's own hosts, JSON calls, and the
translation of transport failures into ActionResults an analyst can act on.

Connector base URLs come from configuration (trusted) and are often internal (TheHive on 10.x), so each
connector's NetConfig allowlists exactly its own configured hosts: the SSRF guard still refuses every other
internal address. Redirects are not followed at all (`max_redirects=0`): a SOAR API has no reason to redirect,
and a redirect is the one way a response could steer a request, with its credentials, somewhere else.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from sigtriage.act.connectors.secret import scrub
from sigtriage.errors import ExternalError
from sigtriage.model.decision import ActionResult
from sigtriage.net import BlockedURLError, HTTPStatusError, NetConfig, SafeSession, redact_url, retry_after_seconds
from sigtriage.net.http import HttpResponse

net_log = logging.getLogger("sigtriage.net")

MAX_BODY = 1024 * 1024
"""Connector answers are small JSON documents; anything bigger is a wrong URL, not an answer."""
_MESSAGE_CHARS = 300
_REDIRECT = re.compile(r"more than 0 redirects \(the last to (?P<url>.*)\)")
"""SafeSession's error for a redirect when none may be followed (max_redirects=0); reworded for analysts."""


@dataclass(frozen=True)
class HttpSettings:
    """Per-connector transport settings (`net` settings provide the defaults; see registry.py)."""

    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    total_timeout: float = 60.0
    proxies: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Kept out of repr: proxy URLs often carry credentials."""
    ca_bundle: str | None = None


def locked_net_config(urls: Iterable[str], settings: HttpSettings) -> NetConfig:
    """A NetConfig that lets through the hosts of `urls` (and no other internal host), following no redirect."""
    hosts: list[str] = []
    cidrs: list[str] = []
    for url in urls:
        host = urlsplit(url).hostname or ""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            hosts.append(host)
        else:
            cidrs.append(f"{address}/{address.max_prefixlen}")
    return NetConfig(
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        total_timeout=settings.total_timeout,
        max_bytes=MAX_BODY,
        max_redirects=0,
        allow_hosts=tuple(dict.fromkeys(hosts)),
        allow_cidrs=tuple(dict.fromkeys(cidrs)),
        proxies=settings.proxies,
        ca_bundle=settings.ca_bundle,
    )


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class RemoteHTTPError(HTTPStatusError):
    """An HTTPStatusError that keeps the (capped) error body, where vendors say why they refused."""

    def __init__(self, status: int, *, url: str, retry_after: str | None, body: bytes) -> None:
        super().__init__(status, url=url, retry_after=retry_after)
        self.body = body

    def payload(self) -> Any:
        return parse_json(self.body, strict=False)


class ConnectorSession(SafeSession):
    """SafeSession that raises RemoteHTTPError, with the error body, for error statuses.

    Workaround: `sigtriage.net.HTTPStatusError` drops the body, and connectors need it (MDE's
    `ActiveRequestAlreadyExists`, TheHive's "already exists"). This overrides SafeSession's private `_finish`
    and reuses its `_read_capped`, so the body is read under the same size cap and deadline; the connector tests
    fail if SafeSession changes under it. The clean fix is a `body` on HTTPStatusError in net/.
    """

    def _finish(self, method: str, url: str, response: Any, deadline: float) -> HttpResponse:
        # `response` is a requests.Response; typed loosely so that only net/ imports requests
        if response.status_code < 400:
            return super()._finish(method, url, response, deadline)
        net_log.debug("%s %s -> %s", method, redact_url(url), response.status_code)
        try:
            body = self._read_capped(url, response, deadline)
        except ExternalError:
            body = b""  # the status alone still says what happened
        raise RemoteHTTPError(
            response.status_code, url=url, retry_after=response.headers.get("Retry-After"), body=body
        )


def parse_json(content: bytes, *, strict: bool = True) -> Any:
    """The JSON document in `content`; None for an empty body. Not JSON: ExternalError if strict, else None."""
    if not content.strip():
        return None
    try:
        return json.loads(content)
    except ValueError:
        if strict:  # e.g. a proxy's or SSO portal's HTML page: the URL points at the wrong thing
            raise ExternalError("the answer is not JSON (is the URL the API's?)") from None
        return None


def call_json(
    session: SafeSession, method: str, url: str, *, body: Any = None, headers: Mapping[str, str]
) -> Any:
    """Send `body` as JSON and return the parsed JSON answer (None when empty)."""
    sent = {"Accept": "application/json", **headers}
    data = None
    if body is not None:
        data = json.dumps(body, separators=(",", ":")).encode()
        sent["Content-Type"] = "application/json"
    return parse_json(session.request(method, url, data=data, headers=sent).content)


def remote_message(payload: Any) -> str | None:
    """The reason inside a vendor's error body: TheHive {type, message}; MDE {error: {code, message}};
    Microsoft Entra ID {error, error_description}. None for anything else (an HTML page is not shown)."""
    if not isinstance(payload, dict):
        return None
    error = payload.get("error")
    if isinstance(error, dict):
        parts = [error.get("code"), error.get("message")]
    elif isinstance(error, str):
        description = payload.get("error_description")
        # Entra ID appends trace and correlation ids on further lines: the first line is the reason
        parts = [error, description.splitlines()[0] if isinstance(description, str) and description else None]
    else:
        parts = [payload.get("type"), payload.get("message")]
    text = ": ".join(str(p) for p in parts if isinstance(p, str) and p)
    # one line, printable: it goes into logs and tickets
    text = "".join(c if c.isprintable() else " " for c in text).strip()
    return text[:_MESSAGE_CHARS] or None


@dataclass(frozen=True)
class Service:
    """How a remote service is named in details."""

    name: str
    """'TheHive', 'Microsoft Defender', ..."""
    credential: str
    """What a 401 rejected: 'the API key', 'the client credentials'."""
    permission_hint: str = ""
    """What a 403 usually means for this service, said after the status."""

    def failure(self, error: ExternalError, *, subject: str, secrets: Iterable[str], now: datetime) -> ActionResult:
        """The ActionResult for a failed call about `subject` ('alert ~123'); secrets scrubbed from the detail."""
        response: dict[str, Any] = {}
        if isinstance(error, HTTPStatusError):
            detail = self._status_detail(error, subject)
            message = remote_message(error.payload()) if isinstance(error, RemoteHTTPError) else None
            if message:
                detail += f": {message}"
            if error.status == 403 and self.permission_hint:
                detail += f"; {self.permission_hint}"
            delay = retry_after_seconds(error.retry_after, now) if error.retry_after else None
            if error.retryable and delay is not None:
                response["retry_after"] = delay
                detail += f"; retry after {delay:g} s"
        elif isinstance(error, BlockedURLError):
            detail = f"{self.name}: request refused by the URL policy: {error.message}"
        elif redirect := _REDIRECT.fullmatch(error.message):
            detail = (f"{self.name} answered with a redirect to {redirect['url']}; "
                      "connectors follow no redirects (is the URL right?)")
        else:
            detail = f"{self.name}: {error.message}"  # timeouts, connection failures, oversized or non-JSON answers
        return ActionResult(ok=False, retryable=error.retryable, detail=scrub(detail, secrets), response=response)

    def _status_detail(self, error: HTTPStatusError, subject: str) -> str:
        status = error.status
        if status == 401:
            return f"{self.name} rejected {self.credential} (401)"
        if status == 403:
            return f"{self.name} refused the request on {subject} (403)"
        if status == 404:
            return f"{self.name} has no {subject} (404)"
        if status == 429:
            return f"{self.name} is rate-limiting requests (429)"
        if status >= 500:
            return f"{self.name} failed with HTTP {status}"
        return f"{self.name} rejected the request on {subject} ({status})"
