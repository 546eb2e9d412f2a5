"""The national question bank as a partnership reads it: every current question, and the
partnership's own submissions (row-level security keeps the others' out of reach in any case;
the filter by schema here says the same in the query)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from shared_apps.question_bank import selectors as bank
from shared_apps.question_bank.models import Question, Submission

__all__ = ["BankQuestionPage", "access_bank_submission", "bank_question_page", "bank_submissions", "may_author_bank"]


def may_author_bank(user) -> bool:
    """Partnership admins draft and submit questions to the national bank."""
    return user.is_partnership_admin and not user.is_read_only


def bank_submissions(*, user, states=None):
    """The partnership's submissions (drafts to decided), latest change first."""
    return bank.submissions_for_partnership(schema_name=connection.schema_name, states=states)


def access_bank_submission(*, user, submission_id) -> Submission:
    """One of the partnership's submissions: the same 404 for "missing" and "another partnership's"."""
    return bank.access_submission_for_partnership(schema_name=connection.schema_name, submission_id=submission_id)


@dataclass(frozen=True)
class BankQuestionPage:
    question: Question
    versions: list  # newest first
    current: object  # the latest version, or None if the question is retired
    own_submissions: list[Submission]  # this partnership's proposals for it


def bank_question_page(*, user, code: str) -> BankQuestionPage:
    question = bank.access_question(code=code)
    versions = list(question.versions.all())
    current = None if question.is_retired else (versions[0] if versions else None)
    own = list(bank_submissions(user=user).filter(revises=question)) if may_author_bank(user) else []
    return BankQuestionPage(question=question, versions=versions, current=current, own_submissions=own)
