"""The gallery: the caseload (open and on-hold cases) as faces, one card per subject of each visible case."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from tenant_apps.casework.models import Case, CaseSubject, TimelineEntry
from tenant_apps.casework.selectors.documents import latest_photo_id
from tenant_apps.casework.selectors.scope import cases_visible_to, profiles_visible_to

__all__ = ["gallery_cards"]

CONTACT_KINDS = [
    TimelineEntry.Kind.CONTACT,
    TimelineEntry.Kind.VISIT,
    TimelineEntry.Kind.PHONE_CALL,
    TimelineEntry.Kind.MEETING,
]


def gallery_cards(*, user, team=None, case_type=None, valid: bool = True) -> QuerySet[CaseSubject]:
    """The cards (subjects of visible open and on-hold cases, of ``team`` and ``case_type`` if
    given; none if the filter was not ``valid``), each with ``last_contact``, ``profile_visible``
    and ``photo_document_id`` annotated, by name."""
    cases = cases_visible_to(user).exclude(status=Case.Status.CLOSED)
    if not valid:
        cases = cases.none()
    if team:
        cases = cases.filter(owning_team=team)
    if case_type:
        cases = cases.filter(case_type=case_type)
    last_contact = (
        TimelineEntry.objects.filter(case_id=OuterRef("case_id"), deleted_at__isnull=True, kind__in=CONTACT_KINDS)
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    visible = profiles_visible_to(user).filter(pk=OuterRef("profile_id"))
    return (
        CaseSubject.objects.filter(case__in=cases)
        .select_related("profile", "case")
        .annotate(
            last_contact=Subquery(last_contact),
            profile_visible=Exists(visible),
            photo_document_id=Subquery(latest_photo_id(OuterRef("profile_id"))),
        )  # fmt: skip
        .order_by("profile__last_name", "profile__first_name", "profile__name", "case_id", "pk")
    )
