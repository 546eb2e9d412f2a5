"""Pages of cases: the list, opening one, the case (its subjects and timeline), its status."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from concord.pages import GET_POST, REFUSALS, apply_errors, posted, writers_only
from concord.paging import filter_query, requested_page
from tenant_apps.accounts.readlimits import READ, read_limited
from tenant_apps.casework import selectors, services, timeline_html
from tenant_apps.casework.forms import CaseCreateForm, CaseFilterForm, CaseStatusForm, TimelineFilterForm
from tenant_apps.casework.idempotency import create_once
from tenant_apps.casework.views.base import FORBIDDEN_PAGE, PER_PAGE
from tenant_apps.directory import selectors as directory

__all__ = ["case_create", "case_detail", "case_list", "case_status"]


@require_GET
@read_limited(READ)
def case_list(request):
    form = CaseFilterForm(request.GET, case_types=selectors.case_type_choices())
    if form.is_valid():
        cases = selectors.case_list(user=request.user, status=form.cleaned_data["status"],
                                    case_type=form.cleaned_data["case_type"])  # fmt: skip
    else:
        cases = []  # a filter not valid lists nothing
    page = requested_page(request, cases, per_page=PER_PAGE)
    context = {"form": form, "page": page, "filter_query": filter_query(request.GET), "section": "cases"}
    return render(request, "casework/cases/list.html", context)


@writers_only(FORBIDDEN_PAGE)
@GET_POST
@create_once
def case_create(request):
    user = request.user
    wanted = request.GET.get("profile", "")
    initial = {"subject_1": selectors.profile_choice(user=user, profile_id=wanted)} if wanted.isdigit() else {}
    form = CaseCreateForm(posted(request), initial=initial, case_types=selectors.case_type_choices(active_only=True),
                          teams=directory.my_teams_for_picker(user=user),
                          profiles=selectors.profile_choices(user=user))  # fmt: skip
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = services.case_create(
                user=user, request=request, case_type=data["case_type"], title=data["title"],
                summary=data["summary"], opened_on=data["opened_on"], lead_practitioner=user,
                owning_team=data["owning_team"], subjects=form.subjects(),
            )  # fmt: skip
        except REFUSALS as error:
            apply_errors(form, error, rename={"subjects": "subject_1"})
        else:
            messages.success(request, f"Case {case.reference} has been opened.")
            return redirect("casework:case-detail", case_id=case.pk)
    return render(request, "casework/cases/create.html", {"form": form, "section": "cases"})


@require_GET
@read_limited(READ)
def case_detail(request, case_id: int):
    user = request.user
    timeline_filter = TimelineFilterForm(request.GET)
    shown = selectors.case_page(user=user, case_id=case_id, kind=timeline_filter.chosen_kind(),
                                page_number=request.GET.get("page"))  # fmt: skip
    services.record_viewed(user=user, request=request, record=shown.case)
    timeline_html.render_entries(shown.page.object_list, may_edit=shown.may_edit, show_case=False)
    context = {
        "case": shown.case,
        "subjects": shown.subjects,
        "page": shown.page,
        "may_edit": shown.may_edit,
        "may_share": shown.may_share,
        "timeline_filter": timeline_filter,
        "filter_query": filter_query(request.GET),
        "section": "cases",
    }
    return render(request, "casework/cases/detail.html", context)


@writers_only(FORBIDDEN_PAGE)
@GET_POST
@read_limited(READ)
def case_status(request, case_id: int):
    case = selectors.access_case(user=request.user, case_id=case_id, edit=True, related=selectors.CASE_HEADING)
    initial = {"status": case.status, "outcome": case.outcome, "closed_on": case.closed_on, "version": case.version}
    form = CaseStatusForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.case_set_status(user=request.user, request=request, case=case, version=data["version"],
                                     status=data["status"], outcome=data["outcome"],
                                     closed_on=data["closed_on"])  # fmt: skip
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"The status of {case.reference} has been saved.")
            return redirect("casework:case-detail", case_id=case.pk)
    services.record_viewed(user=request.user, request=request, record=case, what="status form")
    return render(request, "casework/cases/status.html", {"form": form, "case": case, "section": "cases"})
