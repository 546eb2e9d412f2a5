"""Database round trips per request, in-process (``python -m benchmarks.roundtrips``).

Run once per settings module (``DJANGO_SETTINGS_MODULE``). Each view is requested
once with ``django.test.Client`` to warm up (connection, host cache, templates),
then once more while counting:

- ``captured``: queries Django's cursor wrapper records (``CaptureQueriesContext``);
- ``sent``: every statement sent through a psycopg cursor, counted by wrapping the
  connection's cursor class. This also sees what bypasses Django's wrapper, such
  as the ``CONN_HEALTH_CHECKS`` ``SELECT 1``. (django-tenants 4.0.1 issues its
  ``SET search_path`` on the new, already wrapped cursor, so that one is captured
  too; the raw count would see it either way.)

``django.test.Client`` skips ``close_old_connections`` on ``request_started``;
it is called by hand before the counted request, as the WSGI handler would.

For the full stack it also counts a request that misses the host cache.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json

SENT: list[str] = []


def _count_raw_statements(sender, connection, **kwargs) -> None:
    raw = connection.connection
    base = raw.cursor_factory
    if getattr(base, "_bench_counting", False):
        return

    class CountingCursor(base):
        _bench_counting = True

        def execute(self, query, params=None, *args, **kwargs):
            text = query.decode() if isinstance(query, bytes) else str(query)
            SENT.append(" ".join(text.split()))
            return super().execute(query, params, *args, **kwargs)

    raw.cursor_factory = CountingCursor


def _measure(client, path: str, before=None) -> dict:
    from django.db import close_old_connections, connection
    from django.test.utils import CaptureQueriesContext

    client.get(path)  # warm up
    if before is not None:
        before()
    SENT.clear()
    with CaptureQueriesContext(connection) as captured:
        # What the WSGI handler does on request_started (the test Client skips it): with
        # CONN_HEALTH_CHECKS the first cursor of each request then runs a health check.
        close_old_connections()
        response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}")
    return {
        "captured": len(captured.captured_queries),
        "sent": len(SENT),
        "statements": list(SENT),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--session-cookie", required=True)  # name=value
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db.backends.signals import connection_created
    from django.test import Client

    connection_created.connect(_count_raw_statements)
    client = Client(HTTP_HOST=args.host)
    result = {"one_query": _measure(client, "/bench/one-query/")}
    name, value = args.session_cookie.split("=", 1)
    client.cookies[name] = value
    result["signed_in"] = _measure(client, "/bench/signed-in/")
    if "concord.middleware.PartnershipMiddleware" in settings.MIDDLEWARE:
        from tenants.hosts import host_cache

        result["one_query_cache_miss"] = _measure(
            Client(HTTP_HOST=args.host), "/bench/one-query/", before=host_cache.clear
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
