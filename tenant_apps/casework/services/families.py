"""Writes of families: keyword-only, validated, audited, each in one transaction.

Rules (see ``selectors/families.py`` for who sees a family):

- A family is created by a writer, owned by their agency (and a team of it).
- Members are added or removed by a writer who may edit the family (its owning
  team or agency). The profile added must be one the user may **edit**: joining a
  family attaches information to a person, so viewing them is not enough. A
  member is removed only by someone who may also see that member's profile (a
  hidden member cannot be told apart from the others, so it is not offered).
- A profile may be in several families, once in each.
- Every change bumps the family's ``version``; a caller that passes the version
  it opened gets ``ChangedSinceOpened`` if someone saved in between.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tenant_apps.audit.services import audit_record
from tenant_apps.casework.models import Family, FamilyMember, Profile
from tenant_apps.casework.selectors import families_visible_to, profiles_visible_to
from tenant_apps.casework.services.base import ChangedSinceOpened, owner_defaults, require_writer

__all__ = ["family_add_member", "family_create", "family_remove_member"]


@transaction.atomic
def family_create(*, user, request=None, name: str, owning_agency=None, owning_team=None) -> Family:
    require_writer(user)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Enter a name for the family or household."]})
    if len(name) > 200:
        raise ValidationError({"name": ["The name must be 200 characters or fewer."]})
    agency_id, team_id = owner_defaults(user, owning_agency, owning_team)
    family = Family.objects.create(name=name, owning_agency_id=agency_id, owning_team_id=team_id, created_by=user)
    audit_record(action="family.created", request=request, actor=user, object_type="family", object_id=family.pk,
                 summary=f"family {family.pk} created")  # fmt: skip
    return family


def _locked_family(user, family: Family, version: int | None) -> Family:
    editable = families_visible_to(user, edit=True).select_for_update().filter(pk=family.pk).first()
    if editable is None:
        raise PermissionDenied("You may not change this family.")
    if version is not None and editable.version != version:
        raise ChangedSinceOpened()
    return editable


def _bump(family: Family) -> None:
    Family.objects.filter(pk=family.pk).update(version=F("version") + 1, updated_at=timezone.now())


@transaction.atomic
def family_add_member(*, user, request=None, family: Family, profile: Profile | None, relationship: str,
                      version: int | None = None) -> FamilyMember:  # fmt: skip
    require_writer(user)
    editable = _locked_family(user, family, version)
    errors = {}
    if profile is None or not profiles_visible_to(user, edit=True).filter(pk=profile.pk).exists():
        errors["profile"] = ["Choose a profile you may edit."]
    elif FamilyMember.objects.filter(family=editable, profile=profile).exists():
        errors["profile"] = ["This person is already in the family."]
    if relationship not in FamilyMember.Relationship.values:
        errors["relationship"] = ["Choose their relationship to the family."]
    if errors:
        raise ValidationError(errors)
    member = FamilyMember.objects.create(family=editable, profile=profile, relationship=relationship)
    _bump(editable)
    audit_record(action="family.member_added", request=request, actor=user, object_type="family",
                 object_id=editable.pk, summary=f"profile {profile.pk} added as {relationship}")  # fmt: skip
    return member


@transaction.atomic
def family_remove_member(*, user, request=None, member: FamilyMember, version: int | None = None) -> None:
    require_writer(user)
    editable = _locked_family(user, member.family, version)
    if member.family_id != editable.pk or not profiles_visible_to(user).filter(pk=member.profile_id).exists():
        raise PermissionDenied("You may not remove this member.")
    deleted, _ = FamilyMember.objects.filter(pk=member.pk, family=editable).delete()
    if not deleted:
        raise ChangedSinceOpened()
    _bump(editable)
    audit_record(action="family.member_removed", request=request, actor=user, object_type="family",
                 object_id=editable.pk, summary=f"profile {member.profile_id} removed")  # fmt: skip
