"""The API of case types: the partnership's list, read-only (admins shape them on the admin pages).

A partner system reads which codes it may open a case of (``is_active``), and the subject roles
and timeline kinds each takes; a case or entry that does not fit is refused on create (400)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers

from concord.api import BaseApi, page_of, paginated
from tenant_apps.casework import selectors
from tenant_apps.casework.api.base import Ref
from tenant_apps.casework.models import CaseSubject, TimelineEntry

__all__ = ["CaseTypeListApi"]


class CaseTypeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField(help_text="The prefix of new references, and the case_type of a new case.")
    name = serializers.CharField()
    is_active = serializers.BooleanField(help_text="False: retired; no new case may be opened of it.")
    # Plain strings: the roles' and kinds' enums are named once, where a case or an entry is created.
    subject_roles = serializers.ListField(
        child=serializers.CharField(),
        help_text=f"The roles a new case's subjects may have: some of {', '.join(CaseSubject.Role.values)}.",
    )
    timeline_kinds = serializers.ListField(
        child=serializers.CharField(),
        help_text=f"The kinds of entry a case of this type takes: some of {', '.join(TimelineEntry.Kind.values)}.",
    )
    default_team = Ref(allow_null=True, help_text="Owns a new case when its creator is in it and names no team.")

    class Meta:
        ref_name = "CaseType"


class CaseTypeListApi(BaseApi):
    api_area = "cases"  # the types a partner system may open cases of: read with cases:read

    @extend_schema(
        operation_id="case_types_list",
        parameters=[OpenApiParameter("page", int)],
        responses=page_of(CaseTypeOutput, "PaginatedCaseType"),
    )
    def get(self, request):
        return paginated(request, self, selectors.case_type_catalogue(), CaseTypeOutput)
