"""gunicorn's settings for production: ``gunicorn -c infra/gunicorn.conf.py concord.wsgi:application``.

Threaded workers (gthread): a request waiting on object storage holds one thread, not a
whole process. Storage calls are bounded twice in the application (tenants.storage): each
waits at most ``STORAGE_DEADLINE_SECONDS`` (5 s), and at most ``STORAGE_MAX_CALLS`` (4) are
in flight per process, fewer than ``threads``, so a frozen store leaves every worker threads
for the pages that never touch storage. ``timeout`` is well above the storage deadline; with
gthread a worker's main thread reports in while its request threads wait, so it restarts only
a process that stopped altogether, never one serving a slow upload (the old sync workers were
killed at 30 s mid-upload, answering a bare 500).

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
# Above STORAGE_DEADLINE_SECONDS: only a process that stopped altogether is restarted.
timeout = _int("GUNICORN_TIMEOUT", 30, 10)
graceful_timeout = 30
# Each thread may hold a database connection during its request: with the production pool
# (DATABASE_POOL_MAX, 10 per process) keep threads at or below the pool's size.
