"""Writes of assessments: start, save answers, complete. Keyword-only, validated, audited, each
in one transaction.

Saving never loses an answer to another person's save: each answer carries the version the
writer opened (and what it said then). An answer the writer did not change is left alone; one
they changed is written if nobody saved it since; if somebody did, and with a different answer,
theirs is kept and the writer is shown both (``AnswerConflict``), while the writer's other
answers are saved. Invalid input saves nothing and names each question and member at fault.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from concord.errors import WrongState
from shared_apps.question_bank.content import answer_text, clean_answer, clean_score
from tenant_apps.assessments.models import (
    Answer,
    Assessment,
    AssessmentMember,
    AssessmentTask,
    Template,
    TemplateItem,
    TemplateSection,
    TemplateVersion,
)
from tenant_apps.assessments.selectors.assessments import assessment_page, assessments_visible_to
from tenant_apps.audit.services import audit_record
from tenant_apps.casework.models import CaseSubject, FamilyMember
from tenant_apps.casework.selectors import (
    cases_visible_to,
    families_visible_to,
    profiles_visible_to,
)
from tenant_apps.tasks.models import partnership_today
from tenant_apps.tasks.services import task_create

__all__ = ["AnswerConflict", "AnswerInput", "SaveResult", "assessment_complete", "assessment_restrict",
           "assessment_save", "assessment_start", "assessment_task_ask", "assessment_viewed", "locked_for_change",
           "default_review_date"]  # fmt: skip

REVIEW_AFTER_DEFAULT = dt.timedelta(days=91)
REVIEW_WITHIN = dt.timedelta(days=2 * 366)


def _audit(action: str, *, user, request, assessment: Assessment, summary: str) -> None:
    audit_record(action=action, request=request, actor=user, object_type="assessment", object_id=assessment.pk,
                 summary=summary)  # fmt: skip


def locked_for_change(
    *, user, assessment: Assessment, refusal: str = "You may not change this assessment."
) -> Assessment:
    """The assessment's row, locked until the transaction ends, if ``user`` may change it (a role
    that writes, and the right to edit its record); ``PermissionDenied`` otherwise. Every write of
    an assessment takes this lock first, so its answers are written by one transaction at a time."""
    locked = assessments_visible_to(user, edit=True).select_for_update(of=("self",)).filter(pk=assessment.pk).first()
    if locked is None:
        raise PermissionDenied(refusal)
    return locked


@transaction.atomic
def assessment_viewed(*, user, request=None, assessment: Assessment, what: str = "") -> None:
    """Who read an assessment's answers (``what``: which page of it, never what it says)."""
    _audit("assessment.viewed", user=user, request=request, assessment=assessment, summary=what)


@transaction.atomic
def assessment_start(*, user, request=None, template: Template, family=None, profile=None, case=None,
                     subject_profile_ids=()) -> Assessment:  # fmt: skip
    """Start an assessment on the template's version in use, from a family, a profile or a case
    the user may edit. Its members are pulled through: the family's current members, the case's
    subjects or the profile, each only if the user may see them (the others are left out, as a
    family's page counts them and never names them). Named subjects: for a family, the members
    chosen (``subject_profile_ids``); for a case, its subjects; for a profile, the person."""
    if user.is_read_only:
        raise PermissionDenied("Viewers cannot start assessments.")
    if [family, profile, case].count(None) != 2:
        raise ValidationError({"subject": ["Start an assessment from one family, profile or case."]})
    if template.status != Template.Status.IN_USE:
        raise ValidationError({"template": ["This template is not in use: choose another."]})
    version = template.versions.filter(state=TemplateVersion.State.PUBLISHED).first()
    if case is not None and not template.case_types.filter(pk=case.case_type_id).exists():
        raise ValidationError({"template": ["This template is not offered on this type of case."]})
    visible = profiles_visible_to(user)
    if family is not None:
        if not families_visible_to(user, edit=True).filter(pk=family.pk).exists():
            raise PermissionDenied("You may not assess this family.")
        rows = FamilyMember.objects.filter(family=family, profile__in=visible).select_related("profile")
        people = [(row.profile, row.get_relationship_display(), row.profile_id in set(subject_profile_ids))
                  for row in rows.order_by("profile__last_name", "profile__first_name", "pk")]  # fmt: skip
    elif case is not None:
        if not cases_visible_to(user, edit=True).filter(pk=case.pk).exists():
            raise PermissionDenied("You may not assess this case.")
        rows = CaseSubject.objects.filter(case=case, profile__in=visible).select_related("profile")
        people = [(row.profile, row.get_role_display(), True) for row in rows.order_by("pk")]
    else:
        if not profiles_visible_to(user, edit=True).filter(pk=profile.pk).exists():
            raise PermissionDenied("You may not assess this person.")
        people = [(profile, "", True)]
    asks_subjects = TemplateItem.objects.filter(
        section__template_version=version, asked_of=TemplateItem.AskedOf.NAMED_SUBJECT
    ).exists()
    if asks_subjects and not any(is_subject for _, _, is_subject in people):
        raise ValidationError({"subjects": ["Choose who the assessment is about: this template asks questions "
                                            "of its named subjects."]})  # fmt: skip
    assessment = Assessment.objects.create(template_version=version, family=family, profile=profile, case=case,
                                           assessor=user)  # fmt: skip
    AssessmentMember.objects.bulk_create(
        AssessmentMember(assessment=assessment, profile=person, relationship=relationship, is_subject=is_subject,
                         position=position)
        for position, (person, relationship, is_subject) in enumerate(people, start=1)
    )  # fmt: skip
    _audit("assessment.started", user=user, request=request, assessment=assessment,
           summary=f"assessment {assessment.pk} started on template {template.pk} v{version.number}")  # fmt: skip
    return assessment


