"""Assessments in a partnership: its local questions and its templates.

- ``LocalQuestion`` / ``LocalQuestionVersion``: the partnership's own questions, for what the
  national bank lacks, with the bank's content fields (``question_bank.models.QuestionContent``).
  A change is a new version; templates pin versions. A local question may be proposed to the bank
  (``submission``): once published there, new templates are offered the bank's version instead.
- ``Template`` / ``TemplateVersion``: a template (name, business area, the case types it is
  offered on) and its versions. One version may be a draft (the one being edited) and one in use
  (``published``); publishing a draft supersedes the version in use, which assessments already
  started keep. A version holds ``TemplateSection``s of ``TemplateItem``s (a bank or local
  question version, asked once for the family, of each member or of each named subject,
  required or optional) and ``TemplateDomain``s, the scored domains: each item may count towards
  one, scored by the answer's value or by points per answer (``TemplateItem.scoring``).

Write only through ``services``; read through ``selectors``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from shared_apps.question_bank.models import QuestionContent

USER = settings.AUTH_USER_MODEL


class BusinessArea(models.TextChoices):
    FAMILY_SUPPORT = "family_support", "Family support (early help, troubled families)"
    DOMESTIC_ABUSE = "domestic_abuse", "Domestic abuse"
    OFFENDER_MANAGEMENT = "offender_management", "Offender management"
    ASB = "asb", "Anti-social behaviour"
    SAFEGUARDING = "safeguarding", "Safeguarding"
    OTHER = "other", "Other"


class LocalQuestion(models.Model):
    code = models.CharField(max_length=16, unique=True)  # "L-001"
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)
    # Its proposal to the national bank (public; the partnership's own row under RLS), if any.
    submission = models.ForeignKey("question_bank.Submission", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")  # fmt: skip

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class LocalQuestionVersion(QuestionContent):
    question = models.ForeignKey(LocalQuestion, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["question__code", "number"]
        constraints = [models.UniqueConstraint(fields=["question", "number"], name="assessments_local_version_unique")]

    def __str__(self) -> str:
        return f"{self.question.code} v{self.number}"

    @property
    def label(self) -> str:
        return f"{self.question.code} version {self.number} (local)"


class Template(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_USE = "in_use", "In use"
        WITHDRAWN = "withdrawn", "Withdrawn"

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True, max_length=2000)
    business_area = models.CharField(max_length=24, choices=BusinessArea.choices)
    case_types = models.ManyToManyField("casework.CaseType", related_name="+", blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class TemplateVersion(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "In use"
        SUPERSEDED = "superseded", "Superseded"

    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    state = models.CharField(max_length=12, choices=State.choices, default=State.DRAFT)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="assessments_template_version_unique"),
            models.UniqueConstraint(fields=["template"], condition=Q(state="draft"),
                                    name="assessments_template_one_draft"),
            models.UniqueConstraint(fields=["template"], condition=Q(state="published"),
                                    name="assessments_template_one_in_use"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.template.name} v{self.number}"

    @property
    def is_draft(self) -> bool:
        return self.state == self.State.DRAFT


class TemplateDomain(models.Model):
    class Aggregate(models.TextChoices):
        SUM = "sum", "Total of the scores"
        MEAN = "mean", "Average of the scores"

    template_version = models.ForeignKey(TemplateVersion, on_delete=models.CASCADE, related_name="domains")
    name = models.CharField(max_length=100)
    aggregate = models.CharField(max_length=8, choices=Aggregate.choices, default=Aggregate.SUM)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["template_version", "name"], name="assessments_domain_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class TemplateSection(models.Model):
    template_version = models.ForeignKey(TemplateVersion, on_delete=models.CASCADE, related_name="sections")
    title = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.title


class TemplateItem(models.Model):
    class AskedOf(models.TextChoices):
        FAMILY = "family", "Once, for the family"
        EACH_MEMBER = "each_member", "For each family member"
        NAMED_SUBJECT = "named_subject", "For each named subject"

    section = models.ForeignKey(TemplateSection, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField(default=0)
    bank_version = models.ForeignKey("question_bank.QuestionVersion", on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+")  # fmt: skip
    local_version = models.ForeignKey(LocalQuestionVersion, on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+")  # fmt: skip
    asked_of = models.CharField(max_length=16, choices=AskedOf.choices, default=AskedOf.FAMILY)
    required = models.BooleanField(default=True)
    domain = models.ForeignKey(TemplateDomain, on_delete=models.PROTECT, null=True, blank=True, related_name="items")
    # {} (not scored), {"kind": "value"} (numbers and scales) or {"kind": "map", "scores": {answer: points}}.
    scoring = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(bank_version__isnull=False) & Q(local_version__isnull=True))
                | (Q(bank_version__isnull=True) & Q(local_version__isnull=False)),
                name="assessments_item_one_question",
            ),
        ]

    def __str__(self) -> str:
        return f"item {self.pk}"

    @property
    def question(self):
        """The pinned question version: the bank's or the partnership's own."""
        return self.bank_version if self.bank_version_id else self.local_version
