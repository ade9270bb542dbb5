"""The one transport seam for every outbound HTTP call of sigtriage (CRL, OCSP, and later SOAR/EDR connectors).

Nothing else in sigtriage imports `requests` or opens a socket: the URL policy (guard.py), limits and error mapping
(http.py) and retry policy (retry.py) hold for every caller only if every caller comes through here.
See docs/network-safety.md.
"""

from sigtriage.net.config import NetConfig
from sigtriage.net.errors import BlockedURLError, HTTPStatusError, ResponseTooLargeError, redact_url
from sigtriage.net.guard import CheckedURL, Resolver, UrlGuard, forbidden_reason, system_resolver
from sigtriage.net.http import HttpResponse, SafeSession
from sigtriage.net.retry import RetryPolicy, retry_after_seconds

__all__ = [
    "BlockedURLError",
    "CheckedURL",
    "HTTPStatusError",
    "HttpResponse",
    "NetConfig",
    "Resolver",
    "ResponseTooLargeError",
    "RetryPolicy",
    "SafeSession",
    "UrlGuard",
    "forbidden_reason",
    "redact_url",
    "retry_after_seconds",
    "system_resolver",
]
