"""Background jobs: procrastinate on PostgreSQL, every job inside its partnership's schema.

Outside a request there is no tenant (TENANCY_PITFALLS.md), so every job carries
the schema it belongs to and runs inside it:

    @partnership_task(queue="reminders", retry=3)
    def remind(*, schema_name: str, case_id: int) -> None:
        ...  # the connection is on ``schema_name`` here

    defer_for_current_partnership(remind, case_id=case.id)   # in a partnership request
    defer_for_schema(remind, schema_name="public", ...)      # platform (operator) jobs
    defer_for_every_partnership(remind, lock_prefix="remind")  # a periodic fan-out

Deferring writes the job through Django's own connection, so it is part of the
current transaction: rolled back with the data, committed with it. The queue's
tables live only in public; a partnership connection's search path is
"<partnership>, public", which resolves them there.

A worker (``manage.py jobs_worker``: ``concord.worker``) heartbeats; the periodic
``retry_stalled_jobs`` re-queues the running jobs of workers that went silent
(killed, machine lost), so a job interrupted half-way runs again. Jobs must be
idempotent for that reason: see ``tenant_apps.outbox.mail`` for how e-mail is.

A job's ``name`` is what the queue stores: a task whose module moves keeps its old
``name=`` so that jobs queued before the move still run.

This module is floor: it imports no app. Partnerships are read through
django-tenants' ``get_tenant_model()``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import croniter
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django_tenants.utils import get_public_schema_name, get_tenant_model, schema_context, schema_exists
from procrastinate import BaseRetryStrategy, JobContext, RetryDecision, RetryStrategy
from procrastinate.contrib.django import app
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.retry import RetryValue, get_retry_strategy

logger = logging.getLogger(__name__)

MAINTENANCE_QUEUE = "maintenance"


class UnknownSchemaError(RuntimeError):
    """A job names no schema, or one that is not a partnership's (nor public). Never retried."""


class NoPartnershipError(RuntimeError):
    """``defer_for_current_partnership`` called while the connection is on public."""


# --- Running a job inside its schema -------------------------------------------------


def check_schema(schema_name: Any) -> str:
    """Return ``schema_name`` if it is public or an existing partnership's; raise otherwise."""
    if not isinstance(schema_name, str) or not schema_name:
        raise UnknownSchemaError(f"a partnership job needs a schema_name; got {schema_name!r}")
    if schema_name == get_public_schema_name():
        return schema_name
    with schema_context(get_public_schema_name()):
        known = get_tenant_model().objects.filter(schema_name=schema_name).exists()
    if not known or not schema_exists(schema_name):
        raise UnknownSchemaError(f"no partnership has the schema {schema_name!r}")
    return schema_name


class _RefuseUnknownSchema(BaseRetryStrategy):
    """The task's own retry strategy, except that a bad schema is never retried."""

    def __init__(self, inner: BaseRetryStrategy | None):
        self.inner = inner

    def get_retry_decision(self, *, exception: BaseException, job) -> RetryDecision | None:
        if isinstance(exception, UnknownSchemaError) or self.inner is None:
            return None
        return self.inner.get_retry_decision(exception=exception, job=job)


class SettingsRetry(BaseRetryStrategy):
    """Exponential back-off read from a setting at each failure (so tests can shorten it).

    The setting is a dict: ``max_attempts`` (tries in all, the first included),
    ``first_wait_seconds`` and ``factor``: the n-th retry waits first * factor ** (n - 1).
    """

    def __init__(self, setting: str):
        self.setting = setting

    def config(self) -> dict[str, float]:
        return getattr(settings, self.setting)

    def wait_seconds(self, *, failed_attempts: int) -> float | None:
        """Seconds to wait after ``failed_attempts`` tries have failed; None: give up."""
        config = self.config()
        if failed_attempts >= config["max_attempts"]:
            return None
        return float(config["first_wait_seconds"]) * float(config["factor"]) ** (failed_attempts - 1)

    def get_retry_decision(self, *, exception: BaseException, job) -> RetryDecision | None:
        # job.attempts counts the earlier tries; this one has just failed too.
        wait = self.wait_seconds(failed_attempts=job.attempts + 1)
        return None if wait is None else RetryDecision(retry_in={"seconds": wait})


def partnership_task(
    *, queue: str = "default", retry: RetryValue = False, name: str | None = None, **options: Any
) -> Callable[[Callable[..., Any]], Any]:
    """Register ``fn(*, schema_name: str, **kwargs)`` as a job that runs inside ``schema_name``.

    ``retry`` is procrastinate's (False, a number of retries, or a strategy such as
    ``RetryStrategy``/``SettingsRetry``). A job without a schema, or with one that is not
    public nor an existing partnership's, fails at once, is logged, and is never retried.
    Defer it with ``defer_for_current_partnership`` or ``defer_for_schema``.
    """

    def decorate(fn: Callable[..., Any]):
        @functools.wraps(fn)
        def run_in_schema(**kwargs: Any) -> Any:
            # procrastinate's Django app closes stale connections around each job, as Django
            # does around a request; the schema is this wrapper's business.
            schema_name = kwargs.pop("schema_name", None)
            try:
                check_schema(schema_name)
            except UnknownSchemaError:
                logger.error("job %s refused: unknown schema %r", task_name, schema_name)
                raise
            with schema_context(schema_name):
                return fn(schema_name=schema_name, **kwargs)

        task_name = name or f"{fn.__module__}.{fn.__qualname__}"
        strategy = _RefuseUnknownSchema(get_retry_strategy(retry))
        return app.task(name=task_name, queue=queue, retry=strategy, **options)(run_in_schema)

    return decorate


