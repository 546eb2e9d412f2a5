"""Reads of profiles, always through the user: what they may see is decided in the query.

``access_profile`` gives the same 404 for "does not exist" and "not yours", so ids are no
oracle. Counts, searches, lists, exports and the API all start from ``profiles_visible_to``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet, prefetch_related_objects
from django.http import Http404

from tenant_apps.casework.models import CaseSubject, FamilyMember, Profile, Share
from tenant_apps.casework.selectors.details import with_details
from tenant_apps.casework.selectors.documents import attach_documents, profile_photo_url
from tenant_apps.casework.selectors.families import family_memberships_of
from tenant_apps.casework.selectors.scope import (
    NOT_VISIBLE,
    cases_visible_to,
    grantee_q,
    may_edit_record,
    owned,
    profiles_visible_to,
    user_scope,
    visible,
    whole_ids,
)
from tenant_apps.casework.selectors.shares import sharing_rights
from tenant_apps.casework.selectors.timeline import PER_PAGE, timeline_for_profile

__all__ = [
    "ProfilePage",
    "access_profile",
    "case_roles_of",
    "may_edit_profile",
    "openable_profile_ids",
    "profile_choice",
    "profile_choices",
    "profile_list",
    "profile_page",
    "profiles_hidden_from",
    "profiles_named",
    "with_owners",
]


def access_profile(*, user, profile_id, edit: bool = False) -> Profile:
    profile = profiles_visible_to(user, edit=edit).filter(pk=profile_id).first() if str(profile_id).isdigit() else None
    if profile is None:
        raise Http404("No such profile")
    return profile


def may_edit_profile(user, profile: Profile) -> bool:
    """Whether ``profiles_visible_to(user, edit=True)`` holds this (visible) profile."""
    return profile.merged_into_id is None and may_edit_record(user, profile, field="profile_id")


def openable_profile_ids(user, profiles) -> set[int]:
    """Which of these profiles (already read) ``profiles_visible_to(user)`` holds: one query at
    most, for the shares of those the user's team or agency does not own."""
    scope = user_scope(user)
    live = [profile for profile in profiles if profile.merged_into_id is None]
    if scope.sees_everything:
        return {profile.pk for profile in live}
    openable = {profile.pk for profile in live if owned(scope, profile)}
    others = [profile.pk for profile in live if profile.pk not in openable]
    if others:
        shared = Share.objects.filter(grantee_q(scope), profile_id__in=others).values_list("profile_id", flat=True)
        openable.update(shared)
    return openable


def profiles_hidden_from(user, profile_ids) -> dict[str, str]:
    """Of these profile ids, those ``user`` may not see (merged ones judged as they were), with why."""
    ids = whole_ids(profile_ids)
    seen = set(
        visible(Profile, user_scope(user), field="profile", edit=False).filter(pk__in=ids).values_list("pk", flat=True)
    )
    return {str(pk): NOT_VISIBLE for pk in ids if pk not in seen}


def profile_list(*, user, kind: str = "") -> QuerySet[Profile]:
    """The profiles a list shows (of ``kind``, if given), with their owners, in their order."""
    profiles = profiles_visible_to(user).select_related("owning_team__agency", "owning_agency")
    if kind:
        profiles = profiles.filter(kind=kind)
    return profiles.order_by(*Profile._meta.ordering, "pk")


def profile_choices(*, user) -> QuerySet[Profile]:
    """The profiles a picker offers (the subjects of a new case): every visible one, by name."""
    return profiles_visible_to(user).order_by("last_name", "first_name", "name", "pk")


def profile_choice(*, user, profile_id) -> Profile | None:
    """One profile named in input, if the user may see it (None otherwise: the service says why)."""
    return profiles_visible_to(user).filter(pk=profile_id).first() if str(profile_id).isdigit() else None


def profiles_named(*, user, ids, field: str) -> list[Profile]:
    """Profiles named by id in input, in that order: all visible to the user, or a
    ``ValidationError`` on ``field`` (the same for missing and not yours)."""
    found = profiles_visible_to(user).in_bulk(set(ids))
    if len(found) != len(set(ids)):
        raise ValidationError({field: ["Unknown profile."]})
    return [found[i] for i in ids]


def case_roles_of(*, user, profile: Profile) -> QuerySet[CaseSubject]:
    """The profile's roles on cases the user may see, newest case first."""
    return (
        CaseSubject.objects.filter(profile=profile, case__in=cases_visible_to(user))
        .select_related("case__case_type")
        .order_by("-case__opened_on", "-case_id")
    )


@dataclass(frozen=True)
class ProfilePage:
    """What the profile page shows (``profile_page``)."""

    profile: Profile  # with its details read
    roles: QuerySet[CaseSubject]
    families: QuerySet[FamilyMember]
    page: Page  # of its timeline, each entry with ``attachments``
    may_edit: bool
    may_share: bool
    photo_url: str | None


def profile_page(*, user, profile: Profile, kind: str = "", page_number=None) -> ProfilePage:
    """The profile page of a profile fetched with ``access_profile``: its details, its cases, its
    families and one page of its timeline (of ``kind``, if given)."""
    timeline = timeline_for_profile(user=user, profile=profile, kind=kind)
    page = Paginator(timeline, PER_PAGE).get_page(page_number)
    attach_documents(page.object_list)
    return ProfilePage(
        profile=with_details(profile),
        roles=case_roles_of(user=user, profile=profile),
        families=family_memberships_of(user=user, profile=profile),
        page=page,
        may_edit=may_edit_profile(user, profile),  # what the page offers
        may_share=sharing_rights(user, profile).may_share,
        photo_url=profile_photo_url(profile),
    )


def with_owners(profiles) -> list[Profile]:
    """These profiles (read), with their owning agency and team: two queries for all of them."""
    profiles = list(profiles)
    prefetch_related_objects(profiles, "owning_agency", "owning_team")
    return profiles
