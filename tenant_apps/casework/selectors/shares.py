"""Who may share a profile or a case, and how far (the rule of every route, pages and API)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404

from tenant_apps.casework.models import Case, Profile, Share
from tenant_apps.casework.selectors.scope import grantee_q, owned, user_scope

__all__ = ["SharingRights", "access_share", "shares_of", "sharing_rights"]


@dataclass(frozen=True)
class SharingRights:
    """What a user may do with the shares of one record (``sharing_rights``)."""

    may_share: bool = False  # grant shares at all
    may_grant_edit: bool = False  # ... with edit rights
    may_grant_share_on: bool = False  # ... with "may share on"
    may_revoke_any: bool = False  # revoke any share (else only those they granted, if may_share)

    def may_revoke(self, user, share: Share) -> bool:
        return self.may_revoke_any or (self.may_share and share.granted_by_id == user.pk)


def sharing_rights(user, record: Profile | Case) -> SharingRights:
    """Who may share a (visible) profile or case, and how far: the rule of every route.

    - The owning team or agency, and partnership admins, may share it (view, edit, and "may
      share on"), and revoke any of its shares.
    - Someone holding a share with ``can_share`` ("may share on") may share it further, never
      with more than they hold: edit only if a share gives them edit, and never "may share on"
      itself (one hop: the owner decides who re-shares). They may revoke the shares they
      granted, and only those.
    - Anyone else, an edit share included, may not share it; viewers never.
    """
    scope = user_scope(user)
    if scope.read_only:
        return SharingRights()
    if owned(scope, record) or user.is_partnership_admin:
        return SharingRights(may_share=True, may_grant_edit=True, may_grant_share_on=True, may_revoke_any=True)
    field = "profile_id" if isinstance(record, Profile) else "case_id"
    held = list(Share.objects.filter(grantee_q(scope), **{field: record.pk}).values_list("can_edit", "can_share"))
    if not any(can_share for _, can_share in held):
        return SharingRights()
    return SharingRights(may_share=True, may_grant_edit=any(can_edit for can_edit, _ in held))


def shares_of(record: Profile | Case) -> QuerySet[Share]:
    """The shares of a (visible) profile or case, oldest first, with whom they are to and who granted them."""
    return record.shares.select_related("team__agency", "agency", "user", "granted_by").order_by("granted_at", "pk")


def access_share(*, record: Profile | Case, share_id) -> Share:
    """One share of a (visible) profile or case: 404 if it is not one of its shares."""
    share = record.shares.filter(pk=share_id).first() if str(share_id).isdigit() else None
    if share is None:
        raise Http404("No such share")
    return share
