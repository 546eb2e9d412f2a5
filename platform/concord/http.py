"""The client's address, read one way everywhere (floor: imports only Django and the stdlib).

``client_ip(request)`` is ``REMOTE_ADDR`` unless the connection comes from one of the
``TRUSTED_PROXIES`` (addresses or CIDR networks; default none). Behind one, ``X-Forwarded-For``
is walked from the right: each proxy appends the address it received the request from, so
addresses that are themselves trusted proxies are skipped and the first one that is not is the
client's. Anything further left was written by the client and is never believed.

- from a peer that is not a trusted proxy the header is ignored entirely (anyone can send it);
- every address in the chain a trusted proxy: the leftmost one (the first hop we know);
- a value that is not an address (``unknown``, a port, text) ends the walk: the client is the
  last trusted hop before it, the nearest address we can vouch for;
- an IPv4-mapped IPv6 address (``::ffff:192.0.2.1``) is the IPv4 address;
- a ``REMOTE_ADDR`` that is not an address: None.

Used by the audit trail (``tenant_apps.audit``) and the sign-in throttle (``tenant_apps.accounts``).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_ip(request) -> str | None:
    """The address of the client that sent ``request``, normalised; None if it has none."""
    peer = _address(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return None
    proxies = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ()))
    if not _trusted(peer, proxies):
        return str(peer)
    client = peer
    for part in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        part = part.strip()
        if not part:
            continue
        address = _address(part)
        if address is None:
            break  # not an address: the last trusted hop is all we know
        client = address
        if not _trusted(address, proxies):
            break
    return str(client)


def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@lru_cache(maxsize=8)
def _networks(values: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


def _trusted(address: Address, proxies: tuple[Network, ...]) -> bool:
    return any(address.version == network.version and address in network for network in proxies)


__all__ = ["client_ip"]
