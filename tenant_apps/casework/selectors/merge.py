"""Reads of "this is the same person as...": which profiles may be merged into one, and what moves."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from tenant_apps.casework.models import Profile, ProfileAlias
from tenant_apps.casework.selectors.families import family_memberships_of
from tenant_apps.casework.selectors.profiles import case_roles_of
from tenant_apps.casework.selectors.scope import profiles_visible_to
from tenant_apps.casework.selectors.timeline import timeline_for_profile

__all__ = ["MergeChoices", "merge_choices", "merge_summary"]

MERGE_DETAILS = ("addresses", "identifiers", "warnings", "vulnerabilities")


@dataclass(frozen=True)
class MergeChoices:
    duplicates: QuerySet[Profile]  # likely matches the user may edit
    others: QuerySet[Profile]  # every other profile of the same kind the user may edit
    has_duplicates: bool


def merge_choices(*, user, profile: Profile, likely_ids) -> MergeChoices:
    """What may be merged into ``profile``: the profiles of its kind the user may edit, and of
    those the likely duplicates (``likely_ids``, from ``services.profile_likely_duplicates``)."""
    editable = profiles_visible_to(user, edit=True).filter(kind=profile.kind).exclude(pk=profile.pk)
    duplicate_ids = [pk for pk in likely_ids if pk != profile.pk]
    order = ("last_name", "first_name", "name", "pk")
    return MergeChoices(
        duplicates=editable.filter(pk__in=duplicate_ids).order_by(*order),
        others=editable.order_by(*order),
        has_duplicates=bool(duplicate_ids),
    )


def merge_summary(*, user, profile: Profile) -> dict:
    """What moves when ``profile`` is merged away: what the user can see of it."""
    aliases = list(ProfileAlias.objects.filter(profile=profile).order_by("name").values_list("name", flat=True))
    return {
        "roles": case_roles_of(user=user, profile=profile),
        "families": family_memberships_of(user=user, profile=profile),
        "entries": timeline_for_profile(user=user, profile=profile).count(),
        "aliases": aliases,
        "details": sum(getattr(profile, name).count() for name in MERGE_DETAILS),
    }
