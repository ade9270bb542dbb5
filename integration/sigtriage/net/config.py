"""Settings of the transport: limits, allowlist, proxy and CA bundle. Validated once, here."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from sigtriage import __version__
from sigtriage.errors import UsageError


@dataclass(frozen=True)
class NetConfig:
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    """Longest wait for the next bytes from the server."""
    total_timeout: float = 60.0
    """Wall-clock limit for one request, redirects and body included: a server dripping a byte at a time
    stays under read_timeout forever, this limit stops it."""
    max_bytes: int = 20 * 1024 * 1024
    """Largest body accepted after content decoding (so gzip bombs stop too). Big CA CRLs run to a few MiB."""
    max_redirects: int = 3
    allow_hosts: tuple[str, ...] = ()
    """Host names allowed whatever they resolve to (an enterprise CRL server on 10.x). Names only, ASCII/punycode;
    addresses belong in allow_cidrs."""
    allow_cidrs: tuple[str, ...] = ()
    """Networks allowed although private/internal, e.g. '10.20.0.0/16'."""
    allowed_ports: tuple[int, ...] = ()
    """Empty: any port."""
    proxies: Mapping[str, str] = field(default_factory=dict, repr=False, hash=False)
    """requests-style {'http': url, 'https': url}. Kept out of repr: proxy URLs often carry credentials."""
    ca_bundle: str | None = None
    """PEM file of CAs to trust for https instead of certifi's (a TLS-inspecting proxy's CA)."""
    user_agent: str = f"sigtriage/{__version__}"

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "read_timeout", "total_timeout"):
            if not getattr(self, name) > 0:
                raise UsageError(f"net.{name} must be a positive number of seconds")
        if self.max_bytes <= 0 or self.max_redirects < 0:
            raise UsageError("net.max_bytes must be positive and net.max_redirects not negative")
        hosts = tuple(h.strip().rstrip(".").lower() for h in self.allow_hosts)
        for host in hosts:
            if _is_address(host):
                raise UsageError(f"net.allow_hosts: {host!r} is an address; put addresses in net.allow_cidrs")
        for cidr in self.allow_cidrs:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise UsageError(f"net.allow_cidrs: {cidr!r} is not a network: {exc}") from None
        if any(not 0 < p < 65536 for p in self.allowed_ports):
            raise UsageError("net.allowed_ports: ports are 1-65535")
        # configuration often arrives as lists from YAML; store immutable forms so the frozen promise holds
        object.__setattr__(self, "allow_hosts", hosts)
        object.__setattr__(self, "allow_cidrs", tuple(self.allow_cidrs))
        object.__setattr__(self, "allowed_ports", tuple(self.allowed_ports))
        object.__setattr__(self, "proxies", MappingProxyType(dict(self.proxies)))


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
