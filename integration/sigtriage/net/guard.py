"""Which URLs sigtriage may fetch: the server-side request forgery (SSRF) policy of every outbound call.

URLs come from attacker-controlled places (a certificate's CRL and OCSP URLs are chosen by whoever made the
certificate), so a fetch must never reach the cloud metadata service, localhost or the internal network.
Policy: http/https only, no userinfo, optional port allowlist, and every address the host resolves to must be
public unicast unless allowlisted by name (NetConfig.allow_hosts) or network (NetConfig.allow_cidrs).

`check_host` is called twice for each connection: before the request (so a refusal sends nothing) and again
when the socket is opened (pinning.py), which connects only to the addresses that check returned: a DNS answer
that changes between check and connect (rebinding) cannot steer the connection.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import requests
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from sigtriage.errors import ExternalError
from sigtriage.net.config import NetConfig
from sigtriage.net.errors import BlockedURLError, redact_url

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]
"""(host, port) -> the addresses it resolves to, as strings. Injectable so tests never use real DNS."""

_DEFAULT_PORTS = {"http": 80, "https": 443}
_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_TEREDO = ipaddress.IPv6Network("2001::/32")


def system_resolver(host: str, port: int) -> tuple[str, ...]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address leads to (mapped, NAT64, 6to4): that is where the packets go."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def forbidden_reason(address: Address) -> str | None:
    """Why `address` may not be contacted, or None for a public unicast address.

    Explicit tests before `is_global` because that flag differs between Python releases and is True for
    multicast and for IPv6 forms that embed a private IPv4 address (6to4, NAT64).
    """
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        inner = forbidden_reason(embedded)
        return f"an IPv6 form of {embedded} ({inner})" if inner else None
    if isinstance(address, ipaddress.IPv6Address) and address in _NAT64_LOCAL:
        return "a local-use NAT64 address"
    if isinstance(address, ipaddress.IPv6Address) and address in _TEREDO:
        return "a Teredo tunnel address"
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("shared address space (CGNAT)", isinstance(address, ipaddress.IPv4Address) and address in _CGNAT),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("site-local", isinstance(address, ipaddress.IPv6Address) and address.is_site_local),
        ("not globally routable", not address.is_global),
    )
    return next((label for label, hit in checks if hit), None)


@dataclass(frozen=True)
class CheckedURL:
    url: str
    """As requests will send it (normalised, IDNA-encoded)."""
    host: str
    port: int
    addresses: tuple[str, ...]


class UrlGuard:
    def __init__(self, config: NetConfig, resolver: Resolver = system_resolver) -> None:
        self._allow_hosts = frozenset(config.allow_hosts)
        self._allow_networks = tuple(ipaddress.ip_network(c, strict=False) for c in config.allow_cidrs)
        self._ports = frozenset(config.allowed_ports)
        self._resolver = resolver

    def check_url(self, url: str) -> CheckedURL:
        """Raise BlockedURLError unless `url` may be fetched; ExternalError (retryable) if its host does not resolve."""
        # Parse exactly as requests/urllib3 will when sending: a second parser could see a different host.
        try:
            prepared = requests.PreparedRequest()
            prepared.prepare_url(url, None)
            parts = parse_url(str(prepared.url))
        except (requests.RequestException, LocationParseError, ValueError):
            raise BlockedURLError(f"unparseable URL {redact_url(url)!r}", url=url) from None
        scheme = (parts.scheme or "").lower()
        if scheme not in _DEFAULT_PORTS:
            raise BlockedURLError(f"scheme {scheme or '(none)'!r} is not allowed (http and https only)", url=url)
        if parts.auth is not None:
            raise BlockedURLError("credentials in the URL (userinfo) are not allowed", url=url)
        if not parts.host:
            raise BlockedURLError("URL has no host", url=url)
        port = parts.port or _DEFAULT_PORTS[scheme]
        if self._ports and port not in self._ports:
            raise BlockedURLError(f"port {port} is not allowed", url=url)
        return CheckedURL(str(prepared.url), parts.host, port, self.check_host(parts.host, port, url=url))

    def check_host(self, host: str, port: int, *, url: str = "") -> tuple[str, ...]:
        """The addresses to connect to for `host`; every one passed the policy (or the host is allowlisted)."""
        name = host.strip("[]").rstrip(".").lower()
        shown = url or f"http://{host}/"
        literal = _literal_address(name, shown)
        if literal is not None:
            self._check_address(literal, shown)
            return (str(literal),)
        try:
            resolved = tuple(self._resolver(name, port))
        except (OSError, UnicodeError) as exc:
            raise ExternalError(f"cannot resolve {name}: {exc}", retryable=True) from None
        if not resolved:
            raise ExternalError(f"cannot resolve {name}: no addresses", retryable=True)
        if name in self._allow_hosts:
            return resolved
        for text in resolved:
            try:
                address = ipaddress.ip_address(text)
            except ValueError:
                raise BlockedURLError(f"{name} resolved to an unusable address {text!r}", url=shown) from None
            # ANY forbidden answer blocks: a mixed answer is how rebinding attacks pick the private one later
            self._check_address(address, shown, via=name)
        return resolved

    def _check_address(self, address: Address, url: str, via: str | None = None) -> None:
        if any(_within(address, network) for network in self._allow_networks):
            return
        reason = forbidden_reason(address)
        if reason:
            where = f"{via} resolves to {address}" if via else f"host {address}"
            raise BlockedURLError(f"{where}, which is {reason}", url=url)


def _within(address: Address, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    target = _embedded_ipv4(address) or address
    return target.version == network.version and target in network


def _literal_address(name: str, url: str) -> Address | None:
    """The host as an address if it is one; BlockedURLError for legacy numeric forms.

    Hosts like 2130706433, 0x7f000001, 0177.0.0.1 or 127.1 are not addresses to `ipaddress` but are to
    inet_aton() and to the system resolver (which uses it): refuse them outright rather than rely on every
    layer agreeing on what they mean.
    """
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        pass
    try:
        packed = socket.inet_aton(name)
    except OSError:
        return None
    decoded = ipaddress.IPv4Address(packed)
    raise BlockedURLError(f"host {name!r} is a non-canonical way of writing IPv4 address {decoded}", url=url)
