"""The audit spool's periodic replay (``tenant_apps.audit.spool``)."""

from __future__ import annotations

from django.conf import settings

from concord.jobs import MAINTENANCE_QUEUE, app
from tenant_apps.audit import spool


@app.periodic(cron=settings.AUDIT_SPOOL_REPLAY_CRON, periodic_id="audit-spool-replay")
@app.task(name="tenant_apps.audit.jobs.audit_spool_replay", queue=MAINTENANCE_QUEUE)
def audit_spool_replay(timestamp: int) -> int:
    """Insert the events that a read-only database refused, once it accepts writes (a no-op otherwise)."""
    return spool.replay_spool()
