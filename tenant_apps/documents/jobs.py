"""The orphan sweep: objects under ``<schema>/documents/`` that no stored Document row names.

They come from uploads whose database transaction rolled back (or a best-effort
delete that failed). Only objects older than ``DOCUMENTS_ORPHAN_AGE_SECONDS`` (an
hour) are removed, so an upload between its PUT and its INSERT is never touched.

``documents_sweep_all`` runs periodically (``DOCUMENTS_SWEEP_CRON``) on the platform
and queues one ``documents_sweep_orphans`` job per partnership, each of which runs
inside its schema; both are idempotent.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from concord.jobs import MAINTENANCE_QUEUE, app, defer_for_every_partnership, partnership_task
from tenant_apps.documents.models import Document
from tenant_apps.documents.services import KEY_FOLDER, documents_storage

logger = logging.getLogger(__name__)

_BATCH = 500


def sweep_orphans(*, older_than_seconds: int | None = None) -> list[str]:
    """Delete the current partnership's orphaned document objects; return their keys.

    Each listed page and each delete is bounded (``STORAGE_DEADLINE_SECONDS``): a frozen
    store fails the job within seconds (``StorageTimeout``) and procrastinate retries it.
    """
    age = settings.DOCUMENTS_ORPHAN_AGE_SECONDS if older_than_seconds is None else older_than_seconds
    cutoff = timezone.now() - timedelta(seconds=age)
    storage = documents_storage()
    prefix = storage.prefix(KEY_FOLDER)
    removed: list[str] = []
    token = None
    while True:
        page = storage.list_page(prefix, max_keys=_BATCH, token=token)
        token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
        candidates = [entry["Key"] for entry in page.get("Contents", ()) if entry["LastModified"] < cutoff]
        if candidates:
            kept = set(
                Document.objects.filter(storage_key__in=candidates, status=Document.Status.STORED).values_list(
                    "storage_key", flat=True
                )
            )
            for key in candidates:
                if key not in kept:
                    storage.delete(storage.name_for_key(key))
                    removed.append(key)
        if not token:
            break
    if removed:
        # Logged, not audited: no stored document names them (deletions were audited when made).
        logger.info("removed %d orphaned document object(s): %s", len(removed), ", ".join(removed))
    return removed


@partnership_task(queue=MAINTENANCE_QUEUE, retry=3)
def documents_sweep_orphans(*, schema_name: str) -> int:
    """One partnership's sweep (runs inside ``schema_name``)."""
    return len(sweep_orphans())


@app.periodic(cron=settings.DOCUMENTS_SWEEP_CRON, periodic_id="documents-sweep")
@app.task(name="tenant_apps.documents.jobs.documents_sweep_all", queue=MAINTENANCE_QUEUE)
def documents_sweep_all(timestamp: int) -> int:
    """Queue a sweep for every partnership; one already queued is not queued twice."""
    return defer_for_every_partnership(documents_sweep_orphans, lock_prefix="documents-sweep")
