"""Reads of assessments, always through the user.

An assessment is visible to whoever may see every record it was started from (its family, its
profile, its case: casework's rules, in the query), and, once restricted, only to the people and
teams it names among them. Its members are shown only if the user may see their profiles; the
others are counted, never named, and their answers never read. Changing it takes a role that
writes and the right to edit the record it was started from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404

from tenant_apps.assessments.models import (
    Answer,
    Assessment,
    AssessmentMember,
    AssessmentSettings,
    AssessmentTask,
    TemplateItem,
    TemplateSection,
    TemplateVersion,
)
from tenant_apps.assessments.selectors.templates import version_structure
from tenant_apps.casework.models import FamilyMember
from tenant_apps.casework.selectors import cases_visible_to, families_visible_to, profiles_visible_to, user_scope
from tenant_apps.tasks.models import TaskReply, partnership_today
from tenant_apps.tasks.selectors import tasks_visible_to

__all__ = [
    "AssessmentPage",
    "Target",
    "access_assessment",
    "answer_key",
    "assessment_settings",
    "assessments_due",
    "assessments_in_progress",
    "assessment_page",
    "assessments_of",
    "assessments_visible_to",
    "may_edit_assessment",
]


def _subject_q(user, *, edit: bool) -> Q:
    return (
        (Q(family__isnull=True) | Q(family__in=families_visible_to(user, edit=edit)))
        & (Q(profile__isnull=True) | Q(profile__in=profiles_visible_to(user, edit=edit)))
        & (Q(case__isnull=True) | Q(case__in=cases_visible_to(user, edit=edit)))
    )


def _restriction_q(user) -> Q:
    scope = user_scope(user)
    named_user = Assessment.restricted_users.through.objects.filter(assessment_id=OuterRef("pk"), user_id=scope.user_id)
    named_team = Assessment.restricted_teams.through.objects.filter(assessment_id=OuterRef("pk"),
                                                                   team_id__in=scope.team_ids)  # fmt: skip
    return Q(restricted=False) | Q(Exists(named_user)) | Q(Exists(named_team))


def assessments_visible_to(user, *, edit: bool = False) -> QuerySet[Assessment]:
    if edit and user.is_read_only:
        return Assessment.objects.none()
    return Assessment.objects.filter(_subject_q(user, edit=edit), _restriction_q(user))


def access_assessment(*, user, assessment_id, edit: bool = False) -> Assessment:
    """The same 404 for "missing", "not yours" and "restricted from you"."""
    found = None
    if str(assessment_id).isdigit():
        found = (assessments_visible_to(user, edit=edit)
                 .select_related("template_version__template", "family", "profile", "case", "assessor", "completed_by")
                 .filter(pk=assessment_id).first())  # fmt: skip
    if found is None:
        raise Http404("No such assessment")
    return found


def assessment_settings() -> AssessmentSettings:
    """The partnership's review reminder days (the defaults until an admin sets them)."""
    return AssessmentSettings.current()


def assessments_due(*, user, within_days: int = 14) -> QuerySet[Assessment]:
    """The user's own completed assessments due for review within ``within_days`` or overdue, not
    yet reviewed, soonest first; and the reviews they have in progress come from ``assessments_in_progress``."""
    reviewed = Assessment.objects.filter(previous=OuterRef("pk"))
    horizon = partnership_today() + dt.timedelta(days=within_days)
    return (assessments_visible_to(user).filter(assessor_id=user.pk, state=Assessment.State.COMPLETED,
                                                review_date__lte=horizon)
            .exclude(Exists(reviewed)).select_related("template_version__template", "family", "profile", "case")
            .order_by("review_date", "pk"))  # fmt: skip


def assessments_in_progress(*, user) -> QuerySet[Assessment]:
    """The user's own assessments still in progress, latest change first."""
    return (
        assessments_visible_to(user)
        .filter(assessor_id=user.pk, state=Assessment.State.IN_PROGRESS)
        .select_related("template_version__template", "family", "profile", "case")
        .order_by("-updated_at", "-pk")
    )


