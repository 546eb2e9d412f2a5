"""The operator area on the bare platform domain. Operators see partnerships, never case data.

Mounted only by ``concord.urls_public``, so a partnership host has no such pages
(404). Every view needs a session verified by the second factor (the accounts
middleware fails closed); ``operator_only`` checks again that the request is on
the public schema and that the user is an active, verified operator.
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.db import connection
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET
from django_tenants.utils import get_public_schema_name

from concord.operators import selectors, services
from concord.operators.forms import ModerationNoteForm, ProvisionForm, RejectForm, RetireForm
from concord.pages import GET_POST, REFUSALS, apply_errors, posted
from concord.paging import filter_query, requested_page
from shared_apps.question_bank import selectors as bank_selectors
from tenant_apps.accounts.services import is_verified
from tenant_apps.assessments.forms import BankFilterForm, QuestionContentForm
from tenant_apps.audit.trail import audit_log_csv, audit_log_page
from tenants.hosts import partnership_host, partnership_url
from tenants.provisioning import ProvisioningError


def operator_only(view):
    """Refuse (404) anything but a verified, active operator on the platform domain."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        public = get_public_schema_name()
        on_public = getattr(request.tenant, "schema_name", None) == public and connection.schema_name == public
        user = request.user
        if not (on_public and user.is_authenticated and user.is_active and is_verified(user)):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapper


@operator_only
@require_GET
def dashboard(request):
    return render(request, "operators/dashboard.html", {"rows": selectors.partnership_list_with_usage()})


@operator_only
@require_GET
def partnership_detail(request, slug):
    partnership = selectors.partnership_for_operator(slug=slug)
    context = {
        "row": selectors.partnership_row(partnership=partnership),
        "host": partnership_host(partnership.schema_name),
        "url": partnership_url(partnership),
    }
    return render(request, "operators/partnership_detail.html", context)


@operator_only
@GET_POST
def provision(request):
    form = ProvisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = services.partnership_provision_by_operator(
                request=request,
                slug=data["slug"],
                name=data["name"],
                admin_email=data["admin_email"],
                admin_name=data["admin_name"],
            )
        except ProvisioningError as error:
            form.add_provisioning_error(error)
        else:
            partnership = result.partnership
            if result.created:
                messages.success(
                    request,
                    f"{partnership.name} is ready. Its first admin's invitation was e-mailed to {result.admin_email}.",
                )
            else:
                messages.success(
                    request,
                    f"{partnership.name} already existed and its first admin had not set a password: "
                    f"a new invitation was e-mailed to {result.admin_email}.",
                )
            return redirect("operator-partnership", slug=partnership.schema_name)
    return render(request, "operators/provision.html", {"form": form})


def _status_change(request, slug, *, to_suspend: bool):
    partnership = selectors.partnership_for_operator(slug=slug)
    if partnership.is_active != to_suspend:
        state = "suspended" if to_suspend else "active"
        messages.info(request, f"{partnership.name} is already {state}.")
        return redirect("operator-partnership", slug=slug)
    if request.method == "POST":  # the CSRF middleware has checked the token
        if to_suspend:
            services.partnership_suspend_by_operator(request=request, partnership=partnership)
            messages.success(request, f"{partnership.name} is suspended. Its records are kept.")
        else:
            services.partnership_resume_by_operator(request=request, partnership=partnership)
            messages.success(request, f"{partnership.name} is active again.")
        return redirect("operator-partnership", slug=slug)
    template = "operators/suspend_confirm.html" if to_suspend else "operators/resume_confirm.html"
    return render(request, template, {"partnership": partnership, "host": partnership_host(slug)})


@operator_only
@GET_POST
def suspend(request, slug):
    return _status_change(request, slug, to_suspend=True)


@operator_only
@GET_POST
def resume(request, slug):
    return _status_change(request, slug, to_suspend=False)


