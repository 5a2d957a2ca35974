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

    `allow_private_hosts` opens loopback and private (RFC 1918, unique-local, carrier-grade NAT,
    the deprecated IPv6 site-local fec0::/10) addresses: a team with its own photo server on the
    intranet. Link-local (the cloud metadata address among them), multicast, reserved and
    unspecified addresses stay closed; only `allowed_networks`, named one by one, opens them
    (tests open 127.0.0.1/32 this way).
    """

    allow_private_hosts: bool = False
    allowed_networks: tuple[Network, ...] = ()
    max_redirects: int = 5
    resolver: Resolver = field(default=system_resolver, compare=False, repr=False)

    @classmethod
    def allowing(cls, networks: Iterable[str], **kwargs) -> UrlPolicy:
        return cls(allowed_networks=tuple(ipaddress.ip_network(n) for n in networks), **kwargs)

    def address_refusal(self, address: str) -> str | None:
        """None if `address` may be contacted, else the reason it may not.

        An IPv6 address that carries an IPv4 address (IPv4-mapped, 6to4, Teredo, NAT64) reaches
        that IPv4 host, so every embedded address is judged as well, before anything else: an
        IPv6 category such as "private" (Python counts Teredo's 2001::/32 as private) must not
        hide a loopback or metadata address inside, and a public host behind NAT64 stays
        reachable on an IPv6-only network.
        """
        try:
            ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return f"{address!r} is not an IP address"
        for candidate in embedded_addresses(ip):
            reason = self._refusal(candidate)
            if reason:
                return reason if candidate == ip else f"{reason} (inside {ip})"
        return None

    def _refusal(self, ip: IPAddress) -> str | None:
        if any(ip in net for net in self.allowed_networks):
            return None
        kind = _category(ip)
        if kind is None:
            return None
        if self.allow_private_hosts and kind in ("loopback", "private", "site-local"):
            return None
        return f"address {ip} is {kind}"


_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_SHARED_NETWORK = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215 local-use translation prefix
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d


def embedded_addresses(ip: IPAddress) -> list[IPAddress]:
    """The IPv4 addresses an IPv6 address leads to, followed by the address itself.

    An address that only embeds IPv4 (mapped, compatible, NAT64) is judged by the IPv4 address
    alone; 6to4 and Teredo are judged by both, the outer address and every embedded one.
    """
    if isinstance(ip, ipaddress.IPv4Address):
        return [ip]
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    packed = int(ip)
    if ip in _NAT64 or ip in _NAT64_LOCAL:
        return [ipaddress.IPv4Address(packed & 0xFFFFFFFF)]
    if ip in _IPV4_COMPATIBLE and not (ip.is_unspecified or ip.is_loopback):
        return [ipaddress.IPv4Address(packed & 0xFFFFFFFF)]
    inner: list[IPAddress] = []
    if ip.sixtofour is not None:
        inner.append(ip.sixtofour)
    if ip.teredo is not None:
        server, client = ip.teredo
        inner += [client, server]
    return inner + [ip]


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
    if ip.version == 6 and ip.is_site_local:  # fec0::/10, deprecated (RFC 3879) but still routed inside sites
        return "site-local"
    if ip.version == 6 and (ip.sixtofour is not None or ip.teredo is not None):
        return None  # judged by the IPv4 addresses inside (see `embedded_addresses`)
    if ip.is_reserved:
        return "reserved"
    if ip.is_private or (ip.version == 4 and ip in _SHARED_NETWORK):
        return "private"
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
