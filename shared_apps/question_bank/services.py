"""Writes of the national question bank: keyword-only, validated, each in one transaction.

Two callers, named so in each function: a partnership writing its own submissions
(``*_for_partnership``: run in the partnership's context, where row-level security lets its role
touch its own rows only, and only while they are drafts, submitted or withdrawn), and the
platform's operators moderating them and keeping the bank (run in public). Auditing is the
caller's: the partnership's trail says who wrote a submission, the operators' trail who
decided it. Nothing here knows a person.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from concord.errors import ChangedSinceOpened, WrongState
from shared_apps.question_bank.content import clean_content, content_changes
from shared_apps.question_bank.models import Domain, Question, QuestionVersion, Submission

__all__ = [
    "national_questions_seed",
    "question_retire",
    "question_version_publish",
    "submission_create_for_partnership",
    "submission_publish",
    "submission_reject",
    "submission_submit_for_partnership",
    "submission_update_for_partnership",
    "submission_withdraw_for_partnership",
]

CODE_PREFIXES = {
    Domain.HOUSING: "HOU", Domain.EDUCATION: "EDU", Domain.EMPLOYMENT: "EMP", Domain.FINANCE: "FIN",
    Domain.HEALTH: "HEA", Domain.MENTAL_HEALTH: "MEN", Domain.SUBSTANCE_USE: "SUB", Domain.CRIME_ASB: "CRI",
    Domain.DOMESTIC_ABUSE: "DAB", Domain.PARENTING: "PAR", Domain.CHILDRENS_WELLBEING: "CHI",
    Domain.RELATIONSHIPS: "REL",
}  # fmt: skip


def _locked(submission: Submission, *, version: int, schema_name: str | None = None) -> Submission:
    rows = Submission.objects.select_for_update().filter(pk=submission.pk)
    if schema_name is not None:
        rows = rows.filter(partnership_schema=schema_name)
    locked = rows.first()
    if locked is None:
        raise Submission.DoesNotExist("No such submission")
    if locked.version != version:
        raise ChangedSinceOpened()
    return locked


def _require_state(submission: Submission, states, doing: str) -> None:
    if submission.state not in states:
        raise WrongState(f"This submission is {submission.get_state_display().lower()}: it cannot be {doing}.")


def _save(submission: Submission, **fields) -> Submission:
    fields.setdefault("updated_at", timezone.now())
    for name, value in fields.items():
        setattr(submission, name, value)
    submission.version = F("version") + 1
    submission.save(update_fields=[*fields, "version"])
    submission.refresh_from_db(fields=["version"])
    return submission


# --- A partnership's own submissions --------------------------------------------------------


@transaction.atomic
def submission_create_for_partnership(
    *, schema_name: str, content: dict, revises: Question | None = None
) -> Submission:
    """A draft of a new question (or of a new version of ``revises``), owned by ``schema_name``."""
    if revises is not None and revises.is_retired:
        raise WrongState("This question is retired: propose a new question instead.")
    return Submission.objects.create(partnership_schema=schema_name, revises=revises, **clean_content(content))


@transaction.atomic
def submission_update_for_partnership(*, schema_name: str, submission: Submission, version: int,
                                      content: dict) -> Submission:  # fmt: skip
    """Change a draft's content (only a draft, and only if nobody saved it since ``version``)."""
    locked = _locked(submission, version=version, schema_name=schema_name)
    _require_state(locked, Submission.EDITABLE_STATES, "changed")
    return _save(locked, **clean_content(content))


@transaction.atomic
def submission_submit_for_partnership(*, schema_name: str, submission: Submission, version: int) -> Submission:
    """Send a draft to the operators for moderation (its content checked again first)."""
    locked = _locked(submission, version=version, schema_name=schema_name)
    _require_state(locked, Submission.EDITABLE_STATES, "submitted")
    clean_content(locked.content())
    return _save(locked, state=Submission.State.SUBMITTED, submitted_at=timezone.now())


