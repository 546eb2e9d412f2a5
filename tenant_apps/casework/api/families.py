"""The API of families: list, create, read one, add and remove members (hidden members counted, never named)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from concord.api import BaseApi, ChoiceField, IdField, page_of, paginated, valid
from tenant_apps.casework import selectors, services
from tenant_apps.casework.api.base import VERSION_HELP, VERSION_PARAMETER, Ref, team_named, version_of
from tenant_apps.casework.idempotency import IDEMPOTENCY_PARAMETER, api_create_once
from tenant_apps.casework.models import Family, FamilyMember

__all__ = ["FamilyDetailApi", "FamilyListCreateApi", "FamilyMemberRemoveApi", "FamilyMembersApi"]


class FamilySummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    owning_agency = Ref()
    owning_team = Ref(allow_null=True)
    version = serializers.IntegerField()

    class Meta:
        ref_name = "FamilySummary"


class FamilyMemberOutput(serializers.Serializer):
    id = serializers.IntegerField()
    relationship = serializers.CharField()
    profile = inline_serializer(
        name="FamilyMemberProfile",
        fields={"id": serializers.IntegerField(), "display_name": serializers.CharField()},
    )

    class Meta:
        ref_name = "FamilyMember"


class FamilyDetailOutput(FamilySummaryOutput):
    members = FamilyMemberOutput(many=True, help_text="Members whose profiles you may see.")
    hidden_members = serializers.IntegerField(help_text="How many other members there are (never named).")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "FamilyDetail"


def _family_detail(user, family: Family) -> dict:
    family = selectors.family_with_owners(family)
    members = selectors.members_of(user=user, family=family)
    return {
        **{field: getattr(family, field) for field in FamilySummaryOutput._declared_fields},
        "created_at": family.created_at,
        "updated_at": family.updated_at,
        "members": members.visible,
        "hidden_members": members.hidden_count,
    }


class FamilyListCreateApi(BaseApi):
    api_area = "families"

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200)
        owning_team = IdField(required=False, allow_null=True, default=None)

        class Meta:
            ref_name = "FamilyCreateInput"

    @extend_schema(
        operation_id="families_list",
        parameters=[OpenApiParameter("page", int)],
        responses=page_of(FamilySummaryOutput, "PaginatedFamilySummary"),
    )
    def get(self, request):
        return paginated(request, self, selectors.family_list(user=request.user), FamilySummaryOutput)

    @extend_schema(
        operation_id="families_create",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=InputSerializer,
        responses={201: FamilyDetailOutput},
    )
    def post(self, request):
        def create():
            data = valid(self.InputSerializer, request.data)
            team = team_named(data["owning_team"], field="owning_team")
            family = services.family_create(user=request.user, request=request, name=data["name"],
                                                   owning_team=team)  # fmt: skip
            detail = FamilyDetailOutput(_family_detail(request.user, family)).data
            return Response(detail, status=status.HTTP_201_CREATED)

        return api_create_once(request, create)


class FamilyDetailApi(BaseApi):
    api_area = "families"

    @extend_schema(operation_id="families_retrieve", responses=FamilyDetailOutput)
    def get(self, request, family_id):
        family = selectors.access_family(user=request.user, family_id=family_id)
        services.record_viewed(user=request.user, request=request, record=family)
        return Response(FamilyDetailOutput(_family_detail(request.user, family)).data)


class FamilyMembersApi(BaseApi):
    api_area = "families"

    class InputSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)
        profile = IdField(help_text="A profile you may edit.")
        relationship = ChoiceField(choices=FamilyMember.Relationship.choices)

        class Meta:
            ref_name = "FamilyMemberAddInput"

    @extend_schema(
        operation_id="families_members_add",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=InputSerializer,
        responses={201: FamilyDetailOutput},
    )
    def post(self, request, family_id):
        family = selectors.access_family(user=request.user, family_id=family_id)

        def create():
            data = valid(self.InputSerializer, request.data)
            profile = selectors.profile_choice(user=request.user, profile_id=data["profile"])
            services.family_add_member(user=request.user, request=request, family=family, profile=profile,
                                       relationship=data["relationship"], version=data["version"])  # fmt: skip
            detail = FamilyDetailOutput(_family_detail(request.user, family)).data
            return Response(detail, status=status.HTTP_201_CREATED)

        return api_create_once(request, create)


class FamilyMemberRemoveApi(BaseApi):
    api_area = "families"

    @extend_schema(
        operation_id="families_members_remove", parameters=[VERSION_PARAMETER], responses={200: FamilyDetailOutput}
    )
    def delete(self, request, family_id, member_id):
        family = selectors.access_family(user=request.user, family_id=family_id)
        version = version_of(request)
        member = selectors.access_member(user=request.user, family=family, member_id=member_id)
        services.family_remove_member(user=request.user, request=request, member=member, version=version)
        return Response(FamilyDetailOutput(_family_detail(request.user, family)).data)
