"""Server-side request forgery guard for URLs the service calls (webhooks).

Rules:
- the URL is `https` (or `http` outside production), has a host, no user info, and is
  at most 2048 characters;
- the host is not a known cloud metadata name nor `localhost`;
- EVERY address the host resolves to is public: no loopback, private, link-local
  (169.254.169.254 included), CGNAT (100.64.0.0/10), unique-local, multicast,
  reserved, unspecified or documentation address, and no known metadata address.
  `allow_private` (dev and tests only) lets loopback and private ranges through;
  metadata, multicast and unspecified addresses stay refused whatever it says.

The check runs at registration and again just before each delivery, after DNS
resolution; the caller then connects to the checked address (see
`app.services.webhooks.delivery`), so a DNS answer that changes in between cannot
redirect a request inside the network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2048
RESOLVE_TIMEOUT_SECONDS = 5.0

METADATA_HOSTNAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "metadata.azure.internal",
        "instance-data",
        "instance-data.ec2.internal",
        "localhost",
    }
)
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeUrl(ValueError):
    """The URL may not be called; `code` is a program-written reason for records."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (`address`) and what to call it (`host`)."""

    scheme: str
    host: str
    port: int
    path: str
    address: IPAddress

    @property
    def pinned_url(self) -> str:
        """The URL with its host replaced by the checked address."""
        literal = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return f"{self.scheme}://{literal}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def _unwrap(ip: IPAddress) -> IPAddress:
    """An IPv6 address that embeds an IPv4 one is judged by the IPv4 address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def address_problem(ip: IPAddress, *, allow_private: bool = False) -> str | None:
    """Why `ip` may not be called (a code), or None when it may."""
    inner = _unwrap(ip)
    if ip in METADATA_ADDRESSES or inner in METADATA_ADDRESSES:
        return "metadata_address"
    if inner.is_unspecified or inner.is_multicast:
        return "non_unicast_address"
    if inner.is_link_local:
        return "link_local_address"
    if allow_private and (inner.is_loopback or inner.is_private):
        return None
    if inner.is_loopback:
        return "loopback_address"
    if inner in _CGNAT:
        return "shared_address"
    if inner.is_private or inner.is_reserved or not inner.is_global:
        return "private_address"
    return None


def parse_url(url: str, *, require_https: bool) -> SplitResult:
    """The static part of the check (no DNS): scheme, host, user info, metadata names."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl("url_too_long", f"at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError as exc:
        raise UnsafeUrl("malformed_url", "not a valid URL") from exc
    allowed = ("https",) if require_https else ("https", "http")
    if parts.scheme not in allowed:
        raise UnsafeUrl("scheme_refused", f"the URL must use {' or '.join(allowed)}")
    if not parts.hostname:
        raise UnsafeUrl("malformed_url", "the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("userinfo_refused", "credentials in the URL are not allowed")
    host = parts.hostname.rstrip(".").lower()
    if host in METADATA_HOSTNAMES or host.endswith(".localhost"):
        raise UnsafeUrl("metadata_host", "this host may not receive webhooks")
    return parts


async def resolve_host(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to (tests replace this function)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def check_url(url: str, *, require_https: bool, allow_private: bool) -> Target:
    """Check `url` and resolve its host; every resolved address must be allowed.

    Raises `UnsafeUrl` naming the reason; returns the target pinned to the first
    address.
    """
    parts = parse_url(url, require_https=require_https)
    host = (parts.hostname or "").rstrip(".").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            found = await asyncio.wait_for(resolve_host(host, port), RESOLVE_TIMEOUT_SECONDS)
            addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]
        except (OSError, TimeoutError, ValueError, UnicodeError) as exc:
            raise UnsafeUrl("unresolvable_host", "the host does not resolve") from exc
        if not addresses:
            raise UnsafeUrl("unresolvable_host", "the host does not resolve")
    for ip in addresses:
        problem = address_problem(ip, allow_private=allow_private)
        if problem is not None:
            raise UnsafeUrl(problem, "the host resolves to an address that may not be called")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, host, port, path, addresses[0])
