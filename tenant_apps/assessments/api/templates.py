"""The question bank's and the templates' API classes: thin views with nested serializers."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from concord.api import BaseApi, ChoiceField, TextField, page_of, paginated, valid
from shared_apps.question_bank import selectors as bank
from shared_apps.question_bank.models import AnswerType, Domain, Nature
from tenant_apps.assessments import selectors

__all__ = ["BankQuestionDetailApi", "BankQuestionListApi", "TemplateDetailApi", "TemplateListApi"]


class QuestionContentSerializer(serializers.Serializer):
    """A question version's content: the bank's or the partnership's own (``source``)."""

    source = serializers.SerializerMethodField()
    code = serializers.CharField(source="question.code")
    version = serializers.IntegerField(source="number")
    wording = serializers.CharField()
    guidance = serializers.CharField()
    answer_type = serializers.CharField()
    nature = serializers.CharField()
    domain = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    options = serializers.ListField(child=serializers.CharField())
    unit = serializers.CharField()
    minimum = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True, coerce_to_string=False)
    maximum = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True, coerce_to_string=False)
    anchors = serializers.ListField(child=serializers.CharField(), help_text="A scale's points, from 1 up.")

    def get_source(self, version) -> str:
        return "local" if hasattr(version, "created_by_id") else "bank"


class BankVersionSerializer(QuestionContentSerializer):
    published_at = serializers.DateTimeField()
    origin = serializers.CharField(source="question.origin_name", help_text="The partnership it came from, if any.")


class BankQuestionListApi(BaseApi):
    """The national question bank's current questions (the latest version of each not retired),
    filtered: ``q`` (words), ``domain``, ``answer_type``, ``nature``, ``tag``."""

    api_area = "assessments"

    class BankFilterSerializer(serializers.Serializer):
        q = TextField(required=False, default="", allow_blank=True, max_length=200)
        domain = ChoiceField(choices=Domain.choices, required=False, default="")
        answer_type = ChoiceField(choices=AnswerType.choices, required=False, default="")
        nature = ChoiceField(choices=Nature.choices, required=False, default="")
        tag = TextField(required=False, default="", allow_blank=True, max_length=40)

    @extend_schema(
        operation_id="v1_assessments_bank_list",
        parameters=[BankFilterSerializer, OpenApiParameter("page", int)],
        responses=page_of(BankVersionSerializer, "PaginatedBankQuestionList"),
    )
    def get(self, request):
        filters = valid(self.BankFilterSerializer, request.query_params)
        versions = bank.bank_search(text=filters["q"], domain=filters["domain"], answer_type=filters["answer_type"],
                                    nature=filters["nature"], tag=filters["tag"])  # fmt: skip
        return paginated(request, self, versions, BankVersionSerializer)


class BankQuestionDetailApi(BaseApi):
    """One national question with every version, newest first (retired ones too: templates pin them)."""

    api_area = "assessments"

    class BankQuestionSerializer(serializers.Serializer):
        code = serializers.CharField()
        origin = serializers.CharField(source="origin_name")
        retired_at = serializers.DateTimeField(allow_null=True)
        retired_reason = serializers.CharField()
        versions = BankVersionSerializer(many=True, source="versions.all")

    @extend_schema(responses=BankQuestionSerializer)
    def get(self, request, code: str):
        return Response(self.BankQuestionSerializer(bank.access_question(code=code)).data)


class TemplateItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    question = QuestionContentSerializer()
    asked_of = serializers.CharField()
    required = serializers.BooleanField()
    domain = serializers.CharField(source="domain.name", allow_null=True, default=None)
    scoring = serializers.JSONField(help_text='{} (not scored), {"kind": "value"}, or {"kind": "map", "scores": {...}}')


class TemplateSectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    items = TemplateItemSerializer(many=True, source="items.all")


class TemplateDomainSerializer(serializers.Serializer):
    name = serializers.CharField()
    aggregate = serializers.CharField()


class TemplateVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    state = serializers.CharField()
    published_at = serializers.DateTimeField(allow_null=True)
    domains = TemplateDomainSerializer(many=True, source="domains.all")
    sections = TemplateSectionSerializer(many=True, source="sections.all")


class TemplateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    business_area = serializers.CharField()
    status = serializers.CharField()
    case_types = serializers.SerializerMethodField(help_text="The codes of the case types it is offered on.")

    def get_case_types(self, template) -> list[str]:
        return sorted(case_type.code for case_type in template.case_types.all())


class TemplateListApi(BaseApi):
    """The partnership's assessment templates, by name."""

    api_area = "assessments"

    @extend_schema(
        operation_id="v1_assessments_templates_list",
        parameters=[OpenApiParameter("page", int)],
        responses=page_of(TemplateSerializer, "PaginatedTemplateList"),
    )
    def get(self, request):
        return paginated(request, self, selectors.templates_visible_to(request.user), TemplateSerializer)


class TemplateDetailApi(BaseApi):
    """A template with the structure of its version in use (or, to its author or an admin, of its
    draft when it has never been in use); ``?version=N`` for another version."""

    api_area = "assessments"

    class TemplateDetailSerializer(TemplateSerializer):
        shown_version = TemplateVersionSerializer(
            allow_null=True, help_text="The version asked for, else the one in use."
        )

    class TemplateVersionFilterSerializer(serializers.Serializer):
        version = serializers.IntegerField(required=False, min_value=1, max_value=100000)

    @extend_schema(parameters=[TemplateVersionFilterSerializer], responses=TemplateDetailSerializer)
    def get(self, request, template_id: int):
        template = selectors.access_template(user=request.user, template_id=template_id)  # 404 before 400: no oracle
        wanted = valid(self.TemplateVersionFilterSerializer, request.query_params).get("version")
        if wanted is not None:
            shown = selectors.version_structure(
                selectors.access_template_version(user=request.user, template=template, number=wanted)
            )
        else:
            shown = selectors.template_page(user=request.user, template=template).shown
        template.shown_version = shown
        return Response(self.TemplateDetailSerializer(template).data)
