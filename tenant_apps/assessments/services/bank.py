"""A partnership's writes to the national question bank: its own submissions, each audited in
the partnership's trail (who wrote it; the public row names only the partnership).

Only partnership admins write (``selectors.may_author_bank``); every write goes through
``shared_apps.question_bank.services``' ``*_for_partnership`` functions in the partnership's
context, where row-level security is the second wall.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction

from shared_apps.question_bank import services as bank
from shared_apps.question_bank.models import Question, Submission
from tenant_apps.assessments.selectors.bank import may_author_bank
from tenant_apps.audit.services import audit_changes, audit_record

__all__ = ["bank_submission_create", "bank_submission_submit", "bank_submission_update", "bank_submission_withdraw"]

OBJECT_TYPE = "bank_submission"


def _author(user) -> None:
    if not may_author_bank(user):
        raise PermissionDenied("Only partnership admins write questions for the national bank.")


@transaction.atomic
def bank_submission_create(*, user, request=None, content: dict, revises: Question | None = None) -> Submission:
    """A draft question for the national bank (or a proposed new version of ``revises``)."""
    _author(user)
    submission = bank.submission_create_for_partnership(
        schema_name=connection.schema_name, content=content, revises=revises
    )
    about = f" revising {revises.code}" if revises is not None else ""
    audit_record(action="question_bank.submission_created", request=request, actor=user, object_type=OBJECT_TYPE,
                 object_id=submission.pk, summary=f"bank submission {submission.pk} drafted{about}")  # fmt: skip
    return submission


@transaction.atomic
def bank_submission_update(*, user, request=None, submission: Submission, version: int, content: dict) -> Submission:
    _author(user)
    before = submission.content()
    updated = bank.submission_update_for_partnership(
        schema_name=connection.schema_name, submission=submission, version=version, content=content
    )
    audit_record(action="question_bank.submission_changed", request=request, actor=user, object_type=OBJECT_TYPE,
                 object_id=updated.pk, summary=f"bank submission {updated.pk} changed",
                 changes=audit_changes(before, updated.content()))  # fmt: skip
    return updated


def _state_change(*, change, user, request, submission: Submission, version: int, action: str, done: str):
    _author(user)
    changed = change(schema_name=connection.schema_name, submission=submission, version=version)
    audit_record(action=action, request=request, actor=user, object_type=OBJECT_TYPE, object_id=changed.pk,
                 summary=f"bank submission {changed.pk} {done}")  # fmt: skip
    return changed


@transaction.atomic
def bank_submission_submit(*, user, request=None, submission: Submission, version: int) -> Submission:
    """Send a draft to the platform's operators for moderation."""
    return _state_change(change=bank.submission_submit_for_partnership, user=user, request=request,
                         submission=submission, version=version, action="question_bank.submission_submitted",
                         done="sent for moderation")  # fmt: skip


@transaction.atomic
def bank_submission_withdraw(*, user, request=None, submission: Submission, version: int) -> Submission:
    """Take back a draft, or a submission not decided yet."""
    return _state_change(change=bank.submission_withdraw_for_partnership, user=user, request=request,
                         submission=submission, version=version, action="question_bank.submission_withdrawn",
                         done="withdrawn")  # fmt: skip