# --- Saving ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerInput:
    """One answer as posted: its key (``<item>-<member>``), the new value and scores, and the
    version and value the writer opened (``original``: None for an answer not given then)."""

    key: str
    value: object = None
    worker_score: object = None
    family_score: object = None
    worker_blank_reason: str = ""
    family_blank_reason: str = ""
    version: int = 0
    original: dict | None = None


@dataclass(frozen=True)
class AnswerConflict:
    key: str
    theirs: str  # the saved answer, as a person reads it
    yours: str
    by: str  # who saved theirs


@dataclass(frozen=True)
class SaveResult:
    saved: int
    conflicts: list[AnswerConflict]
    saved_at: dt.datetime


def _stored(answer: Answer | None) -> dict:
    if answer is None:
        return {"value": None, "worker_score": None, "family_score": None, "worker_blank_reason": "",
                "family_blank_reason": ""}  # fmt: skip
    return {"value": answer.value, "worker_score": answer.worker_score, "family_score": answer.family_score,
            "worker_blank_reason": answer.worker_blank_reason,
            "family_blank_reason": answer.family_blank_reason}  # fmt: skip


def _label(target) -> str:
    who = f" ({target.member.profile.display_name})" if target.member is not None else ""
    return f"“{target.question.wording}”{who}"


def _clean(target, posted: AnswerInput) -> dict:
    question = target.question
    reasons = {"worker_blank_reason": (posted.worker_blank_reason or "").strip()[:300],
               "family_blank_reason": (posted.family_blank_reason or "").strip()[:300]}  # fmt: skip
    if question.is_scale:
        return {"value": None, "worker_score": clean_score(question, posted.worker_score),
                "family_score": clean_score(question, posted.family_score), **reasons}  # fmt: skip
    return {"value": clean_answer(question, posted.value), "worker_score": None, "family_score": None,
            "worker_blank_reason": "", "family_blank_reason": ""}  # fmt: skip


def _shown(question, stored: dict) -> str:
    if question.is_scale:
        parts = []
        for who, name in (("worker", "Worker"), ("family", "Family")):
            score = stored[f"{who}_score"]
            parts.append(f"{name}: {score}" if score is not None else f"{name}: none")
        return ", ".join(parts)
    return answer_text(question, stored["value"]) or "(no answer)"


