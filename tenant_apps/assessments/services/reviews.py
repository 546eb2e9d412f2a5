"""Reviews: a new assessment, in progress, that starts as a copy of a completed one.

On the same template version, every answer is copied; moved to the template's version in use,
each answer is copied to the same question (the bank's or the local one, whatever its version)
when its kind of answer is unchanged, and the questions added, removed and reworded are said
before the review starts (``selectors.review_changes``). The members are the reviewed
assessment's (those the reviewer may see) and anyone who has joined the family since.
"""

from __future__ import annotations

from django.db import transaction

from concord.errors import WrongState
from tenant_apps.assessments.models import Answer, Assessment, AssessmentMember, TemplateItem, TemplateVersion
from tenant_apps.assessments.selectors.reviews import item_identity
from tenant_apps.assessments.services.assessments import locked_for_change
from tenant_apps.audit.services import audit_record
from tenant_apps.casework.models import FamilyMember
from tenant_apps.casework.selectors import profiles_visible_to

__all__ = ["assessment_review_start", "review_target_version"]


def review_target_version(assessment: Assessment, *, to_latest: bool) -> TemplateVersion:
    """The version a review runs on: the reviewed one's, or the template's version in use."""
    if not to_latest:
        return assessment.template_version
    in_use = assessment.template_version.template.versions.filter(state=TemplateVersion.State.PUBLISHED).first()
    return in_use or assessment.template_version


@transaction.atomic
def assessment_review_start(*, user, request=None, assessment: Assessment, to_latest: bool = False) -> Assessment:
    """Start a review of a completed assessment (see the module's docstring)."""
    source = locked_for_change(user=user, assessment=assessment, refusal="You may not review this assessment.")
    if not source.is_completed:
        raise WrongState("Complete this assessment before reviewing it.")
    if Assessment.objects.filter(previous=source).exists():
        raise WrongState("This assessment has a review already: review the latest one.")
    version = review_target_version(source, to_latest=to_latest)
    review = Assessment.objects.create(template_version=version, family_id=source.family_id,
                                       profile_id=source.profile_id, case_id=source.case_id, assessor=user,
                                       previous=source)  # fmt: skip
    visible = set(profiles_visible_to(user).values_list("pk", flat=True))
    old_members = [m for m in source.members.order_by("position", "pk") if m.profile_id in visible]
    people = [(m.profile_id, m.relationship, m.is_subject) for m in old_members]
    if source.family_id is not None:  # who joined the family since
        known = {m.profile_id for m in old_members}
        for row in FamilyMember.objects.filter(family_id=source.family_id, profile_id__in=visible).order_by("pk"):
            if row.profile_id not in known:
                people.append((row.profile_id, row.get_relationship_display(), False))
    new_members = AssessmentMember.objects.bulk_create(
        AssessmentMember(assessment=review, profile_id=profile_id, relationship=relationship, is_subject=is_subject,
                         position=position)
        for position, (profile_id, relationship, is_subject) in enumerate(people, start=1)
    )  # fmt: skip
    member_for = {member.profile_id: member for member in new_members}
    old_member_profile = {member.pk: member.profile_id for member in old_members}
    related = ("bank_version__question", "local_version__question")
    new_items = {item_identity(item): item for item in
                 TemplateItem.objects.filter(section__template_version=version).select_related(*related)}  # fmt: skip
    copies = []
    for answer in Answer.objects.filter(assessment=source).select_related(*(f"item__{r}" for r in related)):
        if answer.member_id is not None and answer.member_id not in old_member_profile:
            continue  # about someone the reviewer may not see
        item = new_items.get(item_identity(answer.item))
        if item is None or item.question.answer_type != answer.item.question.answer_type:
            continue  # removed, or now answered another way
        member = member_for.get(old_member_profile[answer.member_id]) if answer.member_id else None
        if answer.member_id and member is None:
            continue
        copies.append(Answer(assessment=review, item=item, member=member, value=answer.value,
                             worker_score=answer.worker_score, family_score=answer.family_score,
                             worker_blank_reason=answer.worker_blank_reason,
                             family_blank_reason=answer.family_blank_reason, updated_by=user))  # fmt: skip
    Answer.objects.bulk_create(copies)
    summary = f"review of assessment {source.pk} on template version {version.number}, {len(copies)} answers copied"
    audit_record(action="assessment.review_started", request=request, actor=user, object_type="assessment",
                 object_id=review.pk, summary=summary)  # fmt: skip
    return review
