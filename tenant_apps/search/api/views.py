"""``POST /api/v1/search/``: the search box as JSON. POST only (a GET answers 405), so
terms never appear in a URL; every search is audited like the page's."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from concord.api import BaseApi, DateField, IsVerified
from tenant_apps.search.forms import UK_DATE_FORMATS
from tenant_apps.search.selectors import QUERY_MAX_LENGTH, current_postcode
from tenant_apps.search.services import search_run

__all__ = ["SearchRunApi"]


class SearchRunApi(BaseApi):
    """Profiles and cases the signed-in user may see, matching one query."""

    api_area = "search"
    api_reads_only = True

    permission_classes = [IsVerified]  # POSTed, but a read: viewers may search

    class SearchInputSerializer(serializers.Serializer):
        query = serializers.CharField(max_length=QUERY_MAX_LENGTH, allow_blank=True, required=False, default="")
        date_of_birth = DateField(required=False, allow_null=True, default=None,
                                  input_formats=[*UK_DATE_FORMATS, "iso-8601"])  # fmt: skip

        def validate(self, data):
            if not data.get("query", "").strip() and not data.get("date_of_birth"):
                raise serializers.ValidationError({"query": ["Enter a query or a date of birth."]})
            return data

    class SearchProfileSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        display_name = serializers.CharField()
        kind = serializers.CharField()
        date_of_birth = serializers.DateField(allow_null=True)
        postcode = serializers.CharField()
        markers = serializers.ListField(child=serializers.CharField())
        similar_name = serializers.CharField(
            help_text="The words of the name that answered a misspelt query word (e.g. Kowalski), or empty"
        )
        alias_match = serializers.CharField(help_text="The alias that matched, or empty")

    class SearchCaseSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        reference = serializers.CharField()
        case_type = serializers.CharField()
        status = serializers.CharField()
        title = serializers.CharField()

    class SearchOutputSerializer(serializers.Serializer):
        profiles = serializers.ListField(child=serializers.DictField())
        profile_total = serializers.IntegerField()
        profile_total_capped = serializers.BooleanField(help_text="More than profile_total profiles match")
        cases = serializers.ListField(child=serializers.DictField())
        case_total = serializers.IntegerField()

    @extend_schema(request=SearchInputSerializer, responses=SearchOutputSerializer)
    def post(self, request):
        data = self.SearchInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        results = search_run(
            user=request.user,
            request=request._request,
            query=data.validated_data["query"],
            date_of_birth=data.validated_data["date_of_birth"],
            via="api",
        )
        profiles = [
            {
                "id": p.pk,
                "display_name": p.display_name,
                "kind": p.kind,
                "date_of_birth": p.date_of_birth,
                "postcode": current_postcode(p),
                "markers": p.markers,
                "similar_name": p.similar_name,
                "alias_match": p.alias_match,
            }
            for p in results.profiles
        ]
        cases = [
            {"id": c.pk, "reference": c.reference, "case_type": c.case_type.name, "status": c.status, "title": c.title}
            for c in results.cases
        ]
        return Response(
            {
                "profiles": self.SearchProfileSerializer(profiles, many=True).data,
                "profile_total": results.profile_total,
                "profile_total_capped": results.profile_total_capped,
                "cases": self.SearchCaseSerializer(cases, many=True).data,
                "case_total": results.case_total,
            }
        )
