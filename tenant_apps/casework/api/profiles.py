"""The API of profiles: list, create, the duplicate check, read and change one."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from concord.api import BaseApi, ChoiceField, DateField, IdField, IsVerified, page_of, paginated, valid
from tenant_apps.casework import selectors, services
from tenant_apps.casework.api.base import VERSION_HELP, Ref, team_named
from tenant_apps.casework.idempotency import IDEMPOTENCY_PARAMETER, api_create_once
from tenant_apps.casework.models import Profile

__all__ = ["ProfileDetailApi", "ProfileDetailOutput", "ProfileDuplicatesApi", "ProfileListCreateApi", "profile_detail"]


class ProfileSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    display_name = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)
    owning_agency = Ref()
    owning_team = Ref(allow_null=True)
    version = serializers.IntegerField()

    class Meta:
        ref_name = "ProfileSummary"


class ProfileDetailOutput(ProfileSummaryOutput):
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    name = serializers.CharField()
    gender = serializers.CharField()
    phone = serializers.CharField()
    notes = serializers.CharField()
    aliases = serializers.ListField(child=serializers.CharField())
    addresses = inline_serializer(
        name="ProfileAddress",
        many=True,
        fields={
            "line1": serializers.CharField(),
            "line2": serializers.CharField(),
            "town": serializers.CharField(),
            "postcode": serializers.CharField(),
            "is_current": serializers.BooleanField(),
        },
    )
    identifiers = inline_serializer(
        name="ProfileIdentifier", many=True, fields={"kind": serializers.CharField(), "value": serializers.CharField()}
    )
    warnings = inline_serializer(
        name="ProfileWarning", many=True, fields={"kind": serializers.CharField(), "note": serializers.CharField()}
    )
    vulnerabilities = inline_serializer(
        name="ProfileVulnerability",
        many=True,
        fields={"kind": serializers.CharField(), "note": serializers.CharField()},
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "ProfileDetail"


def profile_detail(profile: Profile) -> dict:
    selectors.with_details(profile, owners=True)
    return {
        **{field: getattr(profile, field) for field in ProfileSummaryOutput._declared_fields},
        **{
            field: getattr(profile, field)
            for field in ("first_name", "last_name", "name", "gender", "phone", "notes", "created_at", "updated_at")
        },
        "aliases": [alias.name for alias in profile.aliases.all()],
        "addresses": list(profile.addresses.all()),
        "identifiers": list(profile.identifiers.all()),
        "warnings": list(profile.warnings.all()),
        "vulnerabilities": list(profile.vulnerabilities.all()),
    }


class ProfileListCreateApi(BaseApi):
    api_area = "profiles"

    class InputSerializer(serializers.Serializer):
        kind = ChoiceField(choices=Profile.Kind.choices, default=Profile.Kind.PERSON)
        first_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        last_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        date_of_birth = DateField(required=False, allow_null=True, default=None)
        gender = ChoiceField(choices=Profile.Gender.choices, default=Profile.Gender.NOT_KNOWN)
        phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
        notes = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
        owning_team = IdField(required=False, allow_null=True, default=None)
        aliases = serializers.ListField(
            child=serializers.CharField(max_length=200), required=False, default=list, max_length=20
        )

        class Meta:
            ref_name = "ProfileCreateInput"

    @extend_schema(
        operation_id="profiles_list",
        parameters=[OpenApiParameter("kind", enum=Profile.Kind.values), OpenApiParameter("page", int)],
        responses=page_of(ProfileSummaryOutput, "PaginatedProfileSummary"),
    )
    def get(self, request):
        kind = request.query_params.get("kind")
        if kind and kind not in Profile.Kind.values:
            raise exceptions.ValidationError({"kind": [f"Choose one of {', '.join(Profile.Kind.values)}."]})
        return paginated(
            request, self, selectors.profile_list(user=request.user, kind=kind or ""), ProfileSummaryOutput
        )

    @extend_schema(
        operation_id="profiles_create",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=InputSerializer,
        responses={201: ProfileDetailOutput},
    )
    def post(self, request):
        def create():
            data = valid(self.InputSerializer, request.data)
            team = team_named(data.pop("owning_team"), field="owning_team")
            profile = services.profile_create(user=request.user, request=request, owning_team=team, **data)
            return Response(ProfileDetailOutput(profile_detail(profile)).data, status=status.HTTP_201_CREATED)

        return api_create_once(request, create)


class ProfileDuplicatesApi(BaseApi):
    """Profiles the user can see that may be the person about to be created (a read, so viewers may ask)."""

    api_area = "profiles"
    api_reads_only = True

    permission_classes = [IsVerified]

    class InputSerializer(serializers.Serializer):
        first_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        last_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        date_of_birth = DateField(required=False, allow_null=True, default=None)

        class Meta:
            ref_name = "ProfileDuplicatesInput"

    class OutputSerializer(ProfileSummaryOutput):
        similarity = serializers.FloatField()

        class Meta:
            ref_name = "ProfileDuplicate"

    @extend_schema(operation_id="profiles_duplicates", request=InputSerializer, responses=OutputSerializer(many=True))
    def post(self, request):
        data = valid(self.InputSerializer, request.data)
        candidates = selectors.with_owners(services.profile_likely_duplicates(user=request.user, **data))
        return Response(self.OutputSerializer(candidates, many=True).data)


class ProfileDetailApi(BaseApi):
    api_area = "profiles"

    class InputSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)
        first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
        last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
        name = serializers.CharField(max_length=200, required=False, allow_blank=True)
        date_of_birth = DateField(required=False, allow_null=True)
        gender = ChoiceField(choices=Profile.Gender.choices, required=False)
        phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
        notes = serializers.CharField(max_length=5000, required=False, allow_blank=True)

        class Meta:
            ref_name = "ProfileUpdateInput"

    @extend_schema(operation_id="profiles_retrieve", responses=ProfileDetailOutput)
    def get(self, request, profile_id):
        profile = selectors.access_profile(user=request.user, profile_id=profile_id)
        services.record_viewed(user=request.user, request=request, record=profile)
        return Response(ProfileDetailOutput(profile_detail(profile)).data)

    @extend_schema(operation_id="profiles_update", request=InputSerializer, responses=ProfileDetailOutput)
    def patch(self, request, profile_id):
        profile = selectors.access_profile(user=request.user, profile_id=profile_id)
        changes = valid(self.InputSerializer, request.data)
        profile = services.profile_update(user=request.user, request=request, profile=profile, **changes)
        return Response(ProfileDetailOutput(profile_detail(profile)).data)
