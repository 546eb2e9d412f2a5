"""The audit spool's periodic replay (``tenant_apps.audit.spool``), the summaries of refusals
held back by the rate limit (``services.audit_access_refused``), and the hash chain's upkeep
(``tenant_apps.audit.chain``): anchoring every active partnership's head, verifying each chain."""

from __future__ import annotations

import logging

from django.conf import settings
from django_tenants.utils import get_public_schema_name, get_tenant_model, schema_context

from concord.jobs import MAINTENANCE_QUEUE, app, defer_for_every_partnership, partnership_task
from tenant_apps.audit import chain, spool

logger = logging.getLogger(__name__)


@app.periodic(cron=settings.AUDIT_SPOOL_REPLAY_CRON, periodic_id="audit-spool-replay")
@app.task(name="tenant_apps.audit.jobs.audit_spool_replay", queue=MAINTENANCE_QUEUE)
def audit_spool_replay(timestamp: int) -> int:
    """Insert the events that a read-only database refused, once it accepts writes (a no-op
    otherwise), and chain the events held apart (``chain.chain_drain_held``) in every schema."""
    replayed = spool.replay_spool()
    public = get_public_schema_name()
    schemas = [public, *get_tenant_model().objects.exclude(schema_name=public).values_list("schema_name", flat=True)]
    for schema_name in schemas:
        with schema_context(schema_name):
            replayed += chain.chain_drain_held()
    return replayed


@partnership_task(name="tenant_apps.audit.jobs.refusals_summarise")
def refusals_summarise(*, schema_name: str, tally_id: int) -> None:
    """When a refusal tally's window has closed: its one ``access.refusals_suppressed`` event."""
    from tenant_apps.audit.services import audit_refusals_summarise

    audit_refusals_summarise(tally_id=tally_id)


@app.periodic(cron=settings.AUDIT_ANCHOR_CRON, periodic_id="audit-chain-anchor")
@app.task(name="tenant_apps.audit.jobs.audit_chains_anchor", queue=MAINTENANCE_QUEUE)
def audit_chains_anchor(timestamp: int) -> int:
    """Anchor each active partnership's chain head in public when it has moved (a platform job)."""
    return chain.chains_anchor_all()


@partnership_task(name="tenant_apps.audit.jobs.audit_chain_verify", queue=MAINTENANCE_QUEUE)
def audit_chain_verify(*, schema_name: str) -> bool:
    """Verify one partnership's chain and record the result for its audit page."""
    with schema_context(get_public_schema_name()):
        report = chain.chain_verify(schema_name)
    if not report.ok:
        logger.error("audit chain of %s is broken: %s", schema_name, report.problem)
    return report.ok


@app.periodic(cron=settings.AUDIT_VERIFY_CRON, periodic_id="audit-chain-verify")
@app.task(name="tenant_apps.audit.jobs.audit_chains_verify", queue=MAINTENANCE_QUEUE)
def audit_chains_verify(timestamp: int) -> int:
    """Queue one verification per partnership."""
    return defer_for_every_partnership(audit_chain_verify, lock_prefix="audit-chain-verify")
