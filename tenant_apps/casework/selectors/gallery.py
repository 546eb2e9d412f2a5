"""The gallery: the caseload (open and on-hold cases) as faces, one card per person.

A person is on the gallery when they are a subject of an open or on-hold case the user may see
(of the chosen team and case type). Their card lists those cases (never a case the user may not
see, even when the person is visible through another), and, when the profile itself is visible
to the user, their current photo and warning markers. The last contact is the newest contact,
visit, phone call or meeting on any case of theirs the user may see, or about them on no case.
"""

from __future__ import annotations

from django.db.models import Case as SqlCase
from django.db.models import Exists, F, OuterRef, QuerySet, Subquery, When
from django.db.models.functions import Greatest

from tenant_apps.casework.models import Case, CaseSubject, Profile, TimelineEntry, WarningMarker
from tenant_apps.casework.selectors.documents import latest_photo_id, profile_photo_url
from tenant_apps.casework.selectors.scope import cases_visible_to, profiles_visible_to

__all__ = ["GALLERY_SORTS", "gallery_cards", "gallery_cards_fill"]

CONTACT_KINDS = [
    TimelineEntry.Kind.CONTACT,
    TimelineEntry.Kind.VISIT,
    TimelineEntry.Kind.PHONE_CALL,
    TimelineEntry.Kind.MEETING,
]

# The orders the gallery offers (the first is the default): value, label, ordering.
GALLERY_SORTS = {
    "last_contact": ("Last contact, latest first",
                     (F("last_contact").desc(nulls_last=True), "last_name", "first_name", "name", "pk")),
    "name": ("Name", ("last_name", "first_name", "name", "pk")),
}  # fmt: skip


def _caseload(user, *, team=None, case_type=None, valid: bool = True) -> QuerySet[Case]:
    cases = cases_visible_to(user).exclude(status=Case.Status.CLOSED)
    if not valid:
        return cases.none()
    if team:
        cases = cases.filter(owning_team=team)
    if case_type:
        cases = cases.filter(case_type=case_type)
    return cases


def gallery_cards(
    *, user, team=None, case_type=None, sort: str = "last_contact", valid: bool = True
) -> QuerySet[Profile]:
    """The people on the caseload (subjects of visible open and on-hold cases, of ``team`` and
    ``case_type`` if given; none if the filter was not ``valid``), once each, with
    ``last_contact``, ``profile_visible`` and ``photo_document_id`` annotated, in ``sort`` order
    (a key of ``GALLERY_SORTS``). Fill a page of them with ``gallery_cards_fill``."""
    caseload = _caseload(user, team=team, case_type=case_type, valid=valid)
    visible = profiles_visible_to(user).filter(pk=OuterRef("pk"))
    contacts = TimelineEntry.objects.filter(deleted_at__isnull=True, kind__in=CONTACT_KINDS).order_by("-occurred_at")
    their_cases = cases_visible_to(user).filter(subjects__profile_id=OuterRef(OuterRef("pk"))).values("pk")
    on_their_cases = contacts.filter(case_id__in=their_cases).values("occurred_at")[:1]
    # Entries about them on no case count only where the profile is theirs to see.
    about_them = contacts.filter(case__isnull=True, profiles=OuterRef("pk")).values("occurred_at")[:1]
    last_contact = Greatest(Subquery(on_their_cases),
                            SqlCase(When(Exists(visible), then=Subquery(about_them)), default=None))  # fmt: skip
    ordering = GALLERY_SORTS.get(sort, GALLERY_SORTS["last_contact"])[1]
    return (
        Profile.objects.filter(Exists(CaseSubject.objects.filter(profile_id=OuterRef("pk"), case__in=caseload)))
        .annotate(
            profile_visible=Exists(visible),
            last_contact=last_contact,
            photo_document_id=Subquery(latest_photo_id(OuterRef("pk"))),
        )
        .order_by(*ordering)
    )


def gallery_cards_fill(*, user, cards, team=None, case_type=None) -> None:
    """Set on each card of a page (profiles from ``gallery_cards``, with the same filter):
    ``listed_cases`` (their cases on the caseload, by reference), ``listed_warnings`` and
    ``photo_url`` (none unless the profile is visible: the image view would refuse it). Two
    queries for the page, whatever it holds."""
    cards = list(cards)
    by_id = {card.pk: card for card in cards}
    for card in cards:
        card.listed_cases, card.listed_warnings = [], []
        if not card.profile_visible:
            card.photo_document_id = None
        card.photo_url = profile_photo_url(card)
    if not by_id:
        return
    subjects = (
        CaseSubject.objects.filter(profile_id__in=by_id, case__in=_caseload(user, team=team, case_type=case_type))
        .select_related("case")
        .order_by("case__reference", "case_id", "pk")
    )
    seen = set()
    for subject in subjects:
        if (subject.profile_id, subject.case_id) not in seen:
            seen.add((subject.profile_id, subject.case_id))
            by_id[subject.profile_id].listed_cases.append(subject.case)
    shown = [pk for pk, card in by_id.items() if card.profile_visible]
    if shown:
        for marker in WarningMarker.objects.filter(profile_id__in=shown).order_by("kind", "pk"):
            by_id[marker.profile_id].listed_warnings.append(marker)