@transaction.atomic
def assessment_save(*, user, request=None, assessment: Assessment, answers: list[AnswerInput]) -> SaveResult:
    """Save the answers the writer changed (a section's, or any); see the module's docstring."""
    locked = locked_for_change(user=user, assessment=assessment)
    if locked.is_completed:
        raise WrongState("This assessment is completed: its answers cannot be changed.")
    page = assessment_page(user=user, assessment=locked, only=_section_of(locked, answers))
    targets = {target.key: target for section in page.sections for target in section.targets}
    errors: dict[str, list[str]] = {}
    cleaned = []
    for posted in answers:
        target = targets.get(posted.key)
        if target is None:
            errors[posted.key] = ["This question is not asked of this person here."]
            continue
        try:
            new = _clean(target, posted)
        except ValueError as error:
            errors[posted.key] = [f"{_label(target)}: {error}"]
            continue
        cleaned.append((target, posted, new))
    if errors:
        raise ValidationError(errors)
    saved, conflicts, now, creates, updates = 0, [], timezone.now(), [], []
    for target, posted, new in cleaned:
        current = _stored(target.answer)
        if posted.original is not None and new == {**_stored(None), **posted.original}:
            continue  # the writer did not change it
        if new == current:
            continue  # already so
        version = target.answer.version if target.answer is not None else 0
        if version != posted.version:
            by = target.answer.updated_by.get_full_name() if target.answer is not None else "someone"
            conflicts.append(AnswerConflict(key=target.key, theirs=_shown(target.question, current),
                                            yours=_shown(target.question, new), by=by))  # fmt: skip
            continue
        if target.answer is None:
            creates.append(Answer(assessment=locked, item=target.item, member=target.member, updated_by=user,
                                  updated_at=now, **new))  # fmt: skip
        else:
            answer = target.answer
            for name, value in new.items():
                setattr(answer, name, value)
            # The assessment's row is locked: nobody else writes its answers until this commits.
            answer.version, answer.updated_by, answer.updated_at = answer.version + 1, user, now
            updates.append(answer)
        saved += 1
    # One statement for the new answers and one for the changed ones, whatever their number.
    Answer.objects.bulk_create(creates)
    _update_answers(updates, user=user, now=now, assessment_id=locked.pk)
    if saved:
        Assessment.objects.filter(pk=locked.pk).update(updated_at=now, version=F("version") + 1)
        _audit("assessment.answers_saved", user=user, request=request, assessment=locked,
               summary=f"{saved} answer{'s' if saved != 1 else ''} saved")  # fmt: skip
    return SaveResult(saved=saved, conflicts=conflicts, saved_at=now)


def _section_of(assessment: Assessment, answers: list[AnswerInput]) -> int | None:
    """The number of the one section the answers belong to (a section's form posts its own), or
    None when they span several (the API may): then the whole assessment is read."""
    item_ids = {int(key) for key, _, _ in (a.key.partition("-") for a in answers) if key.isdigit() and len(key) < 19}
    sections = list(TemplateSection.objects.filter(template_version_id=assessment.template_version_id)
                    .order_by("position", "pk").values_list("pk", flat=True))  # fmt: skip
    posted = TemplateItem.objects.filter(pk__in=item_ids, section_id__in=sections)
    found = set(posted.values_list("section_id", flat=True))
    if len(found) != 1 or len(item_ids) == 0:
        return None
    return sections.index(found.pop()) + 1


