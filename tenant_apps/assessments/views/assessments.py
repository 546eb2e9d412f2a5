"""Assessments' pages: start one from a family, a profile or a case, answer it section by
section (one section a page, a phone's width in mind), see its overview, complete it.

Each section's form saves without JavaScript ("Save", "Save and continue"); what was saved and
when is said on the page ("Saved at 10:42"). Ids in URLs go through ``selectors.access_*`` (the
same 404 for "missing", "not yours" and "restricted from you"); every opening of an assessment's
answers is audited.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from concord.errors import WrongState
from concord.pages import GET_POST, REFUSALS, apply_errors, posted, refusal_message, writers_only
from tenant_apps.accounts.readlimits import READ, read_limited
from tenant_apps.assessments import selectors, services
from tenant_apps.assessments.answer_html import answer_html
from tenant_apps.assessments.forms import (
    CompleteForm,
    RestrictForm,
    SettingsForm,
    StartForm,
    answers_from_post,
    field_values,
    original_of,
)
from tenant_apps.casework.idempotency import create_once
from tenant_apps.casework.selectors import access_case, access_family, access_profile, members_of
from tenant_apps.tasks.forms import TaskForm

__all__ = [
    "assessment_section_autosave",
    "assessment_ask",
    "assessment_settings",
    "assessment_compare",
    "assessment_complete",
    "assessment_review",
    "assessment_restrict",
    "assessment_detail",
    "assessment_list",
    "assessment_section",
    "assessment_start",
]

FORBIDDEN_PAGE = "assessments/403_assessments.html"


def _origin(request):
    """The record named by ``?family=``, ``?profile=`` or ``?case=`` (ids, never names)."""
    if family_id := request.GET.get("family"):
        return {"family": access_family(user=request.user, family_id=family_id)}
    if profile_id := request.GET.get("profile"):
        return {"profile": access_profile(user=request.user, profile_id=profile_id)}
    if case_id := request.GET.get("case"):
        return {"case": access_case(user=request.user, case_id=case_id)}
    raise Http404("Start an assessment from a family, a profile or a case.")


@require_GET
def assessment_list(request):
    """The assessments of a family, a profile or a case."""
    origin = _origin(request)
    assessments = list(selectors.assessments_of(user=request.user, **origin))
    context = {"origin": origin, "assessments": assessments, "query": request.GET.urlencode(),
               "may_start": not request.user.is_read_only}  # fmt: skip
    return render(request, "assessments/assessments/list.html", context)


@writers_only(FORBIDDEN_PAGE)
@GET_POST
@create_once
def assessment_start(request):
    origin = _origin(request)
    case = origin.get("case")
    templates = list(selectors.templates_offered(case_type=case.case_type if case else None))
    members = members_of(user=request.user, family=origin["family"]).visible if "family" in origin else []
    form = StartForm(posted(request), templates=templates, members=members)
    if request.method == "POST" and form.is_valid():
        template = next(t for t in templates if t.pk == form.cleaned_data["template"])
        try:
            assessment = services.assessment_start(user=request.user, request=request, template=template,
                                                   subject_profile_ids=form.cleaned_data.get("subjects", []),
                                                   **origin)  # fmt: skip
        except REFUSALS as error:
            apply_errors(form, error, rename={"subject": "template"})
        else:
            messages.success(
                request, "The assessment has been started. Answer it section by section; save at any time."
            )
            return redirect("assessments:section", assessment_id=assessment.pk, number=1)
    context = {"form": form, "origin": origin, "templates": templates, "query": request.GET.urlencode()}
    return render(request, "assessments/assessments/start.html", context)


@require_GET
@read_limited(READ)
def assessment_detail(request, assessment_id: int):
    assessment = selectors.access_assessment(user=request.user, assessment_id=assessment_id)
    page = selectors.assessment_page(user=request.user, assessment=assessment)
    services.assessment_viewed(user=request.user, request=request, assessment=assessment, what="overview")
    return render(request, "assessments/assessments/detail.html", {"page": page})


def _errors_on(section, error: ValidationError) -> list[str]:
    """Put each answer's error on its target; the messages for the error summary."""
    by_key = {target.key: target for target in section.targets}
    summary = []
    for key, messages_ in error.message_dict.items():
        if key in by_key:
            by_key[key].errors = list(messages_)
        summary += [(key, message) for message in messages_]
    return summary


