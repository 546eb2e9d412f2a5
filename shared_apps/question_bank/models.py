"""The national question bank, in public: questions, their published versions, and partnerships'
submissions.

- ``Question``: a question's identity across its versions (``code``, e.g. ``HOU-01``), the name
  of the partnership it came from (or none: seeded nationally), and whether it is retired.
- ``QuestionVersion``: what one published version asks. Never changed nor removed (a trigger
  refuses both, migration 0001): a change is a new version, templates pin versions, and a
  retired question's versions stay valid where they are used.
- ``Submission``: a partnership's proposal, a new question or a new version of one (``revises``),
  from draft to published or rejected. Its rows belong to a partnership (``partnership_schema``):
  row-level security gives a partnership's role its own rows only, and lets it write them only
  while they are drafts, submitted or withdrawn (``concord.db_roles.PARTNERSHIP_ROWS``). Nothing
  identifies a practitioner: the partnership is named, not the person (the partnership's own audit
  trail says who).

Nothing here points into a partnership; partnerships' templates and answers point here.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone


class AnswerType(models.TextChoices):
    YES_NO = "yes_no", "Yes or no"
    YES_NO_UNKNOWN = "yes_no_unknown", "Yes, no or don't know"
    SINGLE_CHOICE = "single_choice", "One choice from a list"
    MULTIPLE_CHOICE = "multiple_choice", "Any choices from a list"
    NUMBER = "number", "A number"
    DATE = "date", "A date"
    SCALE_5 = "scale_5", "A scale of 1 to 5"
    SCALE_10 = "scale_10", "A scale of 1 to 10"
    TEXT = "text", "Free text"


class Nature(models.TextChoices):
    OBJECTIVE = "objective", "Objective (a fact that can be checked)"
    SUBJECTIVE = "subjective", "Subjective (a judgement or a person's own view)"


class Domain(models.TextChoices):
    HOUSING = "housing", "Housing"
    EDUCATION = "education", "Education and learning"
    EMPLOYMENT = "employment", "Employment and training"
    FINANCE = "finance", "Money and debt"
    HEALTH = "health", "Physical health"
    MENTAL_HEALTH = "mental_health", "Mental health and wellbeing"
    SUBSTANCE_USE = "substance_use", "Drugs and alcohol"
    CRIME_ASB = "crime_asb", "Crime and anti-social behaviour"
    DOMESTIC_ABUSE = "domestic_abuse", "Domestic abuse"
    PARENTING = "parenting", "Parenting"
    CHILDRENS_WELLBEING = "childrens_wellbeing", "Children's wellbeing"
    RELATIONSHIPS = "relationships", "Family and relationships"


class QuestionContent(models.Model):
    """What a question asks and how it is answered: the same fields for a bank version, a
    submission and (in a partnership) a local question. ``content.content_errors`` says what is
    wrong with a set of them; ``content.answer_errors`` checks an answer against them."""

    wording = models.CharField(max_length=300)
    guidance = models.TextField(blank=True, max_length=1000)
    answer_type = models.CharField(max_length=16, choices=AnswerType.choices)
    nature = models.CharField(max_length=12, choices=Nature.choices)
    domain = models.CharField(max_length=24, choices=Domain.choices)
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    options = ArrayField(models.CharField(max_length=80), default=list, blank=True)  # the choices
    unit = models.CharField(max_length=30, blank=True)  # numbers: "£", "%", "days"
    minimum = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    maximum = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    anchors = ArrayField(models.CharField(max_length=200), default=list, blank=True)  # scales: one per point

    CONTENT_FIELDS = ("wording", "guidance", "answer_type", "nature", "domain", "tags", "options", "unit",
                      "minimum", "maximum", "anchors")  # fmt: skip

    class Meta:
        abstract = True

    def content(self) -> dict:
        return {name: getattr(self, name) for name in self.CONTENT_FIELDS}

    @property
    def scale_points(self) -> int:
        return {AnswerType.SCALE_5: 5, AnswerType.SCALE_10: 10}.get(self.answer_type, 0)

    @property
    def is_scale(self) -> bool:
        return self.scale_points > 0

    @property
    def scale_steps(self) -> list[tuple[int, str]]:
        """``[(1, "anchor of 1"), (2, ...)]``: a scale's points with what each describes."""
        return list(enumerate(self.anchors, start=1))


class Question(models.Model):
    code = models.CharField(max_length=16, unique=True)
    origin_name = models.CharField(max_length=200, blank=True, help_text="The partnership it came from, if any")
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None


class QuestionVersion(QuestionContent):
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    published_at = models.DateTimeField(default=timezone.now)
    submission = models.OneToOneField("Submission", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["question__code", "number"]
        constraints = [models.UniqueConstraint(fields=["question", "number"], name="question_bank_version_unique")]

    def __str__(self) -> str:
        return f"{self.question.code} v{self.number}"

    @property
    def label(self) -> str:
        return f"{self.question.code} version {self.number}"


class Submission(QuestionContent):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        PUBLISHED = "published", "Published"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"

    # What a partnership's role may write (the policy's check, concord.db_roles.PARTNERSHIP_ROWS).
    PARTNERSHIP_STATES = (State.DRAFT, State.SUBMITTED, State.WITHDRAWN)
    EDITABLE_STATES = (State.DRAFT,)

    partnership_schema = models.CharField(max_length=63)
    revises = models.ForeignKey(Question, on_delete=models.PROTECT, null=True, blank=True, related_name="submissions")
    state = models.CharField(max_length=12, choices=State.choices, default=State.DRAFT)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True, max_length=2000)
    # Published with edits: {field: {"submitted": ..., "published": ...}} for each field changed.
    changes = models.JSONField(default=dict, blank=True)
    published_version = models.ForeignKey(
        QuestionVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        indexes = [models.Index(fields=["partnership_schema", "state"], name="question_bank_sub_schema_state")]

    def __str__(self) -> str:
        return f"submission {self.pk} ({self.state})"

    @property
    def change_rows(self) -> list[tuple[str, str, str]]:
        """What the operators changed when publishing: (field's label, as submitted, as published)."""

        def shown(name, value) -> str:
            if value in (None, "", []):
                return "(none)"
            if isinstance(value, list):
                return "; ".join(str(item) for item in value)
            choices = dict(self._meta.get_field(name).choices or ())
            return str(choices.get(value, value))

        return [
            (self._meta.get_field(name).verbose_name.capitalize(), shown(name, change.get("submitted")),
             shown(name, change.get("published")))
            for name, change in (self.changes or {}).items()
            if name in self.CONTENT_FIELDS
        ]  # fmt: skip