# --- Deferring -------------------------------------------------------------------------


def defer_for_schema(task, *, schema_name: str, **kwargs: Any) -> int:
    """Queue ``task`` to run inside ``schema_name``, in the current transaction. Returns the job id."""
    check_schema(schema_name)
    return task.defer(schema_name=schema_name, **kwargs)


def defer_for_current_partnership(task, **kwargs: Any) -> int:
    """Queue ``task`` for the partnership the connection is on (a request's), in its transaction.

    Refuses on the public schema: platform jobs say ``defer_for_schema(task, schema_name="public")``.
    """
    if "schema_name" in kwargs:
        raise TypeError("defer_for_current_partnership takes the schema from the connection; use defer_for_schema")
    schema_name = connection.schema_name
    if schema_name == get_public_schema_name():
        raise NoPartnershipError(
            f"no partnership on this connection for {task.name}: enter the partnership's schema, "
            'or use defer_for_schema(task, schema_name="public") for a platform job'
        )
    return defer_for_schema(task, schema_name=schema_name, **kwargs)


def defer_for_every_partnership(task, *, lock_prefix: str, include_public: bool = False, **kwargs: Any) -> int:
    """Queue ``task`` once per partnership (and first for public if ``include_public``), each job
    carrying its schema name; returns how many were queued.

    For periodic fan-outs (a platform job that queues one job per partnership). Each job
    has the queueing lock ``<lock_prefix>-<schema_name>``, so one still waiting is not
    queued twice; a partnership whose schema is missing is logged and skipped. Every
    partnership counts, suspended ones too (their data is kept, so is its upkeep).
    """
    public = get_public_schema_name()
    partnerships = get_tenant_model().objects.exclude(schema_name=public).values_list("schema_name", flat=True)
    schemas = [public, *partnerships] if include_public else list(partnerships)
    queued = 0
    for schema_name in schemas:
        try:
            check_schema(schema_name)
            with transaction.atomic():  # a savepoint: a refused duplicate must not abort the rest
                task.configure(queueing_lock=f"{lock_prefix}-{schema_name}").defer(schema_name=schema_name, **kwargs)
            queued += 1
        except AlreadyEnqueued:
            pass
        except UnknownSchemaError:
            logger.warning("%s: partnership %r has no schema; skipped", task.name, schema_name)
    return queued


# --- Jobs of dead workers ----------------------------------------------------------------
# procrastinate 3 records worker heartbeats and can list the running jobs of silent
# workers, but leaves re-queueing them to the application (its documented pattern is this
# periodic task). Re-queued jobs run again from the start, hence idempotent jobs.

if settings.JOBS_STALLED_AFTER_SECONDS < 2 * settings.JOBS_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured("JOBS_STALLED_AFTER_SECONDS must be at least twice JOBS_HEARTBEAT_SECONDS")
if not croniter.croniter.is_valid(settings.JOBS_STALLED_CHECK_CRON):
    raise ImproperlyConfigured(
        f"JOBS_STALLED_CHECK_CRON is not a cron expression: {settings.JOBS_STALLED_CHECK_CRON!r}"
    )


@app.periodic(cron=settings.JOBS_STALLED_CHECK_CRON, periodic_id="retry-stalled")
@app.task(name="concord.jobs.retry_stalled_jobs", queue=MAINTENANCE_QUEUE, pass_context=True)
async def retry_stalled_jobs(context: JobContext, timestamp: int) -> int:
    """Re-queue the running jobs of workers silent for JOBS_STALLED_AFTER_SECONDS.

    A platform job on procrastinate's own tables (public): it touches no partnership's data.
    """
    manager = context.app.job_manager
    stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=settings.JOBS_STALLED_AFTER_SECONDS)
    for job in stalled:
        logger.warning("re-queueing job %s (%s) of a worker that stopped", job.id, job.task_name)
        await manager.retry_job(job)
    return len(stalled)


__all__ = [
    "MAINTENANCE_QUEUE",
    "NoPartnershipError",
    "RetryStrategy",
    "SettingsRetry",
    "UnknownSchemaError",
    "app",
    "check_schema",
    "defer_for_current_partnership",
    "defer_for_every_partnership",
    "defer_for_schema",
    "partnership_task",
    "retry_stalled_jobs",
]
