"""Merging two profiles of one person: both locked in the order of their ids before deciding."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tenant_apps.audit.services import audit_record
from tenant_apps.casework.models import Profile, ProfileAlias
from tenant_apps.casework.selectors import profiles_visible_to
from tenant_apps.casework.services.base import AlreadyMerged, require_writer

__all__ = ["profile_merge"]


@transaction.atomic
def profile_merge(*, user, request=None, keep: Profile, merge: Profile) -> Profile:
    """Merge ``merge`` into ``keep``: roles, families, timeline, aliases, identifiers, addresses,
    markers and shares move over; ``merge`` stays, marked as merged, for the record."""
    require_writer(user)
    if keep.pk == merge.pk:
        raise ValidationError({"merge": ["Choose two different profiles."]})
    # Lock both rows, always in the order of their ids, before deciding anything: two opposite
    # merges (X into Y, Y into X) then queue on the same first row, and the second one reads
    # the first one's result once it commits. (``select_for_update().count()`` locks nothing:
    # Django leaves FOR UPDATE out of a count.)
    locked = list(Profile.objects.select_for_update().filter(pk__in=[keep.pk, merge.pk]).order_by("pk"))
    if any(profile.merged_into_id is not None for profile in locked):
        raise AlreadyMerged()
    if profiles_visible_to(user, edit=True).filter(pk__in=[keep.pk, merge.pk]).count() != 2:
        raise PermissionDenied("You may not edit both profiles.")
    for relation in ("case_roles", "family_memberships", "addresses", "identifiers", "warnings",
                     "vulnerabilities", "aliases", "shares"):  # fmt: skip
        getattr(merge, relation).update(profile=keep)
    for entry in merge.entries.all():
        entry.profiles.add(keep)
    if merge.display_name != keep.display_name:
        ProfileAlias.objects.create(profile=keep, name=merge.display_name)
    Profile.objects.filter(pk=merge.pk).update(merged_into=keep, version=F("version") + 1, updated_at=timezone.now())
    audit_record(action="profile.merged", request=request, actor=user, object_type="profile", object_id=keep.pk,
                 summary=f"profile {merge.pk} merged into {keep.pk}")  # fmt: skip
    return keep
