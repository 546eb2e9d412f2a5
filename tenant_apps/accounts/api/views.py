"""``GET /api/v1/me/``: who is signed in, and to which partnership."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from concord.api import ANY_CLIENT, BaseApi

__all__ = ["MeDetailApi"]


class MeDetailApi(BaseApi):
    """The signed-in user and the partnership they are signed in to."""

    api_area = ANY_CLIENT

    class OutputSerializer(serializers.Serializer):
        email = serializers.EmailField()
        full_name = serializers.CharField()
        role = serializers.CharField()
        partnership = serializers.CharField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        user = request.user
        data = {
            "email": user.email,
            "full_name": user.full_name,
            "role": user.role,
            "partnership": request.tenant.name,
        }
        return Response(self.OutputSerializer(data).data)