def may_edit_assessment(user, assessment: Assessment) -> bool:
    return not assessment.is_completed and assessments_visible_to(user, edit=True).filter(pk=assessment.pk).exists()


def assessments_of(*, user, family=None, profile=None, case=None) -> QuerySet[Assessment]:
    """The assessments of a record the user sees, newest first."""
    found = assessments_visible_to(user).select_related("template_version__template", "assessor")
    if family is not None:
        found = found.filter(family=family)
    if profile is not None:
        found = found.filter(Q(profile=profile) | Q(members__profile=profile)).distinct()
    if case is not None:
        found = found.filter(case=case)
    return found.order_by("-started_at", "-pk")


def answer_key(item_id: int, member_id: int | None) -> str:
    """How a form names one answer: ``<item>-<member>`` or ``<item>-family``."""
    return f"{item_id}-{member_id if member_id is not None else 'family'}"


@dataclass
class Target:
    """One answer to give: an item, about a member (or the family), with what is saved."""

    item: TemplateItem
    member: AssessmentMember | None
    answer: Answer | None
    key: str
    errors: list[str] = field(default_factory=list)
    conflict: object = None  # services.AnswerConflict when someone saved it meanwhile
    shown: dict = field(default_factory=dict)  # what the form's fields show (forms.field_values)
    asks: list = field(default_factory=list)  # tasks set from it that the user may see (latest_reply on each)
    asks_hidden: int = 0  # tasks set from it by others, that the user may not see
    html: str = ""  # its form group, once the page has built it (answer_html)

    @property
    def question(self):
        return self.item.question

    @property
    def is_answered(self) -> bool:
        return self.answer is not None and not self.answer.is_empty


@dataclass(frozen=True)
class SectionProgress:
    section: object
    number: int
    targets: list[Target]  # the section's answers (empty for the other sections of a one-section page)
    required: int  # the required answers it asks
    answered: int  # how many of those are given


@dataclass(frozen=True)
class AssessmentPage:
    assessment: Assessment
    version: object  # the template version, with its structure
    members: list[AssessmentMember]  # those the user may see
    hidden_members: int  # pulled through, but the user may not see them
    sections: list[SectionProgress]
    may_edit: bool
    former_member_ids: frozenset[int]  # members no longer in the family (their answers kept)

    def find(self, key: str) -> tuple[int, Target] | None:
        """The section number and the target an answer's key names, or None."""
        return next(((s.number, t) for s in self.sections for t in s.targets if t.key == key), None)

    def section(self, number: int) -> SectionProgress:
        if not 1 <= number <= len(self.sections):
            raise Http404("No such section")
        return self.sections[number - 1]


def _about(asked_of: str, members: list[AssessmentMember]) -> list[AssessmentMember | None]:
    """Whom an item is asked about: the family (None), each named subject, or each member."""
    if asked_of == TemplateItem.AskedOf.FAMILY:
        return [None]
    if asked_of == TemplateItem.AskedOf.NAMED_SUBJECT:
        return [member for member in members if member.is_subject]
    return members


def _targets(section, members: list[AssessmentMember], answers: dict) -> list[Target]:
    targets = []
    for item in section.items.all():
        for member in _about(item.asked_of, members):
            member_id = member.pk if member is not None else None
            targets.append(Target(item=item, member=member, answer=answers.get((item.pk, member_id)),
                                  key=answer_key(item.pk, member_id)))  # fmt: skip
    return targets


def _attach_asks(user, assessment: Assessment, sections) -> None:
    """Each target's tasks (one query): those the user may see, with their latest reply."""
    latest = TaskReply.objects.filter(task_id=OuterRef("task_id")).order_by("-created_at", "-pk")
    asks = (AssessmentTask.objects.filter(assessment=assessment).select_related("task__assigned_user",
                                                                                "task__assigned_team__agency")
            .annotate(seen=Exists(tasks_visible_to(user).filter(pk=OuterRef("task_id"))),
                      latest_reply=Subquery(latest.values("body")[:1]))
            .order_by("created_at", "pk"))  # fmt: skip
    by_key = {target.key: target for section in sections for target in section.targets}
    for ask in asks:
        target = by_key.get(answer_key(ask.item_id, ask.member_id))
        if target is None:
            continue
        if ask.seen:
            target.asks.append(ask)
        else:
            target.asks_hidden += 1


