"""Reads of the national question bank.

The bank's current questions (``bank_search``) are the latest version of each question not
retired: what new templates are offered. Older versions and retired questions stay readable by
their id (``access_version``): templates and answers pin them. A partnership reads its own
submissions (``*_for_partnership``; row-level security refuses it the others' in any case);
operators read every submitted one (``submissions_to_moderate``), each with its partnership's
name and nothing more.
"""

from __future__ import annotations

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404

from shared_apps.question_bank.models import Question, QuestionVersion, Submission
from tenants.models import Partnership

__all__ = [
    "access_question",
    "access_submission",
    "access_submission_for_partnership",
    "access_version",
    "bank_search",
    "bank_tags",
    "current_versions",
    "submissions_for_partnership",
    "submissions_to_moderate",
]


def current_versions() -> QuerySet[QuestionVersion]:
    """The latest version of every question that is not retired, by code."""
    latest = QuestionVersion.objects.filter(question_id=OuterRef("question_id")).order_by("-number").values("pk")[:1]
    return (
        QuestionVersion.objects.filter(question__retired_at__isnull=True, pk=Subquery(latest))
        .select_related("question")
        .order_by("question__code")
    )


def bank_search(*, text: str = "", domain: str = "", answer_type: str = "", nature: str = "",
                tag: str = "") -> QuerySet[QuestionVersion]:  # fmt: skip
    """Current questions matching every filter given: ``text`` in the wording, guidance, code or
    tags (each word), a domain, an answer type, a nature, a tag."""
    versions = current_versions()
    for word in (text or "").split()[:8]:
        versions = versions.filter(
            Q(wording__icontains=word) | Q(guidance__icontains=word) | Q(question__code__iexact=word)
            | Q(tags__contains=[word.lower()])
        )  # fmt: skip
    if domain:
        versions = versions.filter(domain=domain)
    if answer_type:
        versions = versions.filter(answer_type=answer_type)
    if nature:
        versions = versions.filter(nature=nature)
    if tag:
        versions = versions.filter(tags__contains=[tag.lower()])
    return versions


def bank_tags() -> list[str]:
    """Every tag of the current questions, in order."""
    tags = set()
    for row in current_versions().values_list("tags", flat=True):
        tags.update(row)
    return sorted(tags)


def access_question(*, code: str) -> Question:
    """A question with all its versions (newest first), retired or not; 404 if there is none."""
    versions = Prefetch("versions", queryset=QuestionVersion.objects.order_by("-number"))
    question = Question.objects.prefetch_related(versions).filter(code=str(code or "")[:16]).first()
    if question is None:
        raise Http404("No such question")
    return question


def access_version(*, version_id) -> QuestionVersion:
    version = None
    if str(version_id).isdigit():
        version = QuestionVersion.objects.select_related("question").filter(pk=version_id).first()
    if version is None:
        raise Http404("No such question version")
    return version


def _with_partnership_name(submissions: QuerySet[Submission]) -> QuerySet[Submission]:
    name = Partnership.objects.filter(schema_name=OuterRef("partnership_schema")).values("name")[:1]
    return submissions.annotate(partnership_name=Subquery(name)).select_related(
        "revises", "published_version__question"
    )


def submissions_for_partnership(*, schema_name: str, states=None) -> QuerySet[Submission]:
    """The partnership's own submissions, latest change first."""
    submissions = Submission.objects.filter(partnership_schema=schema_name)
    if states:
        submissions = submissions.filter(state__in=states)
    return _with_partnership_name(submissions)


def access_submission_for_partnership(*, schema_name: str, submission_id) -> Submission:
    """One of the partnership's submissions; the same 404 for "missing" and "another's"."""
    submission = None
    if str(submission_id).isdigit():
        submission = submissions_for_partnership(schema_name=schema_name).filter(pk=submission_id).first()
    if submission is None:
        raise Http404("No such submission")
    return submission


def submissions_to_moderate(*, states=(Submission.State.SUBMITTED,)) -> QuerySet[Submission]:
    """Submissions in ``states`` (waiting for a decision, by default), oldest submitted first.
    Drafts and withdrawn ones are the partnership's business: never listed."""
    states = [state for state in states if state not in (Submission.State.DRAFT, Submission.State.WITHDRAWN)]
    submissions = Submission.objects.filter(state__in=states).order_by("submitted_at", "pk")
    return _with_partnership_name(submissions)


def access_submission(*, submission_id) -> Submission:
    """A submission an operator may read (not a draft, not withdrawn); 404 otherwise."""
    submission = None
    if str(submission_id).isdigit():
        states = (Submission.State.SUBMITTED, Submission.State.PUBLISHED, Submission.State.REJECTED)
        submission = submissions_to_moderate(states=states).filter(pk=submission_id).first()
    if submission is None:
        raise Http404("No such submission")
    return submission
