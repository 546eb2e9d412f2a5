"""The API of cases: list, open, read one, change its status."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from concord.api import BaseApi, ChoiceField, DateField, IdField, SlugRelatedField, page_of, paginated, valid
from tenant_apps.casework import selectors, services
from tenant_apps.casework.api.base import VERSION_HELP, Person, Ref, team_named
from tenant_apps.casework.idempotency import IDEMPOTENCY_PARAMETER, api_create_once
from tenant_apps.casework.models import Case, CaseSubject
from tenant_apps.directory import selectors as directory

__all__ = ["CaseDetailApi", "CaseListCreateApi", "CaseStatusApi"]


class CaseSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField()
    case_type = serializers.CharField(source="case_type.code")
    status = serializers.CharField()
    outcome = serializers.CharField()
    opened_on = serializers.DateField()
    closed_on = serializers.DateField(allow_null=True)
    owning_agency = Ref()
    owning_team = Ref(allow_null=True)
    version = serializers.IntegerField()

    class Meta:
        ref_name = "CaseSummary"


class CaseDetailOutput(CaseSummaryOutput):
    summary = serializers.CharField()
    lead_practitioner = Person(allow_null=True)
    subjects = inline_serializer(
        name="CaseSubject",
        many=True,
        source="subjects_list",
        fields={
            "profile_id": serializers.IntegerField(),
            "display_name": serializers.CharField(source="profile.display_name"),
            "role": serializers.CharField(),
        },
    )
    entry_count = serializers.IntegerField(help_text="Entries on the timeline (restricted ones included).")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "CaseDetail"


class CaseListCreateApi(BaseApi):
    api_area = "cases"

    class InputSerializer(serializers.Serializer):
        case_type = SlugRelatedField(slug_field="code", queryset=selectors.case_type_choices())
        title = serializers.CharField(max_length=200)
        summary = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
        opened_on = DateField(required=False, allow_null=True, default=None)
        owning_team = IdField(required=False, allow_null=True, default=None)
        lead_practitioner = IdField(required=False, allow_null=True, default=None)
        subjects = inline_serializer(
            name="CaseSubjectInput",
            many=True,
            required=False,
            default=list,
            fields={
                "profile": IdField(),
                "role": ChoiceField(choices=CaseSubject.Role.choices),
            },
        )

        class Meta:
            ref_name = "CaseCreateInput"

    @extend_schema(
        operation_id="cases_list",
        parameters=[OpenApiParameter("status", enum=Case.Status.values), OpenApiParameter("page", int)],
        responses=page_of(CaseSummaryOutput, "PaginatedCaseSummary"),
    )
    def get(self, request):
        wanted = request.query_params.get("status")
        if wanted and wanted not in Case.Status.values:
            raise exceptions.ValidationError({"status": [f"Choose one of {', '.join(Case.Status.values)}."]})
        return paginated(request, self, selectors.case_list(user=request.user, status=wanted or ""), CaseSummaryOutput)

    @extend_schema(
        operation_id="cases_create",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=InputSerializer,
        responses={201: CaseDetailOutput},
    )
    def post(self, request):
        return api_create_once(request, lambda: self._create(request))

    def _create(self, request):
        data = valid(self.InputSerializer, request.data)
        profiles = selectors.profiles_named(
            user=request.user, ids=[s["profile"] for s in data["subjects"]], field="subjects"
        )
        case = services.case_create(
            user=request.user,
            request=request,
            case_type=data["case_type"],
            title=data["title"],
            summary=data["summary"],
            opened_on=data["opened_on"],
            owning_team=team_named(data["owning_team"], field="owning_team"),
            lead_practitioner=_practitioner(data["lead_practitioner"]),
            subjects=[(p, s["role"]) for p, s in zip(profiles, data["subjects"], strict=True)],
        )
        detail = selectors.case_detail(user=request.user, case_id=case.pk)
        return Response(_case_data(detail), status=status.HTTP_201_CREATED)


def _practitioner(user_id):
    if user_id is None:
        return None
    user = directory.person_by_id(user_id)
    if user is None:
        raise DjangoValidationError({"lead_practitioner": ["Unknown person."]})
    return user


def _case_data(case: Case) -> dict:
    return CaseDetailOutput(case).data


class CaseDetailApi(BaseApi):
    api_area = "cases"

    @extend_schema(operation_id="cases_retrieve", responses=CaseDetailOutput)
    def get(self, request, case_id):
        case = selectors.case_detail(user=request.user, case_id=case_id)
        services.record_viewed(user=request.user, request=request, record=case)
        return Response(_case_data(case))


class CaseStatusApi(BaseApi):
    api_area = "cases"

    class InputSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)
        status = ChoiceField(choices=Case.Status.choices)
        outcome = ChoiceField(choices=Case.Outcome.choices, required=False, allow_blank=True, default="")
        closed_on = DateField(required=False, allow_null=True, default=None)

        class Meta:
            ref_name = "CaseStatusInput"

    @extend_schema(operation_id="cases_set_status", request=InputSerializer, responses=CaseDetailOutput)
    def post(self, request, case_id):
        case = selectors.access_case(user=request.user, case_id=case_id)
        data = valid(self.InputSerializer, request.data)
        services.case_set_status(user=request.user, request=request, case=case, **data)
        return Response(_case_data(selectors.case_detail(user=request.user, case_id=case.pk)))