def _update_answers(answers: list[Answer], *, user, now, assessment_id: int) -> None:
    """The changed answers in one ``UPDATE ... FROM (VALUES ...)``: Django's ``bulk_update``
    builds a ``CASE`` per column per row, which for a section of 120 answers was most of a save's
    time (cProfile: about 380 of 610 ms). Names come from the model; every value is a parameter."""
    if not answers:
        return
    table = connection.ops.quote_name(Answer._meta.db_table)
    rows = ", ".join(["(%s::bigint, %s::jsonb, %s::integer, %s::integer, %s, %s, %s::integer)"] * len(answers))
    params = []
    for answer in answers:
        value = None if answer.value is None else json.dumps(answer.value)
        params += [answer.pk, value, answer.worker_score, answer.family_score, answer.worker_blank_reason,
                   answer.family_blank_reason, answer.version]  # fmt: skip
    sql = (
        f"UPDATE {table} AS a SET value = v.value, worker_score = v.worker_score, family_score = v.family_score, "
        "worker_blank_reason = v.worker_reason, family_blank_reason = v.family_reason, version = v.version, "
        f"updated_by_id = %s, updated_at = %s FROM (VALUES {rows}) AS v(id, value, worker_score, family_score, "
        "worker_reason, family_reason, version) WHERE a.id = v.id AND a.assessment_id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, now, *params, assessment_id])  # in the order of the placeholders


# --- Completing -------------------------------------------------------------------------------------


def _review_date_errors(review_date) -> list[str]:
    today = partnership_today()
    if review_date is None:
        return ["Enter the date of the review."]
    if review_date <= today:
        return ["The review date must be in the future."]
    if review_date > today + REVIEW_WITHIN:
        return ["The review date must be within two years."]
    return []


def default_review_date() -> dt.date:
    return partnership_today() + REVIEW_AFTER_DEFAULT


@transaction.atomic
def assessment_complete(*, user, request=None, assessment: Assessment, review_date: dt.date | None) -> Assessment:
    """Complete: every required answer given (else each missing one is named, by question and
    person), then locked, with its review date."""
    locked = locked_for_change(user=user, assessment=assessment)
    if locked.is_completed:
        raise WrongState("This assessment is already completed.")
    errors: dict[str, list[str]] = {}
    if date_errors := _review_date_errors(review_date):
        errors["review_date"] = date_errors
    page = assessment_page(user=user, assessment=locked)
    missing = [target for section in page.sections for target in section.targets
               if target.item.required and not _given(target)]  # fmt: skip
    if missing:
        errors["answers"] = [f"Answer {_label(target)} in section {number}: it is required."
                             for number, section in enumerate(page.sections, start=1)
                             for target in section.targets if target in missing][:50]  # fmt: skip
    if page.hidden_members and _hidden_required(page):
        errors.setdefault("answers", []).append(
            f"{page.hidden_members} member{'s' if page.hidden_members != 1 else ''} you cannot see "
            f"{'have' if page.hidden_members != 1 else 'has'} required questions: ask whoever may see them "
            "to complete it."
        )  # fmt: skip
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    locked.state, locked.completed_at, locked.completed_by = Assessment.State.COMPLETED, now, user
    locked.review_date, locked.updated_at, locked.version = review_date, now, F("version") + 1
    locked.save(update_fields=["state", "completed_at", "completed_by", "review_date", "updated_at", "version"])
    locked.refresh_from_db(fields=["version"])
    _audit("assessment.completed", user=user, request=request, assessment=locked,
           summary=f"assessment {locked.pk} completed; review on {review_date:%Y-%m-%d}")  # fmt: skip
    return locked


def _given(target) -> bool:
    answer = target.answer
    if answer is None:
        return False
    if target.question.is_scale:  # each score given, or left blank with a reason
        worker = answer.worker_score is not None or bool(answer.worker_blank_reason)
        family = answer.family_score is not None or bool(answer.family_blank_reason)
        return worker and family
    return answer.value not in (None, "", [])


def _hidden_required(page) -> bool:
    """Whether some required question is asked of members (the hidden ones are members too)."""
    return any(item.required and item.asked_of != TemplateItem.AskedOf.FAMILY
               for section in page.version.sections.all() for item in section.items.all())  # fmt: skip


@transaction.atomic
def assessment_restrict(*, user, request=None, assessment: Assessment, teams=(), users=()) -> Assessment:
    """Restrict a completed assessment to the named teams and people (its restricter always kept).

    Narrowing only: whoever is named still needs to see the family, profile or case it is about
    (``selectors.assessments_visible_to`` asks both), so naming someone never widens who sees it;
    and a restricted assessment can only be restricted further, never opened up again here.
    """
    locked = locked_for_change(user=user, assessment=assessment)
    if not locked.is_completed:
        raise WrongState("Restrict an assessment once it is completed.")
    teams, users = list(teams), [person for person in users if person.pk != user.pk]
    if not teams and not users:
        raise ValidationError({"teams": ["Choose at least one team or person who may still see it."]})
    if locked.restricted:
        kept_teams = set(locked.restricted_teams.values_list("pk", flat=True))
        kept_users = set(locked.restricted_users.values_list("pk", flat=True))
        if any(team.pk not in kept_teams for team in teams) or any(p.pk not in kept_users for p in users):
            raise ValidationError({"teams": ["It is restricted already: you may only narrow it further."]})
    locked.restricted = True
    locked.save(update_fields=["restricted"])
    locked.restricted_teams.set(teams)
    locked.restricted_users.set([*users, user])
    _audit("assessment.restricted", user=user, request=request, assessment=locked,
           summary=f"restricted to teams {sorted(t.pk for t in teams)} "
                   f"and users {sorted([p.pk for p in users] + [user.pk])}")  # fmt: skip
    return locked


@transaction.atomic
def assessment_task_ask(
    *,
    user,
    request=None,
    assessment: Assessment,
    key: str,
    title: str,
    details: str = "",
    due_date,
    assigned_user=None,
    assigned_team=None,
    past_due_confirmed: bool = False,
):
    """Ask a person or a team for a question's answer: a task (``tasks.services.task_create``: its
    notices, its audit) that links back to the question, and the question shows its replies."""
    locked = locked_for_change(user=user, assessment=assessment)
    if locked.is_completed:
        raise WrongState("This assessment is completed: ask for information while it is in progress.")
    page = assessment_page(user=user, assessment=locked)
    found = page.find(key)
    if found is None:
        raise ValidationError({"key": ["This question is not asked of this person here."]})
    number, target = found
    link = reverse("assessments:section", kwargs={"assessment_id": locked.pk, "number": number}) + f"#q-{key}"
    profile = target.member.profile if target.member is not None else locked.profile
    task = task_create(user=user, request=request, title=title, details=details, due_date=due_date, case=locked.case,
                       profile=profile, assigned_user=assigned_user, assigned_team=assigned_team,
                       past_due_confirmed=past_due_confirmed, link=link)  # fmt: skip
    AssessmentTask.objects.create(assessment=locked, item=target.item, member=target.member, task=task)
    _audit("assessment.task_set", user=user, request=request, assessment=locked,
           summary=f"task {task.pk} set from question {target.item.pk}")  # fmt: skip
    return task
