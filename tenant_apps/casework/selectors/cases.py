"""Reads of cases, always through the user: what they may see is decided in the query.

``access_case`` gives the same 404 for "does not exist" and "not yours".
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page
from django.db.models import QuerySet
from django.http import Http404

from concord.paging import CountedPaginator
from tenant_apps.casework.models import Case, CaseSubject, CaseType
from tenant_apps.casework.selectors.documents import attach_documents
from tenant_apps.casework.selectors.profiles import openable_profile_ids
from tenant_apps.casework.selectors.scope import NOT_VISIBLE, cases_visible_to, may_edit_record, whole_ids
from tenant_apps.casework.selectors.shares import sharing_rights
from tenant_apps.casework.selectors.timeline import PER_PAGE, live_entry_count, timeline_for_case

__all__ = [
    "CASE_HEADING",
    "CasePage",
    "access_case",
    "case_detail",
    "case_list",
    "case_page",
    "case_subjects",
    "case_type_choices",
    "cases_hidden_from",
    "may_edit_case",
]

CASE_HEADING = ("case_type", "owning_team", "lead_practitioner")  # what every case page's heading shows


def access_case(*, user, case_id, edit: bool = False, related: tuple[str, ...] = ()) -> Case:
    """The case, if the user may see (edit: change) it, with ``related`` joined in the same query."""
    if not str(case_id).isdigit():
        raise Http404("No such case")
    case = cases_visible_to(user, edit=edit).select_related(*related).filter(pk=case_id).first()
    if case is None:
        raise Http404("No such case")
    return case


def may_edit_case(user, case: Case) -> bool:
    """Whether ``cases_visible_to(user, edit=True)`` holds this (visible) case."""
    return may_edit_record(user, case, field="case_id")


def cases_hidden_from(user, case_ids) -> dict[str, str]:
    """Of these case ids, those ``user`` may not see, with why."""
    ids = whole_ids(case_ids)
    seen = set(cases_visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
    return {str(pk): NOT_VISIBLE for pk in ids if pk not in seen}


def case_type_choices(*, active_only: bool = False) -> QuerySet[CaseType]:
    """The partnership's case types by name (only those still used, for a new case)."""
    types = CaseType.objects.order_by("name")
    return types.filter(is_active=True) if active_only else types


def case_list(*, user, status: str = "", case_type=None) -> QuerySet[Case]:
    """The cases a list shows (of ``status`` and ``case_type``, if given), with their owners."""
    cases = cases_visible_to(user).select_related("case_type", "owning_agency", "owning_team", "lead_practitioner")
    if status:
        cases = cases.filter(status=status)
    if case_type:
        cases = cases.filter(case_type=case_type)
    return cases


def case_subjects(*, user, case: Case) -> list[CaseSubject]:
    """The case's subjects, each marked with whether the user may open the profile itself."""
    subjects = list(case.subjects.select_related("profile").order_by("profile__last_name", "profile__first_name", "pk"))
    openable = openable_profile_ids(user, [subject.profile for subject in subjects])
    for subject in subjects:
        subject.profile_visible = subject.profile_id in openable
    return subjects


@dataclass(frozen=True)
class CasePage:
    """What the case page shows (``case_page``)."""

    case: Case  # with its type, owning team and lead practitioner
    subjects: list[CaseSubject]  # each with ``profile_visible``
    page: Page  # of its timeline, each entry with ``attachments``
    may_edit: bool
    may_share: bool


def case_page(*, user, case_id, kind: str = "", page_number=None) -> CasePage:
    """The case page: the case (404 if the user may not see it), its subjects and one page of its
    timeline (of ``kind``, if given). The same queries for 60 entries as for 2,000: the count is
    read from the partial index (``live_entry_count``), not from the annotated stream."""
    case = access_case(user=user, case_id=case_id, related=CASE_HEADING)
    timeline = timeline_for_case(user=user, case=case, kind=kind)
    page = CountedPaginator(timeline, PER_PAGE, count=live_entry_count(case, kind=kind)).get_page(page_number)
    attach_documents(page.object_list)
    return CasePage(
        case=case,
        subjects=case_subjects(user=user, case=case),
        page=page,
        may_edit=may_edit_case(user, case),
        may_share=sharing_rights(user, case).may_share,
    )


def case_detail(*, user, case_id) -> Case:
    """The case with everything the API's detail shows (``subjects_list``, ``entry_count``), in a
    fixed number of queries."""
    related = ("case_type", "owning_agency", "owning_team", "lead_practitioner")
    case = access_case(user=user, case_id=case_id, related=related)
    case.subjects_list = list(CaseSubject.objects.filter(case=case).select_related("profile").order_by("pk"))
    case.entry_count = live_entry_count(case)
    return case