# The operators' own audit trail (public schema), shown as partnership admins see theirs:
# the same page and template (``tenant_apps.audit.trail``). Its selectors let only active
# users with the admin role read it; every operator has it.


@operator_only
@require_GET
def audit_list(request):
    return render(request, "audit/event_list.html", audit_log_page(user=request.user, query=request.GET).context())


@operator_only
@require_GET
def audit_export(request):
    return audit_log_csv(user=request.user, query=request.GET, schema=connection.schema_name)


# --- The national question bank ---------------------------------------------------------------


@operator_only
@require_GET
def bank_queue(request):
    """Submitted questions waiting for a decision (oldest first), and the latest decisions."""
    waiting = list(bank_selectors.submissions_to_moderate())
    decided = list(bank_selectors.submissions_to_moderate(states=("published", "rejected"))
                   .order_by("-decided_at", "-pk")[:20])  # fmt: skip
    return render(request, "operators/bank_queue.html", {"waiting": waiting, "decided": decided})


@operator_only
@GET_POST
def bank_submission_review(request, submission_id: int):
    """Publish as submitted, publish with edits (the content form, prefilled), or reject with a reason."""
    submission = bank_selectors.access_submission(submission_id=submission_id)
    if request.method == "POST" and submission.state != "submitted":
        messages.error(
            request, f"This question is already {submission.get_state_display().lower()}: nothing was changed."
        )
        return redirect("operator-bank-submission", submission_id=submission.pk)
    action = request.POST.get("action") if request.method == "POST" else None
    content = QuestionContentForm(posted(request) if action == "publish" else None,
                                  initial=QuestionContentForm.initial_from(submission.content()))  # fmt: skip
    note = ModerationNoteForm(posted(request) if action == "publish" else None, initial={"version": submission.version})
    reject = RejectForm(posted(request) if action == "reject" else None, initial={"version": submission.version})
    if action == "publish" and content.is_valid() and note.is_valid():
        try:
            published = services.bank_submission_publish_by_operator(
                request=request, submission=submission, version=note.cleaned_data["version"],
                edits=content.content(), note=note.cleaned_data["note"],
            )  # fmt: skip
        except REFUSALS as error:
            apply_errors(content, error)
        else:
            messages.success(request, f"Published as {published.label}. The partnership's admins have been told.")
            return redirect("operator-bank")
    elif action == "reject" and reject.is_valid():
        try:
            services.bank_submission_reject_by_operator(request=request, submission=submission,
                                                        version=reject.cleaned_data["version"],
                                                        reason=reject.cleaned_data["reason"])  # fmt: skip
        except REFUSALS as error:
            apply_errors(reject, error)
        else:
            messages.success(request, "The question has been rejected. The partnership's admins have been told.")
            return redirect("operator-bank")
    elif request.method == "POST" and action not in ("publish", "reject"):
        messages.error(request, "Choose to publish or to reject the question.")
    context = {"submission": submission, "form": content, "note_form": note, "reject_form": reject,
               "decidable": submission.state == "submitted"}  # fmt: skip
    return render(request, "operators/bank_submission.html", context, status=400 if request.method == "POST" else 200)


@operator_only
@require_GET
def bank_questions(request):
    form = BankFilterForm(request.GET)
    page = requested_page(request, bank_selectors.bank_search(**form.filters()), per_page=50)
    return render(request, "operators/bank_questions.html", {"form": form, "page": page,
                                                             "filter_query": filter_query(request.GET)})  # fmt: skip


@operator_only
@GET_POST
def bank_question_retire(request, code: str):
    question = bank_selectors.access_question(code=code)
    form = RetireForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.bank_question_retire_by_operator(request=request, question=question,
                                                      reason=form.cleaned_data["reason"])  # fmt: skip
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{question.code} is retired. Templates that use it keep it.")
            return redirect("operator-bank-questions")
    return render(request, "operators/bank_retire.html", {"form": form, "question": question})
