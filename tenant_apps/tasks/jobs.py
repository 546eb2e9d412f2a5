"""The daily digest of tasks overdue and due today, one e-mail per person per day.

``task_digests_all`` runs periodically on the platform (``TASKS_DIGEST_CRON``, early morning)
and queues one ``task_digests`` job per partnership (``defer_for_every_partnership``); each
runs inside its schema and queues, through the outbox, the digests of that partnership's
people only (``services.task_digests_send``). A suspended partnership's digests are skipped,
not held: yesterday's list is no use when it is resumed.

Idempotent at three levels: the periodic defer runs once per cron tick whatever the number
of workers (procrastinate's periodic defers), a partnership's job still waiting is not
queued twice (its queueing lock), and each person's day is claimed in the database with
their e-mail (``services.task_digest_send``), so a retried or re-run job, or two at once,
send nobody a second digest the same day.
"""

from __future__ import annotations

import logging

from django.conf import settings

from concord.jobs import MAINTENANCE_QUEUE, app, defer_for_every_partnership, partnership_task
from tenant_apps.tasks.services import task_digests_send
from tenants.models import Partnership

logger = logging.getLogger(__name__)


@partnership_task(queue=MAINTENANCE_QUEUE, retry=3)
def task_digests(*, schema_name: str) -> int:
    """One partnership's digests (runs inside ``schema_name``); returns how many were queued."""
    if Partnership.objects.filter(schema_name=schema_name, status=Partnership.Status.SUSPENDED).exists():
        logger.info("tasks digest: %s is suspended; no digests today", schema_name)
        return 0
    queued = task_digests_send()
    logger.info("tasks digest: %d queued in %s", queued, schema_name)
    return queued


@app.periodic(cron=settings.TASKS_DIGEST_CRON, periodic_id="tasks-digest")
@app.task(name="tenant_apps.tasks.jobs.task_digests_all", queue=MAINTENANCE_QUEUE)
def task_digests_all(timestamp: int) -> int:
    """Queue the digests of every partnership; one already queued is not queued twice."""
    return defer_for_every_partnership(task_digests, lock_prefix="tasks-digest")
