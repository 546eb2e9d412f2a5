"""The national question bank's pages in a partnership: browse and search it, read a question's
versions, and (partnership admins) draft questions, submit them for moderation, see the decision.

Each view parses a form, calls one selector or service, and redirects after a successful POST
or shows the form again with its errors named by field. Ids in URLs are resolved by ``access_*``
selectors (404 for "missing" and "another partnership's" alike).
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from concord.pages import GET_POST, REFUSALS, apply_errors, forbidden, posted, refusal_message
from concord.paging import filter_query, requested_page
from shared_apps.question_bank import selectors as bank
from tenant_apps.assessments import selectors, services
from tenant_apps.assessments.forms import BankFilterForm, QuestionContentForm, VersionForm
from tenant_apps.casework.idempotency import create_once

__all__ = ["bank_list", "bank_question", "bank_submission", "bank_submission_create", "bank_submission_edit",
           "bank_submission_list", "bank_submission_submit", "bank_submission_withdraw"]  # fmt: skip

QUESTIONS_PER_PAGE = 50
FORBIDDEN_PAGE = "assessments/403.html"


def authors_only(view):
    """Partnership admins only (they write the partnership's questions for the bank): 403 otherwise."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not selectors.may_author_bank(request.user):
            return forbidden(request, FORBIDDEN_PAGE)
        return view(request, *args, **kwargs)

    return wrapped


@require_GET
def bank_list(request):
    form = BankFilterForm(request.GET)
    page = requested_page(request, bank.bank_search(**form.filters()), per_page=QUESTIONS_PER_PAGE)
    context = {"form": form, "page": page, "filter_query": filter_query(request.GET),
               "may_author": selectors.may_author_bank(request.user)}  # fmt: skip
    return render(request, "assessments/bank/list.html", context)


@require_GET
def bank_question(request, code: str):
    page = selectors.bank_question_page(user=request.user, code=code)
    context = {"page": page, "may_author": selectors.may_author_bank(request.user)}
    return render(request, "assessments/bank/question.html", context)


@authors_only
@require_GET
def bank_submission_list(request):
    submissions = selectors.bank_submissions(user=request.user)
    page = requested_page(request, submissions, per_page=QUESTIONS_PER_PAGE)
    return render(request, "assessments/bank/submission_list.html", {"page": page})


@authors_only
@GET_POST
@create_once
def bank_submission_create(request):
    """``?revises=<code>``: a new version of that question, its current content to start from."""
    revises = None
    initial = {}
    if code := request.GET.get("revises"):
        page = selectors.bank_question_page(user=request.user, code=code)
        if page.current is None:
            raise Http404("No such question")
        revises = page.question
        initial = QuestionContentForm.initial_from(page.current.content())
    form = QuestionContentForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            submission = services.bank_submission_create(user=request.user, request=request, content=form.content(),
                                                         revises=revises)  # fmt: skip
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, "The draft has been saved. Submit it when it is ready for the operators.")
            return redirect("assessments:bank-submission", submission_id=submission.pk)
    return render(request, "assessments/bank/submission_form.html", {"form": form, "revises": revises})


@authors_only
@require_GET
def bank_submission(request, submission_id: int):
    submission = selectors.access_bank_submission(user=request.user, submission_id=submission_id)
    context = {"submission": submission, "version_form": VersionForm(initial={"version": submission.version})}
    return render(request, "assessments/bank/submission_detail.html", context)


@authors_only
@GET_POST
def bank_submission_edit(request, submission_id: int):
    submission = selectors.access_bank_submission(user=request.user, submission_id=submission_id)
    form = QuestionContentForm(posted(request), initial=QuestionContentForm.initial_from(submission.content()))
    version_form = VersionForm(posted(request), initial={"version": submission.version})
    if request.method == "POST" and form.is_valid() and version_form.is_valid():
        try:
            services.bank_submission_update(
                user=request.user,
                request=request,
                submission=submission,
                version=version_form.cleaned_data["version"],
                content=form.content(),
            )
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, "The draft has been saved.")
            return redirect("assessments:bank-submission", submission_id=submission.pk)
    context = {"form": form, "version_form": version_form, "submission": submission, "revises": submission.revises}
    return render(request, "assessments/bank/submission_form.html", context)


def _state_change(request, submission_id: int, *, service, done: str):
    submission = selectors.access_bank_submission(user=request.user, submission_id=submission_id)
    form = VersionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The page was out of date. Check the submission, then try again.")
        return redirect("assessments:bank-submission", submission_id=submission.pk)
    try:
        service(user=request.user, request=request, submission=submission, version=form.cleaned_data["version"])
    except REFUSALS as error:  # decided or changed meanwhile: nothing was written
        messages.error(request, refusal_message(error))
    else:
        messages.success(request, done)
    return redirect("assessments:bank-submission", submission_id=submission.pk)


@authors_only
@require_POST
def bank_submission_submit(request, submission_id: int):
    return _state_change(request, submission_id, service=services.bank_submission_submit,
                         done="The question has been sent to the platform's operators for moderation.")  # fmt: skip


@authors_only
@require_POST
def bank_submission_withdraw(request, submission_id: int):
    return _state_change(request, submission_id, service=services.bank_submission_withdraw,
                         done="The question has been withdrawn.")  # fmt: skip
