"""Server-side request forgery guard for URLs the service calls (webhooks).

Rules:
- the URL is `https` (or `http` outside production), has a host, no user info, and is
  at most 2048 characters;
- the host is not a known cloud metadata name nor `localhost`;
- EVERY address the host resolves to is public: no loopback, private, link-local
  (169.254.169.254 included), CGNAT (100.64.0.0/10), unique-local, multicast,
  reserved, unspecified or documentation address, and no known metadata address;
  an IPv6 transition form (IPv4-mapped or -compatible, 6to4, Teredo, NAT64, ISATAP)
  is judged by the IPv4 address it carries;
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

from app.i18n import msg

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
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


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


def _embedded(ip: ipaddress.IPv6Address) -> tuple[list[ipaddress.IPv4Address], bool]:
    """The IPv4 addresses an IPv6 transition form carries, and whether the embedded
    addresses alone decide (a translation prefix whose own class says nothing about
    where the packet goes) or the IPv6 address is judged as well."""
    n = int(ip)
    low32 = ipaddress.IPv4Address(n & 0xFFFFFFFF)
    if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d
        return [ip.ipv4_mapped], True
    if ip.sixtofour is not None:  # 2002:aabb:ccdd::/48
        return [ip.sixtofour], True
    if ip.teredo is not None:  # 2001::/32: the server, and the client as NOT of the last 32
        return list(ip.teredo), True
    if ip in _NAT64:  # 64:ff9b::/96
        return [low32], True
    if ip in _NAT64_LOCAL:
        # RFC 6052 allows a /48, /56, /64 or /96 prefix inside 64:ff9b:1::/48, each
        # placing the IPv4 address elsewhere (skipping bits 64-71): every reading counts.
        bits = f"{n:0128b}"
        readings = (bits[48:64] + bits[72:88], bits[56:64] + bits[72:96], bits[72:104])
        return [ipaddress.IPv4Address(int(r, 2)) for r in readings] + [low32], False
    if n >> 32 == 0 and n > 1:  # IPv4-compatible ::a.b.c.d (not :: nor ::1)
        return [low32], False
    if (n >> 32) & 0xFCFFFFFF == 0x00005EFE:  # ISATAP interface id (u and g bits aside)
        return [low32], False
    return [], False


def _problem(ip: IPAddress, *, allow_private: bool) -> str | None:
    if ip in METADATA_ADDRESSES:
        return "metadata_address"
    if ip.is_unspecified or ip.is_multicast:
        return "non_unicast_address"
    if ip.is_link_local:
        return "link_local_address"
    if allow_private and (ip.is_loopback or ip.is_private):
        return None
    if ip.is_loopback:
        return "loopback_address"
    if ip in _CGNAT:
        return "shared_address"
    if ip.is_private or ip.is_reserved or not ip.is_global:
        return "private_address"
    return None


# When several addresses are judged, the gravest reason is reported.
_GRAVITY = ("metadata_address", "non_unicast_address", "link_local_address", "loopback_address")


def address_problem(ip: IPAddress, *, allow_private: bool = False) -> str | None:
    """Why `ip` may not be called (a code), or None when it may.

    An IPv6 address carrying an IPv4 one (IPv4-mapped, IPv4-compatible, 6to4, Teredo,
    NAT64 well-known and local-use prefixes, ISATAP) is judged by every IPv4 address it
    may carry; for the pure translation forms that alone decides (DNS64 answers public
    hosts in 64:ff9b::/96), for the others the IPv6 address must pass too.
    """
    judged: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        inner, alone = _embedded(ip)
        judged = [*inner] if alone else [ip, *inner]
    problems = [p for p in (_problem(a, allow_private=allow_private) for a in judged) if p]
    if not problems:
        return None
    return min(problems, key=lambda p: _GRAVITY.index(p) if p in _GRAVITY else len(_GRAVITY))


def parse_url(url: str, *, require_https: bool) -> SplitResult:
    """The static part of the check (no DNS): scheme, host, user info, metadata names."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(
            "url_too_long", msg("at most {max_length} characters", max_length=MAX_URL_LENGTH)
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError as exc:
        raise UnsafeUrl("malformed_url", "not a valid URL") from exc
    allowed = ("https",) if require_https else ("https", "http")
    if parts.scheme not in allowed:
        raise UnsafeUrl(
            "scheme_refused", msg("the URL must use {schemes}", schemes=", ".join(allowed))
        )
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
