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


# --- Assessments ----------------------------------------------------------------------------------


class Assessment(models.Model):
    """One assessment on one template version, started from a family, a profile or a case.

    Who sees it is its subject's rule (the family's, profile's or case's, in the query:
    ``selectors.assessments_visible_to``), narrowed, once restricted, to the named people and
    teams. While in progress its answers change (each with its own version); completed, it is
    locked and its review date set.
    """

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"

    template_version = models.ForeignKey(TemplateVersion, on_delete=models.PROTECT, related_name="assessments")
    family = models.ForeignKey("casework.Family", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    profile = models.ForeignKey("casework.Profile", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    case = models.ForeignKey("casework.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    state = models.CharField(max_length=12, choices=State.choices, default=State.IN_PROGRESS)
    assessor = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    review_date = models.DateField(null=True, blank=True)
    previous = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="reviews")
    restricted = models.BooleanField(default=False)
    restricted_users = models.ManyToManyField(USER, related_name="+", blank=True)
    restricted_teams = models.ManyToManyField("directory.Team", related_name="+", blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(family__isnull=False) | Q(profile__isnull=False) | Q(case__isnull=False),
                name="assessments_assessment_has_subject",
            ),
            models.CheckConstraint(
                condition=Q(state="in_progress", completed_at__isnull=True)
                | Q(state="completed", completed_at__isnull=False),
                name="assessments_assessment_completed_when_done",
            ),
        ]
        indexes = [models.Index(fields=["state", "review_date"], name="assessments_state_review")]

    def __str__(self) -> str:
        return f"assessment {self.pk}"

    @property
    def is_completed(self) -> bool:
        return self.state == self.State.COMPLETED


class AssessmentMember(models.Model):
    """A person the assessment is about, pulled through when it started (kept if they later leave
    the family: their answers stay, marked)."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="members")
    profile = models.ForeignKey("casework.Profile", on_delete=models.PROTECT, related_name="+")
    relationship = models.CharField(max_length=40, blank=True)
    is_subject = models.BooleanField(default=False)  # a named subject: asked the named-subject questions
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["assessment", "profile"], name="assessments_member_unique")]

    def __str__(self) -> str:
        return f"member {self.pk} of assessment {self.assessment_id}"


class Answer(models.Model):
    """One answer: to an item, about a member (or the family: no member). ``version`` is the
    answer's own, so two people saving one assessment lose nothing: each answer is written only
    if nobody changed it since the writer opened it."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(TemplateItem, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(AssessmentMember, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    value = models.JSONField(null=True, blank=True)
    worker_score = models.PositiveSmallIntegerField(null=True, blank=True)
    family_score = models.PositiveSmallIntegerField(null=True, blank=True)
    worker_blank_reason = models.CharField(max_length=300, blank=True)
    family_blank_reason = models.CharField(max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assessment", "item", "member"], nulls_distinct=False,
                                    name="assessments_answer_unique"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"answer {self.pk}"

    @property
    def is_empty(self) -> bool:
        return self.value in (None, "", []) and self.worker_score is None and self.family_score is None


class AssessmentSettings(models.Model):
    """The partnership's review reminders: how many days before the review date the assessor is
    reminded, and how many days after it an overdue review escalates to the team's lead."""

    remind_days_before = models.PositiveSmallIntegerField(default=7)
    escalate_after_days = models.PositiveSmallIntegerField(default=7)

    def __str__(self) -> str:
        return "assessment settings"

    @classmethod
    def current(cls) -> AssessmentSettings:
        return cls.objects.order_by("pk").first() or cls()


class ReviewReminder(models.Model):
    """A reminder sent for an assessment's review date: one row per assessment, kind and date,
    inserted in the same transaction as its e-mail, so it is sent once whoever sends it (a second
    sender waits on the unique row, then finds it taken). A new review date gets new reminders."""

    class Kind(models.TextChoices):
        BEFORE = "before", "Before the review date"
        DUE = "due", "On the review date"
        ESCALATED = "escalated", "Overdue, to the team's lead"

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    review_date = models.DateField()
    sent_to = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["assessment", "kind", "review_date"],
                                               name="assessments_reminder_once")]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.kind} reminder of assessment {self.assessment_id}"


class AssessmentTask(models.Model):
    """A task set from a question of an assessment, asking someone for the answer: the task links
    back to the question, and the question shows the task's latest reply."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="tasks")
    item = models.ForeignKey(TemplateItem, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(AssessmentMember, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    task = models.OneToOneField("tasks.Task", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"task {self.task_id} from assessment {self.assessment_id}"
