"""Reads of case types: the admin's list and one type by id, and what a case's type offers to a
new entry. The admin's reads refuse anyone but a partnership admin (fail closed)."""

from __future__ import annotations

from django.db.models import Count, QuerySet
from django.http import Http404

from tenant_apps.casework.models import Case, CaseType, TimelineEntry
from tenant_apps.directory.selectors import require_admin

__all__ = ["access_case_type", "case_type_catalogue", "case_type_list", "entry_kinds_offered"]


def case_type_list(*, user) -> QuerySet[CaseType]:
    """Every case type (in use first, then retired, each by name) with its default team and
    ``case_count``: one query, whatever the number of types and cases."""
    require_admin(user)
    return (
        CaseType.objects.select_related("default_team__agency")
        .annotate(case_count=Count("cases"))
        .order_by("-is_active", "name")
    )


def case_type_catalogue() -> QuerySet[CaseType]:
    """Every case type with its default team, in use first then by name: what the API lists to
    anyone signed in (a type holds nothing about people)."""
    return CaseType.objects.select_related("default_team").order_by("-is_active", "name", "pk")


def access_case_type(*, user, case_type_id) -> CaseType:
    """One case type of the current partnership (its schema only), for its admin: 404 otherwise."""
    require_admin(user)
    if not str(case_type_id).isdigit():
        raise Http404("No such case type")
    case_type = CaseType.objects.select_related("default_team__agency").filter(pk=case_type_id).first()
    if case_type is None:
        raise Http404("No such case type")
    return case_type


def entry_kinds_offered(*, case: Case | None = None, case_id: int | None = None, keep: str = "") -> list[str] | None:
    """The kinds a new entry on a case may be, in the usual order, and ``keep`` (the kind of an
    entry being edited, still offered it when its type no longer offers it); ``None`` for an entry
    on no case (a profile's entries may be of any kind). ``case`` with its type loaded
    (``CASE_HEADING``: no query), or ``case_id`` (one query)."""
    if case is not None:
        offered = case.case_type.timeline_kinds
    elif case_id is not None:
        offered = CaseType.objects.filter(cases=case_id).values_list("timeline_kinds", flat=True).first() or []
    else:
        return None
    wanted = set(offered) | ({keep} if keep else set())
    return [kind for kind in TimelineEntry.Kind.values if kind in wanted]
