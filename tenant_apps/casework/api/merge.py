"""The API of merging two profiles of one person."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from concord.api import BaseApi, IdField, valid
from tenant_apps.casework import selectors, services
from tenant_apps.casework.api.profiles import ProfileDetailOutput, profile_detail

__all__ = ["ProfileMergeApi"]


class ProfileMergeApi(BaseApi):
    api_area = "profiles"

    class InputSerializer(serializers.Serializer):
        merge_id = IdField(help_text="The profile merged into this one (it stays, marked merged).")

        class Meta:
            ref_name = "ProfileMergeInput"

    @extend_schema(
        operation_id="profiles_merge",
        description="Merge another profile into this one. You must be able to edit both.",
        request=InputSerializer,
        responses=ProfileDetailOutput,
    )
    def post(self, request, profile_id):
        keep = selectors.access_profile(user=request.user, profile_id=profile_id)
        data = valid(self.InputSerializer, request.data)
        merge = selectors.access_profile(user=request.user, profile_id=data["merge_id"])
        try:
            keep = services.profile_merge(user=request.user, request=request, keep=keep, merge=merge)
        except DjangoValidationError as error:
            raise DjangoValidationError({"merge_id": error.messages}) from None
        keep.refresh_from_db()
        return Response(ProfileDetailOutput(profile_detail(keep)).data)
