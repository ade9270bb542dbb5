"""Typed failures of outbound HTTP, all ExternalError so the CLI maps them in its one place.

Messages name URLs only through `redact_url`: they reach analysts, logs and SOAR tickets, and a connector's
URL may carry an API key in its query string or credentials in its userinfo.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sigtriage.errors import ExternalError


def redact_url(url: str) -> str:
    """scheme://host[:port]/path: without userinfo, query and fragment, where secrets travel."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "<unparseable URL>"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    return f"{parts.scheme}://{netloc}{parts.path}" if parts.scheme else "<unparseable URL>"


class BlockedURLError(ExternalError):
    """The URL policy refused a URL. Raised before any byte is sent; never retryable (the URL will not change)."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message, retryable=False)
        self.url = redact_url(url)


class HTTPStatusError(ExternalError):
    """The server answered with an error status: 429 and 5xx may pass, other 4xx will not."""

    def __init__(self, status: int, *, url: str, retry_after: str | None = None) -> None:
        shown = redact_url(url)
        super().__init__(f"HTTP {status} from {shown}", retryable=status == 429 or status >= 500)
        self.status = status
        self.url = shown
        self.retry_after = retry_after
        """The raw Retry-After header, if any (seconds or an HTTP-date); RetryPolicy interprets it."""


class ResponseTooLargeError(ExternalError):
    """The body exceeded NetConfig.max_bytes; reading stopped there."""

    def __init__(self, limit: int, *, url: str) -> None:
        shown = redact_url(url)
        super().__init__(f"response from {shown} exceeds {limit} bytes", retryable=False)
        self.url = shown
