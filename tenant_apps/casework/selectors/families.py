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

from tenant_apps.casework.models import Family, FamilyMember, Profile, normalise_name
from tenant_apps.casework.selectors.scope import NOT_VISIBLE, owner_q, profiles_visible_to, user_scope

__all__ = [
    "Members",
    "access_family",
    "access_member",
    "families_hidden_from",
    "families_visible_to",
    "family_list",
    "family_memberships_of",
    "family_with_owners",
    "may_edit_family",
    "member_candidates",
    "members_of",
]

CANDIDATES = 20


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


def family_list(*, user) -> QuerySet[Family]:
    return families_visible_to(user).select_related("owning_agency", "owning_team").order_by("name", "pk")


def family_with_owners(family: Family) -> Family:
    """The family read again, with its owning agency and team."""
    return Family.objects.select_related("owning_agency", "owning_team").get(pk=family.pk)


def may_edit_family(user, family: Family) -> bool:
    """Whether ``families_visible_to(user, edit=True)`` holds this family: what the page offers."""
    return families_visible_to(user, edit=True).filter(pk=family.pk).exists()


def access_member(*, user, family: Family, member_id) -> FamilyMember:
    """A member of the family whose profile the user may see (a hidden member is never offered):
    the same 404 for "does not exist" and "not yours"."""
    member = (
        FamilyMember.objects.filter(pk=member_id, family=family, profile__in=profiles_visible_to(user))
        .select_related("family", "profile")
        .first()
    )
    if member is None:
        raise Http404("No such member")
    return member


def member_candidates(*, user, query: str) -> list[Profile]:
    """Profiles the user may edit whose name holds ``query`` (at most ``CANDIDATES``), by name."""
    wanted = normalise_name(query)
    if not wanted:
        return []
    editable = profiles_visible_to(user, edit=True).filter(search_name__contains=wanted)
    return list(editable.order_by("last_name", "first_name", "name", "pk")[:CANDIDATES])


def family_memberships_of(*, user, profile: Profile) -> QuerySet[FamilyMember]:
    """The profile's memberships of families the user may see (their team's or agency's:
    families are not shared), with the family."""
    scope = user_scope(user)
    members = FamilyMember.objects.filter(profile=profile).select_related("family")
    return members if scope.sees_everything else members.filter(owner_q(scope, prefix="family__"))
