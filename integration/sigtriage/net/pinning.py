"""Connect only to addresses the guard has just checked (defeats DNS rebinding for direct connections).

The check before a request resolves the host once; urllib3 would resolve it again when it opens the socket,
and a hostile DNS server can answer a public address the first time and 169.254.169.254 the second. So the
connection classes below resolve through the guard themselves and hand urllib3 a checked IP literal: the
address checked is the address connected to. TLS still verifies the certificate and sends SNI for the host
name, because urllib3 takes those from `host`, not from `_dns_host`.

This overrides urllib3's `_new_conn`, a private method stable across urllib3 1.26 and 2.x; tests in
test_net_guard.py fail if an upgrade changes it. Through a proxy the proxy resolves the target, so proxy
connections are left alone (the pre-request check still applies; the proxy's own egress policy must do the rest).
"""

from __future__ import annotations

import socket
from contextlib import suppress
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError

from sigtriage.net.guard import UrlGuard


class _PinnedConnection(HTTPConnection):
    guard: UrlGuard
    """Set on the per-guard subclasses built by `_pool_classes`."""

    def _new_conn(self) -> socket.socket:
        name = self._dns_host
        addresses = self.guard.check_host(name, self.port)
        try:
            # like socket.create_connection: try each address in turn, but only checked ones
            for address in addresses[:-1]:
                self._dns_host = address
                with suppress(ConnectTimeoutError):  # NewConnectionError is a subclass: refused, unreachable
                    return super()._new_conn()
            self._dns_host = addresses[-1]
            return super()._new_conn()
        finally:
            self._dns_host = name


class _PinnedHTTPSConnection(_PinnedConnection, HTTPSConnection):
    pass


def _pool_classes(guard: UrlGuard) -> dict[str, type[HTTPConnectionPool]]:
    http_conn = type("PinnedHTTPConnection", (_PinnedConnection,), {"guard": guard})
    https_conn = type("PinnedHTTPSConnection", (_PinnedHTTPSConnection,), {"guard": guard})
    return {
        "http": type("PinnedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
        "https": type("PinnedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
    }


class PinnedAdapter(HTTPAdapter):
    """requests' adapter with no retries of its own (RetryPolicy decides) and pinned direct connections."""

    def __init__(self, guard: UrlGuard) -> None:
        self._pinned_pools = _pool_classes(guard)
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pinned_pools