def _progress(version_id: int, members: list[AssessmentMember], answered_keys: set) -> dict:
    """{section id: (required answers, of which answered)}: from the items' ids alone (one query)."""
    counts: dict[int, list[int]] = {}
    rows = TemplateItem.objects.filter(section__template_version_id=version_id, required=True)
    for item_id, section_id, asked_of in rows.values_list("pk", "section_id", "asked_of"):
        about = [member.pk if member is not None else None for member in _about(asked_of, members)]
        count = counts.setdefault(section_id, [0, 0])
        count[0] += len(about)
        count[1] += sum(1 for member_id in about if (item_id, member_id) in answered_keys)
    return counts


def _answered_keys(assessment: Assessment, seen_ids: list[int]) -> set:
    """The (item, member) of every answer given (one query, no rows built)."""
    rows = Answer.objects.filter(assessment=assessment).filter(Q(member__isnull=True) | Q(member_id__in=seen_ids))
    keys = set()
    for item_id, member_id, value, worker, family in rows.values_list("item_id", "member_id", "value", "worker_score",
                                                                      "family_score"):  # fmt: skip
        if value not in (None, "", []) or worker is not None or family is not None:
            keys.add((item_id, member_id))
    return keys


def assessment_page(*, user, assessment: Assessment, only: int | None = None) -> AssessmentPage:
    """Everything an assessment's pages show, in a number of queries that does not grow with its
    questions, members or sections. ``only``: the number of the one section a page shows, whose
    answers alone are read (the others' progress is counted from the answers' keys)."""
    visible_profile = Exists(profiles_visible_to(user).filter(pk=OuterRef("profile_id")))
    all_members = AssessmentMember.objects.filter(assessment=assessment).annotate(seen=visible_profile)
    rows = list(all_members.select_related("profile").order_by("position", "pk"))
    members = [member for member in rows if member.seen]
    seen_ids = [member.pk for member in members]
    answers = Answer.objects.filter(assessment=assessment).filter(Q(member__isnull=True) | Q(member_id__in=seen_ids))
    if only is None:
        version = version_structure(assessment.template_version)
        chosen = list(version.sections.all())
        section_rows = chosen
    else:
        version = TemplateVersion.objects.select_related("template").get(pk=assessment.template_version_id)
        section_rows = list(TemplateSection.objects.filter(template_version=version).order_by("position", "pk"))
        if not 1 <= only <= len(section_rows):
            raise Http404("No such section")
        items = TemplateItem.objects.select_related("bank_version__question", "local_version__question", "domain")
        chosen = list(TemplateSection.objects.filter(pk=section_rows[only - 1].pk)
                      .prefetch_related(Prefetch("items", queryset=items.order_by("position", "pk"))))  # fmt: skip
        answers = answers.filter(item__section_id=chosen[0].pk)
    answers = {(answer.item_id, answer.member_id): answer for answer in answers}
    built = {section.pk: _targets(section, members, answers) for section in chosen}
    progress = _progress(version.pk, members, _answered_keys(assessment, seen_ids))
    sections = [SectionProgress(section=section, number=number, targets=built.get(section.pk, []),
                                required=progress.get(section.pk, [0, 0])[0],
                                answered=progress.get(section.pk, [0, 0])[1])
                for number, section in enumerate(section_rows, start=1)]  # fmt: skip
    _attach_asks(user, assessment, sections)
    former = frozenset()
    if assessment.family_id is not None:
        current = set(FamilyMember.objects.filter(family_id=assessment.family_id).values_list("profile_id", flat=True))
        former = frozenset(member.pk for member in members if member.profile_id not in current)
    return AssessmentPage(assessment=assessment, version=version, members=members,
                          hidden_members=len(rows) - len(members), sections=sections,
                          may_edit=may_edit_assessment(user, assessment), former_member_ids=former)  # fmt: skip
