"""Pages of case types, in the partnership admin area (``/admin/case-types/``): the list, adding
and changing a type, retiring it and bringing it back. Partnership admins only
(``partnership_admin_required``, the admin area's gate; the selectors and services check again)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from concord.pages import GET_POST, REFUSALS, apply_errors, posted
from tenant_apps.casework import selectors, services
from tenant_apps.casework.forms import CaseTypeEditForm, CaseTypeForm, CaseTypeVersionForm
from tenant_apps.directory import selectors as directory
from tenant_apps.directory.decorators import partnership_admin_required

__all__ = ["case_type_create", "case_type_edit", "case_type_list", "case_type_restore", "case_type_retire"]

SECTION = "case_types"


@partnership_admin_required
@require_GET
def case_type_list(request):
    case_types = selectors.case_type_list(user=request.user)
    return render(request, "casework/case_types/list.html", {"case_types": case_types, "section": SECTION})


@partnership_admin_required
@GET_POST
def case_type_create(request):
    form = CaseTypeForm(posted(request), teams=directory.teams_for_picker())
    if request.method == "POST" and form.is_valid():
        try:
            case_type = services.case_type_create(user=request.user, request=request, **form.values())
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"The case type {case_type.name} has been added.")
            return redirect("casework:case-type-list")
    context = {"form": form, "case_type": None, "section": SECTION}
    return render(request, "casework/case_types/form.html", context)


@partnership_admin_required
@GET_POST
def case_type_edit(request, case_type_id: int):
    case_type = selectors.access_case_type(user=request.user, case_type_id=case_type_id)
    form = CaseTypeEditForm(posted(request), initial=CaseTypeForm.initial_for(case_type),
                            teams=directory.teams_for_picker())  # fmt: skip
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.case_type_update(user=request.user, request=request, case_type=case_type,
                                              version=form.cleaned_data["version"], **form.values())  # fmt: skip
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"The case type {saved.name} has been saved.")
            return redirect("casework:case-type-list")
    context = {"form": form, "case_type": case_type, "section": SECTION}
    return render(request, "casework/case_types/form.html", context)


def _set_active(request, case_type_id: int, *, service, template_context: dict, done: str):
    """GET: the confirmation page. POST: do it, then back to the list with a banner."""
    case_type = selectors.access_case_type(user=request.user, case_type_id=case_type_id)
    form = CaseTypeVersionForm(posted(request), initial={"version": case_type.version})
    if request.method == "POST" and form.is_valid():
        try:
            service(user=request.user, request=request, case_type=case_type, version=form.cleaned_data["version"])
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, done.format(name=case_type.name))
            return redirect("casework:case-type-list")
    context = {"form": form, "case_type": case_type, "section": SECTION, **template_context}
    return render(request, "casework/case_types/confirm.html", context)


@partnership_admin_required
@GET_POST
def case_type_retire(request, case_type_id: int):
    return _set_active(
        request, case_type_id, service=services.case_type_retire,
        template_context={
            "title": "Retire this case type?",
            "explanation": "No new case of this type can be opened. Its cases keep their type and references, "
                           "and can still be worked and closed. You can bring the type back later.",
            "button": "Retire case type", "warning": True,
        },
        done="The case type {name} has been retired: no new cases can be opened of it.",
    )  # fmt: skip


@partnership_admin_required
@GET_POST
def case_type_restore(request, case_type_id: int):
    return _set_active(
        request, case_type_id, service=services.case_type_restore,
        template_context={
            "title": "Bring this case type back?",
            "explanation": "New cases of this type can be opened again, with its prefix, roles and kinds as they "
                           "are now.",
            "button": "Bring case type back", "warning": False,
        },
        done="The case type {name} is in use again.",
    )  # fmt: skip
