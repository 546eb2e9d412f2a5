"""Reads of profiles, always through the user: what they may see is decided in the query.

``access_profile`` gives the same 404 for "does not exist" and "not yours", so ids are no
oracle. Counts, searches, lists, exports and the API all start from ``profiles_visible_to``.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from tenant_apps.casework.models import Profile, Share
from tenant_apps.casework.selectors.scope import (
    NOT_VISIBLE,
    grantee_q,
    may_edit_record,
    owned,
    user_scope,
    visible,
    whole_ids,
)

__all__ = ["access_profile", "may_edit_profile", "openable_profile_ids", "profiles_hidden_from", "profiles_visible_to"]


def profiles_visible_to(user, *, edit: bool = False) -> QuerySet[Profile]:
    """Profiles the user may see (or edit), merged ones excluded."""
    return visible(Profile, user_scope(user), field="profile", edit=edit).filter(merged_into__isnull=True)


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