@GET_POST
@read_limited(READ)
def assessment_section(request, assessment_id: int, number: int):
    assessment = selectors.access_assessment(user=request.user, assessment_id=assessment_id)
    page = selectors.assessment_page(user=request.user, assessment=assessment, only=number)
    section = page.section(number)
    status, summary, conflicts = 200, [], []
    if request.method == "POST":
        if not page.may_edit:
            if assessment.is_completed:
                messages.error(request, "This assessment is completed: its answers cannot be changed.")
                return redirect("assessments:assessment", assessment_id=assessment.pk)
            return render(request, FORBIDDEN_PAGE, status=403)
        try:
            result = services.assessment_save(user=request.user, request=request, assessment=assessment,
                                              answers=answers_from_post(section.targets, request.POST))  # fmt: skip
        except ValidationError as error:
            status, summary = 400, _errors_on(section, error)
        except WrongState as error:
            messages.error(request, error.message)
            return redirect("assessments:assessment", assessment_id=assessment.pk)
        else:
            if not result.conflicts:
                saved_at = timezone.localtime(result.saved_at)
                messages.success(request, f"Saved at {saved_at:%H:%M}.")
                if "continue" in request.POST and number < len(page.sections):
                    return redirect("assessments:section", assessment_id=assessment.pk, number=number + 1)
                if "continue" in request.POST:
                    return redirect("assessments:complete", assessment_id=assessment.pk)
                return redirect("assessments:section", assessment_id=assessment.pk, number=number)
            conflicts = result.conflicts
            page = selectors.assessment_page(user=request.user, assessment=assessment, only=number)  # theirs
            section = page.section(number)
            by_key = {target.key: target for target in section.targets}
            for conflict in conflicts:
                by_key[conflict.key].conflict = conflict
            status = 409
    else:
        services.assessment_viewed(user=request.user, request=request, assessment=assessment, what=f"section {number}")
    ask_url = reverse("assessments:ask", kwargs={"assessment_id": assessment.pk})
    for target in section.targets:
        target.shown = field_values(target, request.POST if status == 400 else None)
        target.html = answer_html(target, editable=page.may_edit, ask_url=ask_url)
    context = {"page": page, "section": section, "summary": summary, "conflicts": conflicts,
               "posted": request.POST if status == 400 else None}  # fmt: skip
    return render(request, "assessments/assessments/section.html", context, status=status)


@writers_only(FORBIDDEN_PAGE)
@GET_POST
def assessment_complete(request, assessment_id: int):
    assessment = selectors.access_assessment(user=request.user, assessment_id=assessment_id, edit=True)
    form = CompleteForm(posted(request), initial={"review_date": services.default_review_date()})
    missing = []
    if request.method == "POST" and form.is_valid():
        try:
            services.assessment_complete(user=request.user, request=request, assessment=assessment,
                                         review_date=form.cleaned_data["review_date"])  # fmt: skip
        except ValidationError as error:
            missing = error.message_dict.get("answers", [])
            apply_errors(form, ValidationError({k: v for k, v in error.message_dict.items() if k != "answers"}))
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, "The assessment is complete and locked. Its review date is set.")
            return redirect("assessments:assessment", assessment_id=assessment.pk)
    page = selectors.assessment_page(user=request.user, assessment=assessment)
    context = {"form": form, "page": page, "missing": missing}
    return render(request, "assessments/assessments/complete.html", context, status=400 if missing else 200)


@writers_only(FORBIDDEN_PAGE)
@GET_POST
def assessment_restrict(request, assessment_id: int):
    """Restrict a completed assessment to named teams and people (narrowing only)."""
    assessment = selectors.access_assessment(user=request.user, assessment_id=assessment_id, edit=True)
    initial = {"teams": list(assessment.restricted_teams.all()), "users": list(assessment.restricted_users.all())}
    form = RestrictForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.assessment_restrict(
                user=request.user,
                request=request,
                assessment=assessment,
                teams=form.cleaned_data["teams"],
                users=form.cleaned_data["users"],
            )
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, "The assessment is restricted: only the teams and people named may see it.")
            return redirect("assessments:assessment", assessment_id=assessment.pk)
    return render(request, "assessments/assessments/restrict.html", {"form": form, "assessment": assessment})


@writers_only(FORBIDDEN_PAGE)
@GET_POST
def assessment_review(request, assessment_id: int):
    """Start a review of a completed assessment: on its template version, or on the version in use
    (the questions added, removed and reworded shown first)."""
    assessment = selectors.access_assessment(user=request.user, assessment_id=assessment_id, edit=True)
    latest = services.review_target_version(assessment, to_latest=True)
    changes = None
    if latest.pk != assessment.template_version_id:
        old = selectors.version_structure(assessment.template_version)
        new = selectors.version_structure(latest)
        changes = selectors.review_changes([i for s in old.sections.all() for i in s.items.all()],
                                           [i for s in new.sections.all() for i in s.items.all()])  # fmt: skip
    if request.method == "POST":
        try:
            review = services.assessment_review_start(user=request.user, request=request, assessment=assessment,
                                                      to_latest=request.POST.get("version") == "latest")  # fmt: skip
        except REFUSALS as error:
            messages.error(request, refusal_message(error))
            return redirect("assessments:assessment", assessment_id=assessment.pk)
        messages.success(request, "The review has started from the last assessment's answers: change what has changed.")
        return redirect("assessments:section", assessment_id=review.pk, number=1)
    context = {"assessment": assessment, "latest": latest, "changes": changes}
    return render(request, "assessments/assessments/review.html", context)


