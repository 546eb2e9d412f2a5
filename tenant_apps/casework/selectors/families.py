"""Reads of families, always through the user.

Who sees a family (decided in the query, like profiles):

- Its owning team and agency (``Family`` has the same owned fields as a profile),
  and partnership admins only if the partnership chooses
  (``CaseworkSettings.admins_see_everything``). Families are never shared: a share
  of a member's profile does not reveal the family, and a user who sees a member
  does not thereby see the family.
- Editing a family (adding or removing members) takes the owning team or agency
  and a role that writes; admins who see everything still do not edit.

Members are listed only if the user may see their profile too; the others are
counted ("1 other member you cannot see"), never named, so a family never
reveals a profile the user could not open.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404

from tenant_apps.casework.models import Family, FamilyMember
from tenant_apps.casework.selectors.profiles import profiles_visible_to
from tenant_apps.casework.selectors.scope import NOT_VISIBLE, owner_q, user_scope

__all__ = ["Members", "access_family", "families_hidden_from", "families_visible_to", "members_of"]


def families_visible_to(user, *, edit: bool = False) -> QuerySet[Family]:
    scope = user_scope(user)
    if edit and scope.read_only:
        return Family.objects.none()
    if scope.sees_everything and not edit:
        return Family.objects.all()
    return Family.objects.filter(owner_q(scope))


def access_family(*, user, family_id, edit: bool = False) -> Family:
    """The same 404 for "does not exist" and "not yours"."""
    family = families_visible_to(user, edit=edit).filter(pk=family_id).first() if str(family_id).isdigit() else None
    if family is None:
        raise Http404("No such family")
    return family


@dataclass(frozen=True)
class Members:
    visible: list[FamilyMember]
    hidden_count: int


def members_of(*, user, family: Family) -> Members:
    """The family's members whose profiles the user may see, and how many others there are."""
    visible_profile = Exists(profiles_visible_to(user).filter(pk=OuterRef("profile_id")))
    members = FamilyMember.objects.filter(family=family)
    visible = list(
        members.filter(visible_profile)
        .select_related("profile")
        .order_by("profile__last_name", "profile__first_name", "profile__name", "pk")
    )
    hidden = members.filter(~visible_profile).count()  # counted, never loaded
    return Members(visible=visible, hidden_count=hidden)


def families_hidden_from(user, family_ids) -> dict[str, str]:
    """Of these family ids, those ``user`` may not see (missing ones too), with why: the audit
    trail's rule for family events (``casework.audit``)."""
    ids = [int(value) for value in family_ids if str(value).isdigit()]
    seen = set(families_visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
    return {str(value): NOT_VISIBLE for value in family_ids if not str(value).isdigit() or int(value) not in seen}
