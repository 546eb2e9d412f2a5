"""Pages of profiles: the list, creating one (with the duplicate check), the profile and its photo, editing it."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from concord.errors import ScannerUnavailable, StorageUnavailable
from concord.pages import GET_POST, REFUSALS, apply_errors, forbidden, posted, writers_only
from concord.paging import filter_query, requested_page
from tenant_apps.accounts.readlimits import READ, read_limited
from tenant_apps.casework import selectors, services, timeline_html
from tenant_apps.casework.forms import (
    DuplicateCheckForm,
    ProfileCreateForm,
    ProfileEditForm,
    ProfileFilterForm,
    ProfilePhotoForm,
    TimelineFilterForm,
)
from tenant_apps.casework.idempotency import create_once
from tenant_apps.casework.models import Profile
from tenant_apps.casework.views.base import FORBIDDEN_PAGE, PER_PAGE
from tenant_apps.directory import selectors as directory

__all__ = ["profile_create", "profile_detail", "profile_duplicates", "profile_edit", "profile_list"]


@require_GET
@read_limited(READ)
def profile_list(request):
    form = ProfileFilterForm(request.GET)
    kind = form.cleaned_data["kind"] if form.is_valid() else ""
    profiles = selectors.profile_list(user=request.user, kind=kind)
    page = requested_page(request, profiles, per_page=PER_PAGE)
    context = {"form": form, "page": page, "filter_query": filter_query(request.GET), "section": "profiles"}
    return render(request, "casework/profiles/list.html", context)


@writers_only(FORBIDDEN_PAGE)
@GET_POST
@create_once
def profile_create(request):
    form = ProfileCreateForm(posted(request), teams=directory.my_teams_for_picker(user=request.user))
    duplicates = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        is_person = data["kind"] == Profile.Kind.PERSON
        if is_person and data["not_duplicate"] != form.duplicate_key():
            duplicates = list(
                services.profile_likely_duplicates(
                    user=request.user, first_name=data["first_name"], last_name=data["last_name"],
                    date_of_birth=data["date_of_birth"],
                )
            )  # fmt: skip
        if not duplicates:
            try:
                profile = services.profile_create(
                    user=request.user, request=request, kind=data["kind"],
                    first_name=data["first_name"] if is_person else "",
                    last_name=data["last_name"] if is_person else "",
                    name="" if is_person else data["name"], date_of_birth=data["date_of_birth"] if is_person else None,
                    gender=data["gender"] if is_person else Profile.Gender.NOT_KNOWN,
                    owning_team=data["owning_team"], aliases=form.alias_list(),
                )  # fmt: skip
            except REFUSALS as error:
                apply_errors(form, error)
            else:
                messages.success(request, f"The profile of {profile.display_name} has been created.")
                return redirect("casework:profile-detail", profile_id=profile.pk)
        else:
            # Ask once; the confirmation is for these names and this date of birth only.
            form.data = form.data.copy()
            form.data["not_duplicate"] = form.duplicate_key()
    context = {"form": form, "duplicates": duplicates, "section": "profiles"}
    return render(request, "casework/profiles/create.html", context)


@GET_POST
@read_limited(READ)
def profile_detail(request, profile_id: int):
    """The profile; a POST uploads a new photo (editors of the profile only; the newest is shown)."""
    user = request.user
    profile = selectors.access_profile(user=user, profile_id=profile_id)
    photo_form = ProfilePhotoForm(request.POST, request.FILES) if request.method == "POST" else ProfilePhotoForm()
    if request.method == "POST":
        if user.is_read_only or not selectors.may_edit_profile(user, profile):  # a change
            return forbidden(request, FORBIDDEN_PAGE)
        if photo_form.is_valid():
            try:
                services.profile_photo_add(user=user, request=request, profile=profile,
                                           file=photo_form.cleaned_data["photo"])  # fmt: skip
            except REFUSALS as error:  # storage or the scanner down: on the photo, which was not stored
                on_photo = {StorageUnavailable.code: "photo", ScannerUnavailable.code: "photo"}
                apply_errors(photo_form, error, rename=on_photo)
            else:
                messages.success(request, f"The photo of {profile.display_name} has been saved.")
                return redirect("casework:profile-detail", profile_id=profile.pk)
    services.record_viewed(user=user, request=request, record=profile)
    timeline_filter = TimelineFilterForm(request.GET)
    shown = selectors.profile_page(user=user, profile=profile, kind=timeline_filter.chosen_kind(),
                                   page_number=request.GET.get("page"))  # fmt: skip
    timeline_html.render_entries(shown.page.object_list, may_edit=False, show_case=True)
    context = {
        "profile": shown.profile,
        "roles": shown.roles,
        "families": shown.families,
        "page": shown.page,
        "may_edit": shown.may_edit,  # what the page offers
        "may_share": shown.may_share,
        "photo_url": shown.photo_url,
        "photo_form": photo_form,
        "timeline_filter": timeline_filter,
        "filter_query": filter_query(request.GET),
        "section": "profiles",
    }
    status = 400 if photo_form.errors else 200
    return render(request, "casework/profiles/detail.html", context, status=status)


@writers_only(FORBIDDEN_PAGE)
@GET_POST
@read_limited(READ)
def profile_edit(request, profile_id: int):
    profile = selectors.access_profile(user=request.user, profile_id=profile_id, edit=True)
    initial = {name: getattr(profile, name) for name in ("first_name", "last_name", "name", "date_of_birth",
                                                          "gender", "phone", "notes", "version")}  # fmt: skip
    form = ProfileEditForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_update(user=request.user, request=request, profile=profile,
                                    version=form.cleaned_data["version"], **form.changes(profile))  # fmt: skip
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, "The profile has been saved.")
            return redirect("casework:profile-detail", profile_id=profile.pk)
    services.record_viewed(user=request.user, request=request, record=profile, what="edit form")
    return render(request, "casework/profiles/edit.html", {"form": form, "profile": profile, "section": "profiles"})


@require_POST
@writers_only(FORBIDDEN_PAGE)
def profile_duplicates(request):
    """The "may already have a profile" fragment for the create form, fetched by htmx as the
    user leaves a name or the date of birth. POST only: names are personal data and never go
    in a URL (nor its logs). Lists only profiles the user may see."""
    wanted = DuplicateCheckForm(request.POST).wanted()
    duplicates = list(services.profile_likely_duplicates(user=request.user, **wanted)) if wanted else []
    return render(request, "casework/profiles/_duplicates.html", {"duplicates": duplicates})
