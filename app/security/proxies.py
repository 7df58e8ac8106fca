"""The client's address behind reverse proxies (`VCM_TRUSTED_PROXIES`).

Each proxy appends the address it was called from to `X-Forwarded-For`, so only the
entries written by proxies we run can be believed; whatever a client puts in the
header comes before them. The client is therefore found from the right: start at the
socket peer; while that address is a trusted proxy, step to the entry the proxy
appended (the header's right-most one not yet used). The first address that is not a
trusted proxy is the client. With no trusted proxies the header is ignored.

An entry that is not an IP address cannot have been written by a trusted proxy's
own hop, so the walk stops at the last trusted address before it (a proxy, never a
value the client chose); when every entry is a trusted proxy, the left-most counts.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """CIDR blocks (a bare address is a /32 or /128); ValueError on anything else."""
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip())


def _address(value: str) -> Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 203.0.113.9:51234
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, proxies: Sequence[Network]) -> bool:
    return any(address.version == n.version and address in n for n in proxies)


def client_address(
    peer: str | None, forwarded_for: Sequence[str], proxies: Sequence[Network]
) -> str:
    """The client's address: `peer` is the socket peer, `forwarded_for` every
    `X-Forwarded-For` header in the order received."""
    current = _address(peer or "")
    if current is None:
        return (peer or "unknown")[:64]
    hops = [h for header in forwarded_for for h in header.split(",")]
    while _trusted(current, proxies) and hops:
        previous = _address(hops.pop())
        if previous is None:
            break
        current = previous
    return str(current)
