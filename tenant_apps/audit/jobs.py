"""The audit spool's periodic replay (``tenant_apps.audit.spool``), and the summaries of
refusals held back by the rate limit (``services.audit_access_refused``)."""

from __future__ import annotations

from django.conf import settings

from concord.jobs import MAINTENANCE_QUEUE, app, partnership_task
from tenant_apps.audit import spool


@app.periodic(cron=settings.AUDIT_SPOOL_REPLAY_CRON, periodic_id="audit-spool-replay")
@app.task(name="tenant_apps.audit.jobs.audit_spool_replay", queue=MAINTENANCE_QUEUE)
def audit_spool_replay(timestamp: int) -> int:
    """Insert the events that a read-only database refused, once it accepts writes (a no-op otherwise)."""
    return spool.replay_spool()


@partnership_task(name="tenant_apps.audit.jobs.refusals_summarise")
def refusals_summarise(*, schema_name: str, tally_id: int) -> None:
    """When a refusal tally's window has closed: its one ``access.refusals_suppressed`` event."""
    from tenant_apps.audit.services import audit_refusals_summarise

    audit_refusals_summarise(tally_id=tally_id)