@require_GET
@read_limited(READ)
def assessment_compare(request, assessment_id: int):
    """The assessment and the reviews before it: every answer side by side, each domain's score."""
    assessment = selectors.access_assessment(user=request.user, assessment_id=assessment_id)
    comparison = selectors.assessment_comparison(user=request.user, assessment=assessment)
    services.assessment_viewed(user=request.user, request=request, assessment=assessment, what="comparison")
    return render(request, "assessments/assessments/compare.html", {"assessment": assessment, "comparison": comparison})


@writers_only(FORBIDDEN_PAGE)
@GET_POST
def assessment_settings(request):
    """The partnership's review reminders (partnership admins)."""
    if not request.user.is_partnership_admin:
        return render(request, FORBIDDEN_PAGE, status=403)
    current = selectors.assessment_settings()
    initial = {"remind_days_before": current.remind_days_before, "escalate_after_days": current.escalate_after_days}
    form = SettingsForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.assessment_settings_set(user=request.user, request=request, **form.cleaned_data)
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, "The review reminders have been saved.")
            return redirect("assessments:settings")
    return render(request, "assessments/assessments/settings.html", {"form": form})


@writers_only(FORBIDDEN_PAGE)
@GET_POST
@create_once
def assessment_ask(request, assessment_id: int):
    """Ask a person or a team for the answer to one question (``?key=<item>-<member>``): a task."""
    assessment = selectors.access_assessment(user=request.user, assessment_id=assessment_id, edit=True)
    page = selectors.assessment_page(user=request.user, assessment=assessment)
    key = request.GET.get("key", "")
    found = page.find(key)
    if found is None:
        raise Http404("No such question in this assessment")
    number, target = found
    who = f" ({target.member.profile.display_name})" if target.member else ""
    form = TaskForm(
        posted(request), initial={"title": f"Information for an assessment: {target.question.wording}"[:200]}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.assessment_task_ask(user=request.user, request=request, assessment=assessment, key=key,
                                         **form.cleaned_data)  # fmt: skip
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, "The task has been set. Its replies show beside the question.")
            return redirect(reverse("assessments:section", kwargs={"assessment_id": assessment.pk, "number": number})
                            + f"#q-{key}")  # fmt: skip
    context = {"form": form, "assessment": assessment, "target": target, "who": who, "number": number}
    return render(request, "assessments/assessments/ask.html", context)


@require_POST
@read_limited(READ)
def assessment_section_autosave(request, assessment_id: int, number: int):
    """What htmx posts as answers are typed (the section page): the answers saved, and a fragment
    saying so ("Saved at 10:42") with each saved answer's new version for the page's hidden fields
    (out of band), so the next save starts from it. Always 200 (htmx swaps nothing else): a refusal
    is said in the fragment, and what was typed stays on the page for the Save button."""
    assessment = selectors.access_assessment(user=request.user, assessment_id=assessment_id)
    page = selectors.assessment_page(user=request.user, assessment=assessment, only=number)
    section = page.section(number)
    context = {"saved": [], "message": "", "conflicts": 0}
    if not page.may_edit:
        context["message"] = "Not saved: this assessment cannot be changed."
        return render(request, "assessments/assessments/_autosave.html", context)
    try:
        result = services.assessment_save(user=request.user, request=request, assessment=assessment,
                                          answers=answers_from_post(section.targets, request.POST))  # fmt: skip
    except ValidationError as error:
        first = next(iter(error.message_dict.values()))[0]
        context["message"] = f"Not saved yet: {first} Your answers are still here: correct it, or press Save."
        return render(request, "assessments/assessments/_autosave.html", context)
    except REFUSALS as error:
        context["message"] = f"Not saved: {getattr(error, 'message', error)}"
        return render(request, "assessments/assessments/_autosave.html", context)
    fresh = selectors.assessment_page(user=request.user, assessment=assessment, only=number).section(number)
    context["saved"] = [(target.key, target.answer.version, original_of(target.answer)) for target in fresh.targets
                        if target.answer is not None]  # fmt: skip
    context["conflicts"] = len(result.conflicts)
    context["saved_at"] = timezone.localtime(result.saved_at)
    context["changed"] = result.saved
    return render(request, "assessments/assessments/_autosave.html", context)
