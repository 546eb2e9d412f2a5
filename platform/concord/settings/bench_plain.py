"""Benchmark settings, plain Django: the baseline of the routing benchmark.

The same settings as ``bench`` (same apps, middleware, views, database and
connection settings) without tenant routing: no django-tenants app, middleware,
router or backend. The connection is pinned to one partnership's schema with
``-c search_path=<schema>,public`` and the stock ``django.db.backends.postgresql``
engine, as a single-tenant deployment would be.
"""

from concord.settings.bench import *  # noqa: F403
from concord.settings.bench import BENCH_SCHEMA, DATABASES, INSTALLED_APPS, MIDDLEWARE

INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "django_tenants"]
MIDDLEWARE = [m for m in MIDDLEWARE if m != "concord.middleware.PartnershipMiddleware"]
DATABASE_ROUTERS = []

_options = dict(DATABASES["default"].get("OPTIONS", {}))
_options["options"] = f"-c search_path={BENCH_SCHEMA},public"
DATABASES = {
    "default": {**DATABASES["default"], "ENGINE": "django.db.backends.postgresql", "OPTIONS": _options},
}
# django_tenants.cache.make_key reads connection.schema_name, which the stock backend lacks.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
