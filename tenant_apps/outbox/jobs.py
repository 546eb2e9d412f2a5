"""The outbox's jobs: sending one e-mail, and the retention of sent ones.

``send_email`` sends one queued e-mail (``outbox.mail.email_send``). It keeps the
name it had when it lived in ``concord.mail``: the queue stores jobs by name, so jobs
queued before the move still run.

E-mails carry personal data (names, sign-in links, what a task is about), so they are
not kept for ever: the record of who was told what lives in the audit trail, not in the
outbox. ``outbox_purge_all`` runs periodically (``OUTBOX_PURGE_CRON``) on the platform
and queues one ``outbox_purge`` job for public (operators' e-mails) and one per
partnership; each deletes, inside its schema, the e-mails sent (or given up on) more than
``OUTBOX_KEEP_DAYS`` ago. A queued e-mail is never deleted, however old. Every job here
is idempotent.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from concord.jobs import MAINTENANCE_QUEUE, app, defer_for_every_partnership, partnership_task
from tenant_apps.outbox.mail import MAIL_QUEUE, email_send, mail_retry
from tenant_apps.outbox.models import OutboundEmail

logger = logging.getLogger(__name__)


@partnership_task(name="concord.mail.send_email", queue=MAIL_QUEUE, retry=mail_retry)
def send_email(*, schema_name: str, email_id: str) -> None:
    """Send one queued e-mail (the job ``mail_send_later`` defers; runs inside ``schema_name``)."""
    email_send(schema_name=schema_name, email_id=email_id)


def purge_outbox(*, keep_days: int | None = None) -> int:
    """Delete the current schema's e-mails sent or failed more than ``keep_days`` ago."""
    cutoff = timezone.now() - timedelta(days=settings.OUTBOX_KEEP_DAYS if keep_days is None else keep_days)
    done = OutboundEmail.objects.filter(
        Q(status=OutboundEmail.Status.SENT, sent_at__lt=cutoff)
        | Q(status=OutboundEmail.Status.FAILED, created_at__lt=cutoff)
    )
    deleted, _ = done.delete()
    if deleted:
        logger.info("outbox: deleted %d e-mail(s) older than the retention period", deleted)
    return deleted


@partnership_task(queue=MAINTENANCE_QUEUE, retry=3)
def outbox_purge(*, schema_name: str) -> int:
    """One schema's purge (runs inside ``schema_name``)."""
    return purge_outbox()


@app.periodic(cron=settings.OUTBOX_PURGE_CRON, periodic_id="outbox-purge")
@app.task(name="tenant_apps.outbox.jobs.outbox_purge_all", queue=MAINTENANCE_QUEUE)
def outbox_purge_all(timestamp: int) -> int:
    """Queue a purge for public and every partnership; one already queued is not queued twice."""
    return defer_for_every_partnership(outbox_purge, lock_prefix="outbox-purge", include_public=True)
