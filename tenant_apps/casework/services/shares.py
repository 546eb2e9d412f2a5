"""Granting and revoking shares of a profile or a case (who may, and how far: ``selectors.sharing_rights``)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from tenant_apps.audit.services import audit_record
from tenant_apps.casework.models import Case, Profile, Share
from tenant_apps.casework.selectors import cases_visible_to, profiles_visible_to, sharing_rights
from tenant_apps.casework.services.base import require_writer

__all__ = ["share_grant", "share_revoke"]


def _shared_record(user, *, record_type: str, record_id: int):
    """The record, locked, if the user may see it; PermissionDenied otherwise (the views have
    already answered 404 for a record the user may not see)."""
    visible = (profiles_visible_to if record_type == "profile" else cases_visible_to)(user)
    record = visible.filter(pk=record_id).select_for_update(of=("self",)).first()
    if record is None:
        raise PermissionDenied("You may not change the sharing of this record.")
    return record


def _share_terms(share: Share) -> str:
    who = f"team {share.team_id}" if share.team_id else f"agency {share.agency_id}" if share.agency_id else (
        f"user {share.user_id}")  # fmt: skip
    access = "edit" if share.can_edit else "view"
    return f"{access} with {who}, may share on: {'yes' if share.can_share else 'no'}"


@transaction.atomic
def share_grant(*, user, request=None, profile: Profile | None = None, case: Case | None = None, team=None,
                agency=None, grantee=None, can_edit: bool = False, can_share: bool = False) -> Share:  # fmt: skip
    """Share a record with a team, an agency or one user: view or edit, and perhaps "may share on"
    (``can_share``). Who may, and how far: ``selectors.sharing_rights`` (PermissionDenied if the
    user may not share it at all; a ValidationError on ``can_edit`` / ``can_share`` if they ask
    for more than they may grant)."""
    require_writer(user)
    record_type, record = ("profile", profile) if profile is not None else ("case", case)
    if record is None or sum(x is not None for x in (team, agency, grantee)) != 1:
        raise ValidationError({"grantee": ["Choose one team, agency or person to share with."]})
    current = _shared_record(user, record_type=record_type, record_id=record.pk)
    rights = sharing_rights(user, current)
    if not rights.may_share:
        raise PermissionDenied("You may not share this record.")
    errors = {}
    if can_edit and not rights.may_grant_edit:
        errors["can_edit"] = ["You may share it to view only: you may not edit it yourself."]
    if can_share and not rights.may_grant_share_on:
        errors["can_share"] = ["Only the owning team or an admin may let others share it on."]
    if errors:
        raise ValidationError(errors)
    share = Share.objects.create(**{record_type: current}, team=team, agency=agency, user=grantee,
                                 can_edit=can_edit, can_share=can_share, granted_by=user)  # fmt: skip
    audit_record(action="share.granted", request=request, actor=user, object_type=record_type, object_id=record.pk,
                 summary=f"share {share.pk} granted: {_share_terms(share)}",
                 changes={"can_edit": [None, can_edit], "can_share": [None, can_share]})  # fmt: skip
    return share


@transaction.atomic
def share_revoke(*, user, request=None, share: Share) -> None:
    """Revoke a share: the owning team or agency and admins revoke any; someone who may share on
    revokes only the shares they granted (``selectors.sharing_rights``); PermissionDenied otherwise."""
    require_writer(user)
    record_type, record_id = ("profile", share.profile_id) if share.profile_id else ("case", share.case_id)
    current = _shared_record(user, record_type=record_type, record_id=record_id)
    if not sharing_rights(user, current).may_revoke(user, share):
        raise PermissionDenied("You may not change the sharing of this record.")
    share_id, terms = share.pk, _share_terms(share)
    share.delete()
    audit_record(action="share.revoked", request=request, actor=user, object_type=record_type, object_id=record_id,
                 summary=f"share {share_id} revoked: {terms}",
                 changes={"can_edit": [share.can_edit, None], "can_share": [share.can_share, None]})  # fmt: skip
