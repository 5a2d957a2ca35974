"""Which URLs a post may make the analyst's machine fetch.

A photo URL is written by a stranger. Fetching it must not turn the analyst's laptop into a
proxy into its own network (routers, intranet wikis, the cloud metadata service at
169.254.169.254), so only http(s) URLs whose host resolves exclusively to public addresses are
fetched. The check runs before every request, including each redirect hop, and once more on the
connected socket's peer address, so a DNS answer that changes between check and connect
(DNS rebinding) is caught too.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..errors import MistError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

ALLOWED_SCHEMES = ("http", "https")


class UrlRefused(MistError, ValueError):
    """The URL must not be fetched; `str(exc)` says why (stored as the media row's error)."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host:port (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


@dataclass(frozen=True)
class UrlPolicy:
    """What the user allowed.

    `allow_private_hosts` opens loopback and private (RFC 1918, unique-local, carrier-grade NAT)
    addresses: a team with its own photo server on the intranet. Link-local (the cloud metadata
    address among them), multicast, reserved and unspecified addresses stay closed; only
    `allowed_networks`, named one by one, opens them (tests open 127.0.0.1/32 this way).
    """

    allow_private_hosts: bool = False
    allowed_networks: tuple[Network, ...] = ()
    max_redirects: int = 5
    resolver: Resolver = field(default=system_resolver, compare=False, repr=False)

    @classmethod
    def allowing(cls, networks: Iterable[str], **kwargs) -> UrlPolicy:
        return cls(allowed_networks=tuple(ipaddress.ip_network(n) for n in networks), **kwargs)

    def address_refusal(self, address: str) -> str | None:
        """None if `address` may be contacted, else the reason it may not."""
        try:
            ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return f"{address!r} is not an IP address"
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if any(ip in net for net in self.allowed_networks):
            return None
        kind = _category(ip)
        if kind is None:
            return None
        if self.allow_private_hosts and kind in ("loopback", "private"):
            return None
        return f"address {ip} is {kind}"


_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")


def _category(ip: IPAddress) -> str | None:
    """The reason class of a non-public address, or None for a public unicast address."""
    if ip.is_unspecified or (ip.version == 4 and ip in _THIS_NETWORK):  # 0.x.x.x reaches this host on Linux
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private or ip in ipaddress.ip_network("100.64.0.0/10"):
        return "private"
    if isinstance(ip, ipaddress.IPv6Address) and (ip.sixtofour or ip.teredo):
        inner = ip.sixtofour or ip.teredo[1]
        return _category(inner)
    if not ip.is_global:
        return "not a public address"
    return None


@dataclass(frozen=True)
class CheckedUrl:
    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


def check_url(url: str, policy: UrlPolicy) -> CheckedUrl:
    """Refuse (raise `UrlRefused`) unless `url` is http(s) and its host resolves only to
    addresses the policy allows. Resolution happens here, before any connection."""
    if not isinstance(url, str) or not url.strip():
        raise UrlRefused("empty URL")
    url = url.strip()
    if any(ord(c) < 0x21 for c in url):
        raise UrlRefused("URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused(f"malformed URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise UrlRefused(f"scheme {scheme or '(none)'!r} is not allowed (only http and https)")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("URLs with credentials are not fetched")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UrlRefused("URL has no host")
    port = port or (443 if scheme == "https" else 80)
    try:
        addresses = policy.resolver(host, port)
    except (OSError, UnicodeError) as exc:
        raise UrlRefused(f"cannot resolve host {host!r}: {exc}") from exc
    if not addresses:
        raise UrlRefused(f"host {host!r} has no address")
    for address in addresses:
        reason = policy.address_refusal(address)
        if reason:
            raise UrlRefused(f"host {host!r} refused: {reason}")
    return CheckedUrl(url, scheme, host, port, tuple(addresses))
