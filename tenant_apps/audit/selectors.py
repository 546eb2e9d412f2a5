"""Reading the audit trail: partnership admins only, in their own schema.

Every selector checks the user first and raises ``PermissionDenied`` for anyone
else (anonymous, practitioners, viewers, deactivated accounts): it fails closed
whatever view calls it. Events are shown only through ``audit_events_as_read``,
which hides what the records themselves hide from the reader
(``tenant_apps.audit.redaction``): the page and the CSV export alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Max, QuerySet

from tenant_apps.audit import naming, redaction
from tenant_apps.audit.models import AuditEvent, ChainVerification
from tenants.models import Partnership

UK = naming.UK
PER_PAGE = 50


def audit_may_view(user) -> bool:
    """Whether ``user`` may read the audit trail of the current schema: an active partnership admin."""
    return bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
        and getattr(user, "is_partnership_admin", False)
    )


def _require_viewer(user) -> None:
    if not audit_may_view(user):
        raise PermissionDenied("Only partnership admins can see the audit log.")


def uk_day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` in the UK (GMT or BST, whichever applied)."""
    return datetime.combine(day, time.min, tzinfo=UK)


def audit_event_list(
    *,
    user,
    actor_id: int | None = None,
    action: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEvent]:
    """The current schema's events, newest first, filtered; for partnership admins only.

    ``date_from`` and ``date_to`` are UK calendar dates and both are included:
    from 00:00 UK time on ``date_from`` to the end of ``date_to``.
    """
    _require_viewer(user)
    events = AuditEvent.objects.all()
    if actor_id is not None:
        events = events.filter(actor_id=actor_id)
    if action:
        events = events.filter(action=action)
    if date_from is not None:
        events = events.filter(occurred_at__gte=uk_day_start(date_from))
    if date_to is not None:
        events = events.filter(occurred_at__lt=uk_day_start(date_to + timedelta(days=1)))
    return events


def audit_events_as_read(*, user, events) -> list[AuditEvent]:
    """These events (a page, or a chunk of the export) as ``user`` may read them.

    A partnership admin outside a sensitive entry's named teams, or one who may not
    see the profile, case or entry an event is about, sees ``[restricted: <why>]`` in
    place of its summary and of every value in its changes; who, when, from where,
    the action, the object's type and id and the names of the changed fields stay. An
    admin in the named team (or to whom the record is visible) sees everything.

    Each event also gets, for people (``tenant_apps.audit.naming``): ``object_name`` (never a
    name of an object hidden from ``user``), ``actor_name`` and ``changed`` (only the fields
    whose values differ, old and new in words). One read per kind of object, whatever the
    number of events: the redaction rule's, then the namer's.
    """
    _require_viewer(user)
    events = list(events)
    wanted = redaction.wanted_by(events)
    for event in events:
        for object_type, ids in naming.referenced(event.object_type, event.changes).items():
            wanted[object_type] |= ids
        if event.actor_id is not None:
            wanted["user"].add(str(event.actor_id))
    hidden = redaction.hidden_objects(user=user, wanted=wanted)
    return naming.name_events(redaction.apply(events, hidden), hidden=hidden)


@dataclass(frozen=True)
class AuditEventPage:
    """One page of the audit log (``audit_event_page``): its events as the reader may read them."""

    page: Page
    page_range: list  # elided page numbers, for the pagination links


def audit_event_page(*, user, filters: dict, number) -> AuditEventPage:
    """Page ``number`` (as given in the address; out of range: the last) of the events
    ``filters`` (``AuditFilterForm.filters()``) select, newest first, redacted for ``user``."""
    paginator = Paginator(audit_event_list(user=user, **filters).select_related("actor"), PER_PAGE)
    page = paginator.get_page(number)
    page.object_list = audit_events_as_read(user=user, events=page.object_list)
    return AuditEventPage(
        page=page, page_range=list(paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1))
    )


def audit_chain_state(*, user):
    """The current schema's last chain verification (``ChainVerification``, or None if never
    verified), for the audit page: one query; the page never verifies the chain itself."""
    _require_viewer(user)
    return ChainVerification.objects.filter(pk=1).first()


def partnerships_named(schema_names) -> dict[str, str]:
    """The partnerships of the public trail's events (named by schema), by name: ``naming``'s rule."""
    return dict(Partnership.objects.filter(schema_name__in=list(schema_names)).values_list("schema_name", "name"))


def audit_actor_choices(*, user) -> list[tuple[int, str]]:
    """Everyone in the current schema who could appear as an actor (deactivated included), for the filter."""
    _require_viewer(user)
    people = get_user_model().objects.order_by("full_name", "email").values_list("id", "full_name", "email")
    return [(pk, f"{name} ({email})" if name else email) for pk, name, email in people]


# --- A user's own reads -----------------------------------------------------------------------
# Not the audit log: only the events a user caused by reading, for their own pages (the home
# dashboard's "records I opened recently" and "new replies since I last looked"). They name
# only what was read and when, never another person's events, so any signed-in user may ask.


def reads_by(*, user, actions: tuple[str, ...], limit: int) -> list[tuple[str, str, datetime]]:
    """The user's latest ``limit`` events of ``actions`` (``*.viewed``), newest first:
    (object type, object id, when). Served by the (actor, occurred_at) index."""
    events = AuditEvent.objects.filter(actor_id=user.pk, action__in=actions).order_by("-occurred_at", "-id")
    return list(events.values_list("object_type", "object_id", "occurred_at")[:limit])


def last_reads_by(*, user, action: str, object_ids, since: datetime) -> dict[str, datetime]:
    """When the user last did ``action`` (``task.viewed``) to each of ``object_ids`` since
    ``since``: {object id: time}, ids never read since then left out. One query, one pass over
    the user's events since then (the (actor, occurred_at) index), whatever the number of ids."""
    ids = [str(object_id) for object_id in object_ids]
    if not ids:
        return {}
    events = AuditEvent.objects.filter(actor_id=user.pk, action=action, object_id__in=ids, occurred_at__gte=since)
    return dict(events.values("object_id").annotate(last=Max("occurred_at")).values_list("object_id", "last"))
