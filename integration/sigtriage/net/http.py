"""SafeSession: every outbound HTTP request of sigtriage, with the guard, limits and typed errors always on.

Guarantees, for every request and every redirect hop:
- the URL passes UrlGuard before anything is sent (BlockedURLError otherwise) and connections go only to the
  addresses checked (pinning.py);
- connect and read timeouts are set, and a total deadline covers redirects and the body;
- the body is streamed and reading stops past NetConfig.max_bytes;
- redirects are followed here, at most max_redirects, each target re-checked; caller headers (credentials)
  are not forwarded to another origin;
- proxies and CA bundle come from NetConfig only: `trust_env` is off, so neither HTTP(S)_PROXY variables nor
  ~/.netrc credentials slip in unconfigured;
- logs carry method, redacted URL and status, never headers, bodies or query strings.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import urljoin, urlsplit

import requests

from sigtriage.errors import ExternalError, UsageError
from sigtriage.net.config import NetConfig
from sigtriage.net.errors import BlockedURLError, HTTPStatusError, ResponseTooLargeError, redact_url
from sigtriage.net.guard import Resolver, UrlGuard, system_resolver
from sigtriage.net.pinning import PinnedAdapter

log = logging.getLogger("sigtriage.net")

_CHUNK = 64 * 1024
_CROSS_ORIGIN_HEADERS = frozenset({"accept", "content-type"})
"""The only caller headers kept when a redirect changes origin: anything else may be a credential."""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    url: str
    """The final URL, after redirects."""
    headers: Mapping[str, str]
    """Lower-case names."""
    content: bytes


class SafeSession:
    def __init__(self, config: NetConfig | None = None, *, resolver: Resolver = system_resolver) -> None:
        self.config = config or NetConfig()
        if self.config.ca_bundle and not Path(self.config.ca_bundle).is_file():
            raise UsageError(f"net.ca_bundle: {self.config.ca_bundle} is not a file")
        self.guard = UrlGuard(self.config, resolver)
        session = requests.Session()
        session.trust_env = False
        session.headers["User-Agent"] = self.config.user_agent
        session.proxies = dict(self.config.proxies)
        session.verify = self.config.ca_bundle or True
        adapter = PinnedAdapter(self.guard)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self._session = session

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> HttpResponse:
        return self.request("GET", url, headers=headers)

    def post(self, url: str, data: bytes, *, headers: Mapping[str, str] | None = None) -> HttpResponse:
        return self.request("POST", url, data=data, headers=headers)

    def request(
        self, method: str, url: str, *, data: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> HttpResponse:
        """Send, following redirects; raise an ExternalError subclass for anything but a usable answer."""
        deadline = time.monotonic() + self.config.total_timeout
        caller_headers = dict(headers or {})
        previous: str | None = None
        for _hop in range(self.config.max_redirects + 1):
            # check first: the guard normalises the URL exactly as prepare_request will, and refuses what it cannot
            self._check(method, url, previous)
            prepared = self._session.prepare_request(
                requests.Request(method, url, data=data, headers=caller_headers)
            )
            response = self._send(prepared, deadline)
            with response:
                target = self._session.get_redirect_target(response)
                if target is None:
                    return self._finish(method, str(prepared.url), response, deadline)
            previous, url = str(prepared.url), urljoin(str(prepared.url), target)
            log.debug("%s %s -> %s redirect", method, redact_url(previous), response.status_code)
            if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                method, data = "GET", None  # what browsers and requests do; 307/308 keep method and body
            if _origin(url) != _origin(previous):
                caller_headers = {k: v for k, v in caller_headers.items() if k.lower() in _CROSS_ORIGIN_HEADERS}
        raise ExternalError(f"more than {self.config.max_redirects} redirects (the last to {redact_url(url)})")

    def _check(self, method: str, url: str, redirected_from: str | None) -> None:
        try:
            self.guard.check_url(url)
        except BlockedURLError as exc:
            log.warning("blocked %s %s: %s", method, exc.url, exc.message)
            if redirected_from is None:
                raise
            raise BlockedURLError(f"redirect from {redact_url(redirected_from)}: {exc.message}", url=url) from None

    def _send(self, prepared: requests.PreparedRequest, deadline: float) -> requests.Response:
        shown = redact_url(str(prepared.url))
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ExternalError(f"timed out: {shown} (total {self.config.total_timeout:g} s)", retryable=True)
        timeout = (self.config.connect_timeout, min(self.config.read_timeout, remaining))
        # requests' exception texts embed the full URL (query strings included): messages are rebuilt here
        try:
            return self._session.send(prepared, stream=True, allow_redirects=False, timeout=timeout)
        except requests.exceptions.SSLError:
            raise ExternalError(f"TLS failure talking to {shown}") from None
        except requests.exceptions.Timeout:
            raise ExternalError(f"timed out: {shown}", retryable=True) from None
        except requests.exceptions.ConnectionError as exc:
            raise ExternalError(f"connection failed: {shown}{_os_reason(exc)}", retryable=True) from None
        except requests.exceptions.RequestException as exc:
            raise ExternalError(f"request to {shown} failed: {type(exc).__name__}") from None

    def _finish(self, method: str, url: str, response: requests.Response, deadline: float) -> HttpResponse:
        log.debug("%s %s -> %s", method, redact_url(url), response.status_code)
        if response.status_code >= 400:
            raise HTTPStatusError(response.status_code, url=url, retry_after=response.headers.get("Retry-After"))
        content = self._read_capped(url, response, deadline)
        headers = {k.lower(): v for k, v in response.headers.items()}
        return HttpResponse(response.status_code, url, headers, content)

    def _read_capped(self, url: str, response: requests.Response, deadline: float) -> bytes:
        limit = self.config.max_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise ResponseTooLargeError(limit, url=url)
        body = bytearray()
        try:
            for chunk in response.iter_content(_CHUNK):
                body += chunk
                if len(body) > limit:
                    raise ResponseTooLargeError(limit, url=url)
                if time.monotonic() > deadline:
                    raise ExternalError(f"timed out reading {redact_url(url)}", retryable=True)
        except requests.exceptions.RequestException:
            raise ExternalError(f"connection broke reading {redact_url(url)}", retryable=True) from None
        return bytes(body)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


def _os_reason(exc: BaseException) -> str:
    """The operating system's words for a failed connection ('Connection refused'), which carry no URL."""
    cause = exc.__cause__ or exc.__context__
    while cause is not None and not (isinstance(cause, OSError) and type(cause).__module__ in ("builtins", "socket")):
        cause = cause.__cause__ or cause.__context__
    return f" ({cause.strerror or cause})" if cause is not None else ""
