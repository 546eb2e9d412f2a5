"""Pages of a profile's details (addresses, identifiers, warning markers, vulnerabilities, other
names), built from ``DETAIL_KINDS``.

``/profiles/<id>/details/`` lists the details, each with a Remove button, and links to one small
form per kind of detail. Every form carries the profile's ``version`` as opened: a save after
someone else's is refused, nothing written. The profile is resolved with
``access_profile(edit=True)`` (the same 404 for "does not exist" and "not yours"); viewers get
the 403 page before anything is read, and the services check again.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from concord.pages import GET_POST, REFUSALS, apply_errors, posted, writers_only
from tenant_apps.accounts.readlimits import READ, read_limited
from tenant_apps.casework import selectors, services
from tenant_apps.casework.detail_kinds import DETAIL_KINDS, DetailKind
from tenant_apps.casework.forms import VersionForm
from tenant_apps.casework.views.base import FORBIDDEN_PAGE

__all__ = ["detail_add", "detail_remove", "profile_details"]


def _kind(kind: str) -> DetailKind:
    if kind not in DETAIL_KINDS:
        raise Http404("No such detail")
    return DETAIL_KINDS[kind]


@writers_only(FORBIDDEN_PAGE)
@require_GET
@read_limited(READ)
def profile_details(request, profile_id: int):
    profile = selectors.access_profile(user=request.user, profile_id=profile_id, edit=True)
    context = {"profile": selectors.with_details(profile), "kinds": list(DETAIL_KINDS), "section": "profiles",
               "may_share": selectors.sharing_rights(request.user, profile).may_share}  # fmt: skip
    services.record_viewed(user=request.user, request=request, record=profile, what="details")
    return render(request, "casework/details/list.html", context)


@writers_only(FORBIDDEN_PAGE)
@GET_POST
@read_limited(READ)
def detail_add(request, profile_id: int, kind: str):
    detail = _kind(kind)
    profile = selectors.access_profile(user=request.user, profile_id=profile_id, edit=True)
    form = detail.form_class(posted(request), initial={"version": profile.version}, **detail.form_options)
    if request.method == "POST" and form.is_valid():
        try:
            detail.add(user=request.user, request=request, profile=profile, version=form.cleaned_data["version"],
                       **form.values())  # fmt: skip
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{detail.noun} has been added.")
            return redirect("casework:profile-details", profile_id=profile.pk)
    context = {"profile": profile, "form": form, "kind": kind, "title": detail.title, "section": "profiles"}
    services.record_viewed(user=request.user, request=request, record=profile, what=f"new {kind} form")
    return render(request, "casework/details/add.html", context)


@writers_only(FORBIDDEN_PAGE)
@require_POST
def detail_remove(request, profile_id: int, kind: str, item_id: int):
    detail = _kind(kind)
    profile = selectors.access_profile(user=request.user, profile_id=profile_id, edit=True)
    if not selectors.detail_exists(profile=profile, model=detail.model, item_id=item_id):
        raise Http404("No such detail")
    form = VersionForm(request.POST)
    if not form.is_valid():
        messages.error(request, services.ChangedSinceOpened.message)
        return redirect("casework:profile-details", profile_id=profile.pk)
    try:
        detail.remove(user=request.user, request=request, profile=profile, version=form.cleaned_data["version"],
                      **{detail.remove_key: item_id})  # fmt: skip
    except services.ChangedSinceOpened as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{detail.noun} has been removed.")
    return redirect("casework:profile-details", profile_id=profile.pk)
