"""gunicorn's settings for production: ``gunicorn -c infra/gunicorn.conf.py concord.wsgi:application``.

Threaded workers (gthread): a request waiting on object storage holds one thread, not a
whole process. Storage calls are bounded twice in the application (tenants.storage): each
waits at most ``STORAGE_DEADLINE_SECONDS`` (5 s), and at most ``STORAGE_MAX_CALLS`` (4) are
in flight per process, fewer than ``threads``, so a frozen store leaves every worker threads
for the pages that never touch storage. ``timeout`` is well above the storage deadline: a
worker is killed only when it is truly stuck, never for a slow upload.

Read from the environment (defaults in brackets): GUNICORN_BIND [0.0.0.0:8000],
GUNICORN_WORKERS [2], GUNICORN_THREADS [8], GUNICORN_TIMEOUT [30].
"""

import os


def _int(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise SystemExit(f"{name} must be at least {minimum}, not {value}")
    return value


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = _int("GUNICORN_WORKERS", 2, 1)
threads = _int("GUNICORN_THREADS", 8, 2)
# Above STORAGE_DEADLINE_SECONDS (and a database statement's): only a truly stuck worker dies.
timeout = _int("GUNICORN_TIMEOUT", 30, 10)
graceful_timeout = 30
keepalive = 5
# Requests a thread's connection queue may hold; beyond it clients wait in the listen backlog.
worker_connections = 1000
accesslog = "-"
# The access log never records query strings (presigned URLs, search terms are POSTed anyway).
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(D)sus'
