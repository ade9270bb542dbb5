"""Name resolution for tests: no test may use real DNS (conftest forbids it), so resolvers are injected."""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping

PUBLIC = "93.184.216.34"
"""The address every *.test name 'resolves' to. Nothing ever connects to it: `responses` answers first."""


def fake_resolver(table: Mapping[str, tuple[str, ...]] | None = None) -> Callable[[str, int], tuple[str, ...]]:
    """Names ending in .test resolve to PUBLIC unless `table` says otherwise; anything else does not resolve."""

    def resolve(host: str, port: int) -> tuple[str, ...]:
        if table and host in table:
            return table[host]
        if host.endswith(".test"):
            return (PUBLIC,)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    return resolve
