"""Who the user is to casework, and the visibility rule every read of casework applies.

A profile or case is visible to its owning team and agency, to the teams, agencies and people
it is shared with, and to partnership admins only if the partnership chooses
(``CaseworkSettings.admins_see_everything``). ``visible`` builds that rule into a queryset;
``owned`` and ``may_edit_record`` apply it to a row already read.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from tenant_apps.casework.models import Case, CaseworkSettings, Profile, Share
from tenant_apps.directory.models import Membership, TeamMembership

__all__ = ["NOT_VISIBLE", "SENSITIVE_ENTRY", "Scope", "cases_visible_to", "profiles_visible_to", "user_scope"]


@dataclass(frozen=True)
class Scope:
    user_id: int
    team_ids: tuple[int, ...]
    agency_id: int | None
    sees_everything: bool
    read_only: bool


def user_scope(user) -> Scope:
    """The user's teams and agency, read once per request (kept on the user object); with the
    user itself when the request signed them in."""
    cached = getattr(user, "_casework_scope", None)
    if cached is not None:
        return cached
    loaded = getattr(user, "member_team_ids", None)  # read with the user (directory.backends.MemberBackend)
    if loaded is not None:
        team_ids, agency_id = tuple(loaded), user.member_agency_id
    else:
        team_ids = tuple(TeamMembership.objects.filter(user=user).values_list("team_id", flat=True))
        agency_id = Membership.objects.filter(user=user).values_list("agency_id", flat=True).first()
    sees_everything = user.is_partnership_admin and CaseworkSettings.current().admins_see_everything
    scope = Scope(user.pk, team_ids, agency_id, sees_everything, user.is_read_only)
    user._casework_scope = scope
    return scope


def grantee_q(scope: Scope) -> Q:
    """Shares held by the user: to them, one of their teams or their agency."""
    q = Q(user_id=scope.user_id) | Q(team_id__in=scope.team_ids)
    if scope.agency_id is not None:
        q |= Q(agency_id=scope.agency_id)
    return q


def owner_q(scope: Scope, *, prefix: str = "") -> Q:
    """Rows owned by the user's teams or agency (``prefix``: the path to the owned row, like ``family__``)."""
    q = Q(**{f"{prefix}owning_team_id__in": scope.team_ids})
    if scope.agency_id is not None:
        q |= Q(**{f"{prefix}owning_agency_id": scope.agency_id})
    return q


def edit_q(scope: Scope, *, field: str) -> Q:
    """Where a (non read-only) user may change the row: their team or agency owns it, or an edit share."""
    grants = Share.objects.filter(**{field: OuterRef("pk")}, can_edit=True).filter(grantee_q(scope))
    return owner_q(scope) | Q(Exists(grants))


def visible(model, scope: Scope, *, field: str, edit: bool) -> QuerySet:
    if edit and scope.read_only:
        return model.objects.none()
    if edit:
        return model.objects.filter(edit_q(scope, field=field))
    if scope.sees_everything:
        return model.objects.all()
    grants = Share.objects.filter(**{field: OuterRef("pk")}).filter(grantee_q(scope))
    return model.objects.filter(owner_q(scope) | Q(Exists(grants)))


def profiles_visible_to(user, *, edit: bool = False) -> QuerySet[Profile]:
    """Profiles the user may see (or edit), merged ones excluded."""
    return visible(Profile, user_scope(user), field="profile", edit=edit).filter(merged_into__isnull=True)


def cases_visible_to(user, *, edit: bool = False) -> QuerySet[Case]:
    return visible(Case, user_scope(user), field="case", edit=edit)


# --- The same rules for rows already read ---------------------------------------------------
# A page that has read a case, a profile or subjects asks "may this user also edit it / open them?"
# to decide what it offers; a change is still allowed or refused by the querysets above.
# The owner rule is applied to the row in Python (``owned`` is ``owner_q`` for one row) and only
# the shares are asked of the database, when they can change the answer. A test compares these
# with the querysets above for every member of the test cast.


def owned(scope: Scope, record) -> bool:
    return record.owning_team_id in scope.team_ids or (
        scope.agency_id is not None and record.owning_agency_id == scope.agency_id
    )


def may_edit_record(user, record, *, field: str) -> bool:
    scope = user_scope(user)
    if scope.read_only:
        return False
    if owned(scope, record):
        return True
    return Share.objects.filter(grantee_q(scope), **{field: record.pk}, can_edit=True).exists()


NOT_VISIBLE = "record not visible to you"
SENSITIVE_ENTRY = "sensitive entry"


def whole_ids(object_ids) -> list[int]:
    """The ids of a list that are whole numbers (the audit trail's object ids are text)."""
    return [int(value) for value in object_ids if str(value).isdigit()]
