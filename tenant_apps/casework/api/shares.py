"""The API of sharing: the shares of a case or a profile, granting and revoking one."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from concord.api import BaseApi, IdField, valid
from tenant_apps.casework import selectors, services
from tenant_apps.casework.api.base import Person, Ref, team_named
from tenant_apps.casework.idempotency import IDEMPOTENCY_PARAMETER, api_create_once
from tenant_apps.directory import selectors as directory

__all__ = ["CaseShareRevokeApi", "CaseSharesApi", "ProfileShareRevokeApi", "ProfileSharesApi"]


class ShareOutput(serializers.Serializer):
    id = serializers.IntegerField()
    team = Ref(allow_null=True)
    agency = Ref(allow_null=True)
    user = Person(allow_null=True)
    can_edit = serializers.BooleanField()
    can_share = serializers.BooleanField(help_text="May share on: the grantee may share it further (never with "
                                         "more than they hold) and revoke what they granted.")  # fmt: skip
    granted_by = Person()
    granted_at = serializers.DateTimeField()

    class Meta:
        ref_name = "Share"


class ShareInput(serializers.Serializer):
    team = IdField(required=False, allow_null=True, default=None)
    agency = IdField(required=False, allow_null=True, default=None)
    user = IdField(required=False, allow_null=True, default=None)
    can_edit = serializers.BooleanField(required=False, default=False)
    can_share = serializers.BooleanField(
        required=False, default=False,
        help_text="May share on. Only the owning team or agency, or an admin, may grant it (else 400 on can_share).",
    )  # fmt: skip

    class Meta:
        ref_name = "ShareInput"


def _grantees(data) -> dict:
    found = {"team": team_named(data["team"], field="team"), "agency": None, "grantee": None}
    if data["agency"] is not None:
        found["agency"] = directory.agency_by_id(data["agency"])
        if found["agency"] is None:
            raise DjangoValidationError({"agency": ["Unknown agency."]})
    if data["user"] is not None:
        found["grantee"] = directory.person_by_id(data["user"])
        if found["grantee"] is None:
            raise DjangoValidationError({"user": ["Unknown person."]})
    return found


def _share_grant(request, **record):
    return api_create_once(request, lambda: _share_grant_now(request, **record))


def _share_grant_now(request, **record):
    """Share the record: the owners, admins and re-sharers (``selectors.sharing_rights``); anyone
    else who may see it gets 403. The answer is the share as committed (its team, agency, user
    and granter are the objects it was made with): nothing is read after the commit."""
    data = valid(ShareInput, request.data)
    share = services.share_grant(
        user=request.user, request=request, **record, can_edit=data["can_edit"], can_share=data["can_share"],
        **_grantees(data),
    )  # fmt: skip
    return Response(ShareOutput(share).data, status=status.HTTP_201_CREATED)


def _share_revoke(request, record, share_id):
    share = selectors.access_share(record=record, share_id=share_id)
    services.share_revoke(user=request.user, request=request, share=share)
    return Response(status=status.HTTP_204_NO_CONTENT)


class CaseSharesApi(BaseApi):
    api_area = "cases"
    InputSerializer = ShareInput
    OutputSerializer = ShareOutput

    @extend_schema(operation_id="cases_shares_list", responses=ShareOutput(many=True))
    def get(self, request, case_id):
        case = selectors.access_case(user=request.user, case_id=case_id)
        services.record_viewed(user=request.user, request=request, record=case, what="shares")
        return Response(ShareOutput(selectors.shares_of(case), many=True).data)

    @extend_schema(
        operation_id="cases_shares_grant",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=ShareInput,
        responses={201: ShareOutput},
    )
    def post(self, request, case_id):
        return _share_grant(request, case=selectors.access_case(user=request.user, case_id=case_id))


class CaseShareRevokeApi(BaseApi):
    api_area = "cases"

    @extend_schema(operation_id="cases_shares_revoke", responses={204: None})
    def delete(self, request, case_id, share_id):
        return _share_revoke(request, selectors.access_case(user=request.user, case_id=case_id), share_id)


class ProfileSharesApi(BaseApi):
    api_area = "profiles"
    InputSerializer = ShareInput
    OutputSerializer = ShareOutput

    @extend_schema(operation_id="profiles_shares_list", responses=ShareOutput(many=True))
    def get(self, request, profile_id):
        profile = selectors.access_profile(user=request.user, profile_id=profile_id)
        services.record_viewed(user=request.user, request=request, record=profile, what="shares")
        return Response(ShareOutput(selectors.shares_of(profile), many=True).data)

    @extend_schema(
        operation_id="profiles_shares_grant",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=ShareInput,
        responses={201: ShareOutput},
    )
    def post(self, request, profile_id):
        return _share_grant(request, profile=selectors.access_profile(user=request.user, profile_id=profile_id))


class ProfileShareRevokeApi(BaseApi):
    api_area = "profiles"

    @extend_schema(operation_id="profiles_shares_revoke", responses={204: None})
    def delete(self, request, profile_id, share_id):
        return _share_revoke(request, selectors.access_profile(user=request.user, profile_id=profile_id), share_id)