@transaction.atomic
def submission_withdraw_for_partnership(*, schema_name: str, submission: Submission, version: int) -> Submission:
    """Take back a draft or a submission the operators have not decided yet."""
    locked = _locked(submission, version=version, schema_name=schema_name)
    _require_state(locked, (Submission.State.DRAFT, Submission.State.SUBMITTED), "withdrawn")
    return _save(locked, state=Submission.State.WITHDRAWN)


# --- The operators' moderation -----------------------------------------------------------------


def _next_code(domain: str) -> str:
    prefix = CODE_PREFIXES[domain]
    numbers = [int(code.rsplit("-", 1)[1]) for code in Question.objects.filter(code__startswith=prefix + "-")
               .values_list("code", flat=True) if code.rsplit("-", 1)[1].isdigit()]  # fmt: skip
    return f"{prefix}-{max(numbers, default=0) + 1:02d}"


def _new_question(*, domain: str, origin_name: str) -> Question:
    for _ in range(5):  # another operator took the code at the same moment: take the next
        try:
            with transaction.atomic():
                return Question.objects.create(code=_next_code(domain), origin_name=origin_name)
        except IntegrityError:
            continue
    raise WrongState("Could not number the new question; try again.")


@transaction.atomic
def question_version_publish(
    *, question: Question, content: dict, submission: Submission | None = None
) -> QuestionVersion:
    """Publish a new version of ``question`` (the next number); the earlier ones stay as they are."""
    locked = Question.objects.select_for_update().get(pk=question.pk)
    if locked.is_retired:
        raise WrongState("This question is retired: it gets no new versions.")
    number = (locked.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    return QuestionVersion.objects.create(question=locked, number=number, submission=submission,
                                          **clean_content(content))  # fmt: skip


@transaction.atomic
def submission_publish(*, submission: Submission, version: int, partnership_name: str, edits: dict | None = None,
                       note: str = "") -> QuestionVersion:  # fmt: skip
    """Publish a submitted question as submitted, or with the operator's ``edits`` (the changed
    fields are kept on the submission, so its partnership sees what changed): a new question
    coded by its domain, or the next version of the question it revises."""
    locked = _locked(submission, version=version)
    _require_state(locked, (Submission.State.SUBMITTED,), "published")
    submitted = clean_content(locked.content())
    published = clean_content({**submitted, **(edits or {})})
    if locked.revises_id is not None:
        question = locked.revises
    else:
        question = _new_question(domain=published["domain"], origin_name=partnership_name)
    published_version = question_version_publish(question=question, content=published, submission=locked)
    _save(locked, state=Submission.State.PUBLISHED, decided_at=timezone.now(), decision_reason=(note or "").strip(),
          changes=content_changes(submitted, published), published_version=published_version)  # fmt: skip
    return published_version


@transaction.atomic
def submission_reject(*, submission: Submission, version: int, reason: str) -> Submission:
    """Reject a submitted question, with the reason its partnership will read."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the question is rejected: the partnership will read it."]})
    locked = _locked(submission, version=version)
    _require_state(locked, (Submission.State.SUBMITTED,), "rejected")
    return _save(locked, state=Submission.State.REJECTED, decided_at=timezone.now(), decision_reason=reason[:2000])


@transaction.atomic
def question_retire(*, question: Question, reason: str) -> Question:
    """No longer offered for new templates; every version stays valid where it is used."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the question is retired."]})
    locked = Question.objects.select_for_update().get(pk=question.pk)
    if locked.is_retired:
        raise WrongState("This question is already retired.")
    locked.retired_at, locked.retired_reason = timezone.now(), reason[:300]
    locked.save(update_fields=["retired_at", "retired_reason"])
    return locked


# --- The national seed ------------------------------------------------------------------------


@transaction.atomic
def national_questions_seed(questions: list[dict]) -> int:
    """Publish each of ``questions`` (dicts with ``code`` and the content) as version 1 of a
    national question, unless a question has that code already; returns how many were added."""
    existing = set(Question.objects.values_list("code", flat=True))
    added = 0
    for item in questions:
        if item["code"] in existing:
            continue
        content = clean_content({name: item.get(name) for name in QuestionVersion.CONTENT_FIELDS})
        question = Question.objects.create(code=item["code"])
        QuestionVersion.objects.create(question=question, number=1, **content)
        added += 1
    return added
