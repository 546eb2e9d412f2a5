"""Reads of cases, always through the user: what they may see is decided in the query.

``access_case`` gives the same 404 for "does not exist" and "not yours".
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from tenant_apps.casework.models import Case
from tenant_apps.casework.selectors.scope import NOT_VISIBLE, may_edit_record, user_scope, visible, whole_ids

__all__ = ["access_case", "cases_hidden_from", "cases_visible_to", "may_edit_case"]


def cases_visible_to(user, *, edit: bool = False) -> QuerySet[Case]:
    return visible(Case, user_scope(user), field="case", edit=edit)


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
