"""Review reminders, daily: ``review_reminders_all`` runs on the platform
(``ASSESSMENTS_REMINDER_CRON``) and queues one ``review_reminders`` job per partnership
(``defer_for_every_partnership``), each sending that partnership's reminders inside its schema
(``services.review_reminders_send``: each reminder once, whoever sends it). A suspended
partnership's reminders wait: they go on the first run after it is resumed."""

from __future__ import annotations

import logging

from django.conf import settings

from concord.jobs import MAINTENANCE_QUEUE, app, defer_for_every_partnership, partnership_task
from tenant_apps.assessments.services import review_reminders_send
from tenants.models import Partnership

logger = logging.getLogger(__name__)


@partnership_task(queue=MAINTENANCE_QUEUE, retry=3)
def review_reminders(*, schema_name: str) -> int:
    """One partnership's review reminders (inside ``schema_name``); returns how many were sent."""
    if Partnership.objects.filter(schema_name=schema_name, status=Partnership.Status.SUSPENDED).exists():
        logger.info("assessments: %s is suspended; its review reminders wait", schema_name)
        return 0
    sent = review_reminders_send()
    logger.info("assessments: %d review reminders in %s", sent, schema_name)
    return sent


@app.periodic(cron=settings.ASSESSMENTS_REMINDER_CRON, periodic_id="assessments-review-reminders")
@app.task(name="tenant_apps.assessments.jobs.review_reminders_all", queue=MAINTENANCE_QUEUE)
def review_reminders_all(timestamp: int) -> int:
    """Queue every partnership's review reminders; one already queued is not queued twice."""
    return defer_for_every_partnership(review_reminders, lock_prefix="assessments-reminders")
