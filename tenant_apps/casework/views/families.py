"""Pages of families: list, detail, create, add and remove members.

Who sees and changes a family is in ``selectors/families.py`` / ``services/families.py``: its
owning team and agency. A member whose profile the user may not see is never named: the
detail page says how many such members there are.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from concord.pages import GET_POST, REFUSALS, apply_errors, posted, writers_only
from concord.paging import requested_page
from tenant_apps.accounts.readlimits import READ, read_limited
from tenant_apps.casework import selectors, services
from tenant_apps.casework.forms import AddMemberForm, FamilyCreateForm, VersionForm
from tenant_apps.casework.idempotency import create_once
from tenant_apps.casework.views.base import FORBIDDEN_PAGE, PER_PAGE
from tenant_apps.directory import selectors as directory

__all__ = ["family_add_member", "family_create", "family_detail", "family_list", "family_remove_member"]


@require_GET
@read_limited(READ)
def family_list(request):
    page = requested_page(request, selectors.family_list(user=request.user), per_page=PER_PAGE)
    context = {"page": page, "may_create": not request.user.is_read_only, "section": "profiles"}
    return render(request, "casework/families/list.html", context)


@writers_only(FORBIDDEN_PAGE)
@GET_POST
@create_once
def family_create(request):
    form = FamilyCreateForm(posted(request), teams=directory.my_teams_for_picker(user=request.user))
    if request.method == "POST" and form.is_valid():
        try:
            family = services.family_create(user=request.user, request=request, name=form.cleaned_data["name"],
                                            owning_team=form.cleaned_data["owning_team"])  # fmt: skip
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{family.name} has been created.")
            return redirect("casework:family-detail", family_id=family.pk)
    return render(request, "casework/families/create.html", {"form": form, "section": "profiles"})


@require_GET
@read_limited(READ)
def family_detail(request, family_id: int):
    family = selectors.access_family(user=request.user, family_id=family_id)
    members = selectors.members_of(user=request.user, family=family)
    may_edit = selectors.may_edit_family(request.user, family)
    context = {"family": family, "members": members, "may_edit": may_edit, "section": "profiles"}
    services.record_viewed(user=request.user, request=request, record=family)
    return render(request, "casework/families/detail.html", context)


@writers_only(FORBIDDEN_PAGE)
@GET_POST
@read_limited(READ)
def family_add_member(request, family_id: int):
    user = request.user
    family = selectors.access_family(user=user, family_id=family_id, edit=True)
    data = posted(request)
    form = AddMemberForm(data, profiles=selectors.profiles_visible_to(user, edit=True),
                         initial={"version": family.version, "q": request.GET.get("q", "")})  # fmt: skip
    query = (request.POST.get("q") if data is not None else request.GET.get("q", "")) or ""
    candidates = selectors.member_candidates(user=user, query=query)
    if request.method == "POST" and form.is_valid():
        try:
            services.family_add_member(
                user=user, request=request, family=family, profile=form.cleaned_data["profile"],
                relationship=form.cleaned_data["relationship"], version=form.cleaned_data["version"],
            )  # fmt: skip
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{form.cleaned_data['profile'].display_name} has been added to {family.name}.")
            return redirect("casework:family-detail", family_id=family.pk)
    chosen = form["profile"].value() if data is not None else None
    context = {"family": family, "form": form, "query": query, "candidates": candidates,
               "chosen": str(chosen or ""), "section": "profiles"}  # fmt: skip
    services.record_viewed(user=user, request=request, record=family, what="add member form")
    return render(request, "casework/families/add_member.html", context)


@writers_only(FORBIDDEN_PAGE)
@require_POST
def family_remove_member(request, family_id: int, member_id: int):
    user = request.user
    family = selectors.access_family(user=user, family_id=family_id, edit=True)
    member = selectors.access_member(user=user, family=family, member_id=member_id)
    form = VersionForm(request.POST)
    try:
        services.family_remove_member(
            user=user, request=request, member=member, version=form.cleaned_data["version"] if form.is_valid() else -1
        )
    except services.ChangedSinceOpened as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{member.profile.display_name} has been removed from {family.name}.")
    return redirect("casework:family-detail", family_id=family.pk)
