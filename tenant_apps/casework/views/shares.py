"""Pages of sharing: who else may see a case or a profile, granting and revoking access.

Who may share, and how far, is ``selectors.sharing_rights`` (the owners, admins and
re-sharers); anyone else who may see the record gets the 403 page (a record they cannot see is
a 404), and the services check again.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from concord.pages import GET_POST, REFUSALS, apply_errors, forbidden, posted, writers_only
from tenant_apps.accounts.readlimits import READ, read_limited
from tenant_apps.casework import selectors, services
from tenant_apps.casework.forms import ShareForm, sharing_terms
from tenant_apps.casework.views.base import FORBIDDEN_PAGE
from tenant_apps.directory import selectors as directory

__all__ = ["case_sharing", "profile_sharing", "profile_sharing_revoke", "share_revoke"]

SHARE_ERROR_FIELDS = {"grantee": "team", "can_edit": "access", "can_share": "share_on"}  # service -> share form


def _share_form(request, rights) -> ShareForm:
    return ShareForm(posted(request), teams=directory.teams_for_picker(), agencies=directory.agencies_for_picker(),
                     users=directory.people_for_picker(), rights=rights)  # fmt: skip


def _shares_with_revoke_urls(record, revoke_view: str, user, rights, **record_kwargs) -> list:
    """A case's or a profile's shares, oldest first, each with the address that revokes it (None
    for those the user may not revoke: ``SharingRights.may_revoke``)."""
    shares = list(selectors.shares_of(record))
    for share in shares:
        share.revoke_url = (
            reverse(revoke_view, kwargs={**record_kwargs, "share_id": share.pk})
            if rights.may_revoke(user, share)
            else None
        )
    return shares


def _sharing(request, record, *, done: str, revoke_view: str, template: str, context: dict, **record_kwargs):
    """The sharing page of a case or a profile: the form (a POST grants a share) and the shares."""
    rights = selectors.sharing_rights(request.user, record)
    if not rights.may_share:
        return forbidden(request, FORBIDDEN_PAGE)
    form = _share_form(request, rights)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        record_type = "case" if "case_id" in record_kwargs else "profile"
        try:
            services.share_grant(user=request.user, request=request, **{record_type: record}, team=data["team"],
                                 agency=data["agency"], grantee=data["grantee"], **sharing_terms(form))  # fmt: skip
        except REFUSALS as error:
            apply_errors(form, error, rename=SHARE_ERROR_FIELDS)
        else:
            messages.success(request, done)
            return redirect(request.path)
    shares = _shares_with_revoke_urls(record, revoke_view, request.user, rights, **record_kwargs)
    services.record_viewed(user=request.user, request=request, record=record, what="sharing")
    return render(request, template, {**context, "form": form, "shares": shares})


@writers_only(FORBIDDEN_PAGE)
@GET_POST
@read_limited(READ)
def case_sharing(request, case_id: int):
    """Who else may see the case."""
    case = selectors.access_case(user=request.user, case_id=case_id, related=selectors.CASE_HEADING)
    return _sharing(request, case, done=f"{case.reference} has been shared.", revoke_view="casework:share-revoke",
                    template="casework/shares/case.html", context={"case": case, "section": "cases"},
                    case_id=case.pk)  # fmt: skip


@writers_only(FORBIDDEN_PAGE)
@GET_POST
@read_limited(READ)
def profile_sharing(request, profile_id: int):
    """Who else may see the profile."""
    profile = selectors.access_profile(user=request.user, profile_id=profile_id)
    return _sharing(request, profile, done=f"{profile.display_name} has been shared.",
                    revoke_view="casework:profile-sharing-revoke", template="casework/shares/profile.html",
                    context={"profile": profile, "section": "profiles"}, profile_id=profile.pk)  # fmt: skip


def _revoke(request, record, share_id: int):
    share = selectors.access_share(record=record, share_id=share_id)
    services.share_revoke(user=request.user, request=request, share=share)
    messages.success(request, "That access has been removed.")


@writers_only(FORBIDDEN_PAGE)
@require_POST
def share_revoke(request, case_id: int, share_id: int):
    case = selectors.access_case(user=request.user, case_id=case_id)
    _revoke(request, case, share_id)
    return redirect("casework:case-sharing", case_id=case.pk)


@writers_only(FORBIDDEN_PAGE)
@require_POST
def profile_sharing_revoke(request, profile_id: int, share_id: int):
    profile = selectors.access_profile(user=request.user, profile_id=profile_id)
    _revoke(request, profile, share_id)
    return redirect("casework:profile-sharing", profile_id=profile.pk)
