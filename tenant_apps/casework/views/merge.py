"""The page of "this is the same person as...": choose the other profile, confirm what moves, merge."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render

from concord.pages import GET_POST, REFUSALS, apply_errors, forbidden, posted, writers_only
from tenant_apps.accounts.readlimits import READ, read_limited
from tenant_apps.casework import selectors, services
from tenant_apps.casework.forms import ProfileMergeForm
from tenant_apps.casework.models import Profile
from tenant_apps.casework.views.base import FORBIDDEN_PAGE

__all__ = ["profile_merge"]

MERGE_CHOICES_SHOWN = 500


@writers_only(FORBIDDEN_PAGE)
@GET_POST
@read_limited(READ)
def profile_merge(request, profile_id: int):
    """ "This is the same person as...": choose the other profile (a likely duplicate or any other
    the user may edit), confirm what moves, and merge it into this one, which is kept."""
    user = request.user
    profile = selectors.access_profile(user=user, profile_id=profile_id)
    if not selectors.may_edit_profile(user, profile):
        return forbidden(request, FORBIDDEN_PAGE)
    likely_ids = []
    if profile.kind == Profile.Kind.PERSON:
        found = services.profile_likely_duplicates(user=user, first_name=profile.first_name,
                                                   last_name=profile.last_name, date_of_birth=profile.date_of_birth,
                                                   limit=6)  # fmt: skip
        likely_ids = [candidate.pk for candidate in found]
    choices = selectors.merge_choices(user=user, profile=profile, likely_ids=likely_ids)
    form = ProfileMergeForm(posted(request), duplicates=choices.duplicates, others=choices.others)
    shown = list(choices.others[:MERGE_CHOICES_SHOWN])
    form.fields["other"].widget.choices = [("", "Choose a profile")] + [
        (candidate.pk, form.fields["other"].label_from_instance(candidate)) for candidate in shown
    ]
    context = {"profile": profile, "form": form, "has_duplicates": choices.has_duplicates, "section": "profiles",
               "others_capped": len(shown) == MERGE_CHOICES_SHOWN}  # fmt: skip
    if request.method == "POST" and form.is_valid():
        merge = form.cleaned_data["merge"]
        if form.cleaned_data["confirm"] != str(merge.pk):
            context.update(merge=merge, summary=selectors.merge_summary(user=user, profile=merge))
            services.record_viewed(user=user, request=request, record=profile, what="merge form")
            services.record_viewed(user=user, request=request, record=merge, what="what a merge moves")
            return render(request, "casework/merge/confirm.html", context)
        try:
            services.profile_merge(user=user, request=request, keep=profile, merge=merge)
        except services.AlreadyMerged as error:  # an opposite merge won a moment ago: 409, as the API's
            apply_errors(form, error)
            return render(request, "casework/merge/choose.html", context, status=409)
        except REFUSALS as error:
            apply_errors(form, error, rename={"merge": "other"})
        else:
            messages.success(request, f"{merge.display_name} has been merged into this profile.")
            return redirect("casework:profile-detail", profile_id=profile.pk)
    services.record_viewed(user=user, request=request, record=profile, what="merge form")
    return render(request, "casework/merge/choose.html", context, status=400 if form.errors else 200)
