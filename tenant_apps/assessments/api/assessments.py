"""The assessments' API classes: list, start, read, save answers, complete. The pages' rules
(``selectors``, ``services``): a completed assessment answers 409 to any change; invalid answers
400 naming ``answers``, nothing saved; answers changed by someone else since the version sent
are kept and returned as ``conflicts``, the others saved."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from concord.api import BaseApi, DateField, IdField, TextField, VisibleIdField, page_of, paginated, valid
from tenant_apps.assessments import selectors, services
from tenant_apps.assessments.api.templates import QuestionContentSerializer
from tenant_apps.casework.idempotency import IDEMPOTENCY_PARAMETER, api_create_once
from tenant_apps.casework.selectors import (
    access_case,
    access_family,
    access_profile,
    cases_visible_to,
    families_visible_to,
    profiles_visible_to,
)

__all__ = ["AssessmentAnswersApi", "AssessmentCompleteApi", "AssessmentDetailApi", "AssessmentListStartApi"]


class AssessmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    template_id = serializers.IntegerField(source="template_version.template_id")
    template_name = serializers.CharField(source="template_version.template.name")
    template_version = serializers.IntegerField(source="template_version.number")
    state = serializers.CharField()
    family_id = serializers.IntegerField(allow_null=True)
    profile_id = serializers.IntegerField(allow_null=True)
    case_id = serializers.IntegerField(allow_null=True)
    assessor = serializers.CharField(source="assessor.get_full_name")
    started_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    review_date = serializers.DateField(allow_null=True)
    restricted = serializers.BooleanField()
    version = serializers.IntegerField()


class AnswerSerializer(serializers.Serializer):
    value = serializers.JSONField(allow_null=True, help_text="yes/no/unknown; a choice; a list of choices; a number "
                                  "as text; YYYY-MM-DD; text. None for a scale (see the scores).")  # fmt: skip
    worker_score = serializers.IntegerField(allow_null=True)
    family_score = serializers.IntegerField(allow_null=True)
    worker_blank_reason = serializers.CharField()
    family_blank_reason = serializers.CharField()
    version = serializers.IntegerField()
    updated_at = serializers.DateTimeField()
    updated_by = serializers.CharField(source="updated_by.get_full_name")


class TargetSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="Names the answer when saving it: <item>-<member>, or <item>-family.")
    item_id = serializers.IntegerField(source="item.pk")
    member_id = serializers.IntegerField(source="member.pk", allow_null=True, default=None)
    required = serializers.BooleanField(source="item.required")
    question = QuestionContentSerializer()
    answer = AnswerSerializer(allow_null=True)


class SectionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    title = serializers.CharField(source="section.title")
    required = serializers.IntegerField()
    answered = serializers.IntegerField()
    targets = TargetSerializer(many=True)


class MemberSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    profile_id = serializers.IntegerField()
    name = serializers.CharField(source="profile.display_name")
    relationship = serializers.CharField()
    is_subject = serializers.BooleanField()


class AssessmentDetailSerializer(serializers.Serializer):
    assessment = AssessmentSerializer()
    members = MemberSerializer(many=True)
    hidden_members = serializers.IntegerField(help_text="Members you may not see: counted, never named.")
    former_member_ids = serializers.ListField(
        child=serializers.IntegerField(), help_text="Members who have left the family since (answers kept)."
    )
    sections = SectionSerializer(many=True)


def _detail(request, assessment):
    page = selectors.assessment_page(user=request.user, assessment=assessment)
    data = {"assessment": assessment, "members": page.members, "hidden_members": page.hidden_members,
            "former_member_ids": sorted(page.former_member_ids), "sections": page.sections}  # fmt: skip
    return AssessmentDetailSerializer(data).data


class AssessmentListStartApi(BaseApi):
    """The assessments of a family, a profile or a case (one of ``family``, ``profile``, ``case``);
    POST starts one on a template in use."""

    api_area = "assessments"

    class AssessmentFilterSerializer(serializers.Serializer):
        family = IdField(required=False)
        profile = IdField(required=False)
        case = IdField(required=False)

        def validate(self, data):
            if len(data) != 1:
                raise serializers.ValidationError("Give exactly one of family, profile or case.")
            return data

    class AssessmentStartInputSerializer(serializers.Serializer):
        template = VisibleIdField(lambda user: selectors.templates_offered(), required=True, allow_null=False)
        family = VisibleIdField(families_visible_to)
        profile = VisibleIdField(profiles_visible_to)
        case = VisibleIdField(cases_visible_to)
        subjects = serializers.ListField(child=IdField(), required=False, default=list, max_length=100,
                                         help_text="Profile ids of the family's named subjects.")  # fmt: skip

        def validate(self, data):
            if [data.get(name) for name in ("family", "profile", "case")].count(None) != 2:
                raise serializers.ValidationError("Give exactly one of family, profile or case.")
            return data

    @staticmethod
    def _origin(request, data) -> dict:
        if "family" in data:
            return {"family": access_family(user=request.user, family_id=data["family"])}
        if "profile" in data:
            return {"profile": access_profile(user=request.user, profile_id=data["profile"])}
        return {"case": access_case(user=request.user, case_id=data["case"])}

    @extend_schema(
        operation_id="v1_assessments_list",
        parameters=[AssessmentFilterSerializer, OpenApiParameter("page", int)],
        responses=page_of(AssessmentSerializer, "PaginatedAssessmentList"),
    )
    def get(self, request):
        origin = self._origin(request, valid(self.AssessmentFilterSerializer, request.query_params))
        return paginated(request, self, selectors.assessments_of(user=request.user, **origin), AssessmentSerializer)

    @extend_schema(parameters=[IDEMPOTENCY_PARAMETER], request=AssessmentStartInputSerializer,
                   responses={201: AssessmentDetailSerializer})  # fmt: skip
    def post(self, request):
        """Start an assessment; once per ``Idempotency-Key``."""

        def create():
            data = valid(self.AssessmentStartInputSerializer, request.data, context={"request": request})
            origin = {name: data[name] for name in ("family", "profile", "case") if data.get(name) is not None}
            assessment = services.assessment_start(user=request.user, request=request, template=data["template"],
                                                   subject_profile_ids=data["subjects"], **origin)  # fmt: skip
            assessment = selectors.access_assessment(user=request.user, assessment_id=assessment.pk)
            return Response(_detail(request, assessment), status=status.HTTP_201_CREATED)

        return api_create_once(request, create)


class AssessmentDetailApi(BaseApi):
    """An assessment with its members and, per section, every answer asked (``targets``)."""

    api_area = "assessments"

    @extend_schema(responses=AssessmentDetailSerializer)
    def get(self, request, assessment_id: int):
        assessment = selectors.access_assessment(user=request.user, assessment_id=assessment_id)
        services.assessment_viewed(user=request.user, request=request, assessment=assessment, what="API")
        return Response(_detail(request, assessment))


class AssessmentAnswersApi(BaseApi):
    """Save answers: each names its ``key`` and sends the ``version`` read (0 for a new one)."""

    api_area = "assessments"

    class AnswersInputSerializer(serializers.Serializer):
        class AnswerInputSerializer(serializers.Serializer):
            key = TextField(max_length=40)
            value = serializers.JSONField(required=False, allow_null=True, default=None)
            worker_score = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1,
                                                    max_value=10)  # fmt: skip
            family_score = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1,
                                                    max_value=10)  # fmt: skip
            worker_blank_reason = TextField(required=False, allow_blank=True, default="", max_length=300)
            family_blank_reason = TextField(required=False, allow_blank=True, default="", max_length=300)
            version = serializers.IntegerField(min_value=0, max_value=2**31 - 1)

        answers = AnswerInputSerializer(many=True, allow_empty=False, max_length=2000)

    class AnswersSavedSerializer(serializers.Serializer):
        class ConflictSerializer(serializers.Serializer):
            key = serializers.CharField()
            theirs = serializers.CharField()
            yours = serializers.CharField()
            by = serializers.CharField()

        saved = serializers.IntegerField()
        saved_at = serializers.DateTimeField()
        conflicts = ConflictSerializer(many=True, help_text="Answers someone else changed since: theirs were kept.")

    @extend_schema(request=AnswersInputSerializer, responses={200: AnswersSavedSerializer})
    def post(self, request, assessment_id: int):
        assessment = selectors.access_assessment(user=request.user, assessment_id=assessment_id)
        data = valid(self.AnswersInputSerializer, request.data)
        answers = [services.AnswerInput(**answer) for answer in data["answers"]]
        try:
            result = services.assessment_save(
                user=request.user, request=request, assessment=assessment, answers=answers
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                raise ValidationError({"answers": [f"{key}: {message}" for key, messages in error.message_dict.items()
                                                   for message in messages]}) from None  # fmt: skip
            raise
        return Response(self.AnswersSavedSerializer(result).data)


class AssessmentCompleteApi(BaseApi):
    """Complete and lock: every required answer given, and a review date (future, within two years)."""

    api_area = "assessments"

    class CompleteInputSerializer(serializers.Serializer):
        review_date = DateField()

    @extend_schema(request=CompleteInputSerializer, responses={200: AssessmentSerializer})
    def post(self, request, assessment_id: int):
        assessment = selectors.access_assessment(user=request.user, assessment_id=assessment_id)
        data = valid(self.CompleteInputSerializer, request.data)
        done = services.assessment_complete(user=request.user, request=request, assessment=assessment,
                                            review_date=data["review_date"])  # fmt: skip
        return Response(
            AssessmentSerializer(selectors.access_assessment(user=request.user, assessment_id=done.pk)).data
        )
