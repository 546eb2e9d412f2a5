"""Host names: which partnership a host serves (cached), and the addresses we hand out.

Floor: imports Django, django-tenants and ``tenants.models`` only, so the roof
(the routing middleware, provisioning) and the apps (links in e-mails) share it.

- ``host_cache.get(hostname)``: host -> partnership, per process, for
  ``TENANT_CACHE_SECONDS``; ``host_cache.clear()`` after a status or domain change.
- ``partnership_host(slug)``: ``<slug>.<PLATFORM_DOMAIN>``.
- ``partnership_url(partnership, path)``, ``absolute_url(path)``: full addresses on a
  partnership's host, or on the current schema's (the platform domain in public), with
  ``PLATFORM_SCHEME`` and ``PLATFORM_PORT``: what e-mails and printed output link to.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.db import connection
from django_tenants.utils import get_public_schema_name

from tenants.models import Domain, Partnership


class _HostCache:
    """Per-process cache of host -> partnership with a short time to live.

    Stock django-tenants looks the host up on every request (2-3 round trips).
    Entries expire after ``TENANT_CACHE_SECONDS`` so a suspension or a domain
    change reaches every worker process within that time. Unknown hosts are not
    cached, so a newly provisioned partnership answers at once.
    """

    def __init__(self):
        self._entries: dict[str, tuple[float, Partnership]] = {}
        self._lock = threading.Lock()

    def get(self, hostname: str) -> Partnership | None:
        now = time.monotonic()
        entry = self._entries.get(hostname)
        if entry is not None and entry[0] > now:
            return entry[1]
        ttl = settings.TENANT_CACHE_SECONDS  # read on a miss only (each settings read costs)
        connection.set_schema_to_public()  # the lookup reads public; only on a miss
        domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
        if domain is None:
            with self._lock:
                self._entries.pop(hostname, None)
            return None
        partnership = domain.tenant
        partnership.domain_url = hostname
        if ttl > 0:
            with self._lock:
                self._entries[hostname] = (now + ttl, partnership)
        return partnership

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


host_cache = _HostCache()


def partnership_host(slug: str) -> str:
    return f"{slug}.{settings.PLATFORM_DOMAIN}"


def _address(host: str, path: str) -> str:
    port = f":{settings.PLATFORM_PORT}" if settings.PLATFORM_PORT else ""
    return f"{settings.PLATFORM_SCHEME}://{host}{port}{path}"


def partnership_url(partnership: Partnership, path: str = "/") -> str:
    """The full address of ``path`` on the partnership's host."""
    return _address(partnership_host(partnership.schema_name), path)


def absolute_url(path: str) -> str:
    """The full address of ``path`` on the current host: the partnership's, or the platform's in public."""
    schema = connection.schema_name
    return _address(settings.PLATFORM_DOMAIN if schema == get_public_schema_name() else partnership_host(schema), path)


__all__ = ["absolute_url", "host_cache", "partnership_host", "partnership_url"]
