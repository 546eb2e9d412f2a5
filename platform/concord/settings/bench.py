"""Benchmark settings, full stack: the base settings on the benchmarks' own database.

Used by ``python -m benchmarks`` (in-process and in the gunicorn it starts). The
database is the one in ``DATABASE_URL`` with its name replaced by
``BENCH_DATABASE_NAME`` (default ``<name>_bench``, e.g. ``concord_bench``); the
benchmark creates and drops it. It refuses to point at the dev or test database.
The tenant middleware and its host cache (``TENANT_CACHE_SECONDS``, default 3)
stay as in production; only the URLconf adds the benchmark views.
"""

import os

from concord.env import EnvError
from concord.settings.base import *  # noqa: F403
from concord.settings.base import BASE_DIR, DATABASES, TEMPLATES

DEBUG = False
SECRET_KEY = "bench-only-not-secret-" + "b" * 40

_dev_name = DATABASES["default"]["NAME"]
BENCH_DATABASE_NAME = os.environ.get("BENCH_DATABASE_NAME") or (
    _dev_name if _dev_name.endswith("_bench") else f"{_dev_name}_bench"
)
if not BENCH_DATABASE_NAME.endswith("_bench") or BENCH_DATABASE_NAME.startswith("test_"):
    raise EnvError("the benchmark database must be named *_bench (never the dev or test database)")
DATABASES["default"]["NAME"] = BENCH_DATABASE_NAME
# The schema the routing benchmark serves (``<schema>.<PLATFORM_DOMAIN>``).
BENCH_SCHEMA = os.environ.get("BENCH_SCHEMA", "suffolk")

# Partnership hosts: concord.urls_partnership plus the benchmark views under /bench/.
ROOT_URLCONF = "benchmarks.urls"
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "benchmarks" / "templates"]
