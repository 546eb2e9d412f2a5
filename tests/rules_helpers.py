"""Committed casework data for tests with real concurrency (threads with their own connections).

``committed_bob`` gives Suffolk's Bob (of the session's cast) a committed agency and team, so
that other connections see what he owns; everything made for the test (profiles, cases, tasks,
idempotency keys) is removed afterwards, and his memberships with it, and so are the audit
events made during the test (the append-only trigger is bypassed for that cleanup alone, with
``session_replication_role``): other tests that look for "the" event of an action must not
find these committed ones.
"""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection, connections
from django_tenants.utils import schema_context

from tests.audit_helpers import remove_events
from tests.conftest import forget_used_codes


@pytest.fixture
def committed_bob(committed_db):
    from tenant_apps.accounts.models import User
    from tenant_apps.audit.models import AuditEvent
    from tenant_apps.directory.models import Agency, Membership, Team, TeamMembership

    suffix = uuid.uuid4().hex[:8]
    with schema_context("suffolk"):
        first_event = (AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        bob = User.objects.get(email="bob@suffolk.test")
        agency = Agency.objects.create(name=f"Race council {suffix}", kind="council")
        team = Team.objects.create(agency=agency, name=f"Race team {suffix}")
        Membership.objects.create(user=bob, agency=agency)
        TeamMembership.objects.create(user=bob, team=team)
    try:
        yield {"bob": bob, "agency": agency, "team": team, "suffix": suffix}
    finally:
        try:
            _remove_committed(bob, agency, team)
        finally:
            _remove_audit_events(first_event)
        forget_used_codes()
        connection.set_schema_to_public()


def _remove_committed(bob, agency, team) -> None:
    from tenant_apps.casework.models import Case, Family, Profile, Share, TimelineEntry
    from tenant_apps.directory.models import Membership, TeamMembership
    from tenant_apps.outbox.models import OutboundEmail

    with schema_context("suffolk"):
        from tenant_apps.tasks.models import Task

        Task.objects.filter(created_by=bob).delete()
        Share.objects.filter(granted_by=bob).delete()
        TimelineEntry.objects.filter(recorded_by=bob).delete()
        Case.objects.filter(owning_agency=agency).delete()
        Family.objects.filter(owning_agency=agency).delete()
        Profile.objects.filter(owning_agency=agency).update(merged_into=None)
        Profile.objects.filter(owning_agency=agency).delete()
        from tenant_apps.casework.models import IdempotencyKey

        IdempotencyKey.objects.filter(user=bob).delete()
        OutboundEmail.objects.filter(status="queued").delete()
        TeamMembership.objects.filter(user=bob, team=team).delete()
        Membership.objects.filter(user=bob, agency=agency).delete()
        team.delete()
        agency.delete()
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE status = 'todo' AND queue_name = 'mail'")


def _remove_audit_events(first_event: int) -> None:
    # The rest of the hash chain is chained again, so that a later audit_verify finds it whole.
    remove_events("suffolk", "id >= %s", [first_event])


def in_thread(target, *args, **kwargs) -> threading.Thread:
    """Run ``target`` in a thread of its own (its own database connection, closed at the end)."""

    def run():
        try:
            target(*args, **kwargs)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def wait_for_lock_waiter(timeout: float = 10.0) -> bool:
    """Whether another connection came to wait on a lock this connection holds, within ``timeout``
    (``pg_blocking_pids``: read afresh each time, unlike ``pg_stat_activity`` in a transaction)."""
    import time

    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.02)
    return False
