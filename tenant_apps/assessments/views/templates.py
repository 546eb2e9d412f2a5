"""The template builder and local questions (``/assessments/templates/``, ``/assessments/questions/``).

Everyone in the partnership reads templates and local questions; practitioners and admins build
them; a template is changed by its author or a partnership admin (the services refuse anyone
else, and the pages answer that refusal with the 403 page). Every change is a POST that
redirects back to the template, its draft shown with what changed.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from concord.pages import GET_POST, REFUSALS, apply_errors, posted, refusal_message, writers_only
from shared_apps.question_bank.models import AnswerType
from tenant_apps.assessments import selectors, services
from tenant_apps.assessments.forms import (
    AddQuestionForm,
    BankFilterForm,
    DomainForm,
    ItemForm,
    MoveForm,
    QuestionContentForm,
    SectionForm,
    StatusForm,
    TemplateForm,
)
from tenant_apps.casework.idempotency import create_once

__all__ = [
    "local_question",
    "local_question_create",
    "local_question_edit",
    "local_question_list",
    "local_question_propose",
    "template_create",
    "template_detail",
    "template_domain_add",
    "template_domain_remove",
    "template_draft_start",
    "template_edit",
    "template_item_add",
    "template_item_edit",
    "template_item_move",
    "template_item_remove",
    "template_list",
    "template_publish",
    "template_section_add",
    "template_section_edit",
    "template_section_move",
    "template_section_remove",
    "template_status",
    "template_version",
]

FORBIDDEN_PAGE = "assessments/403_templates.html"
VALUE_SCORED = (AnswerType.NUMBER, AnswerType.SCALE_5, AnswerType.SCALE_10)


def _back(template):
    return redirect("assessments:template", template_id=template.pk)


# --- Templates ----------------------------------------------------------------------------------


@require_GET
def template_list(request):
    context = {"templates": list(selectors.templates_visible_to(request.user)),
               "may_build": selectors.may_build_templates(request.user)}  # fmt: skip
    return render(request, "assessments/templates/list.html", context)


@writers_only(FORBIDDEN_PAGE)
@GET_POST
@create_once
def template_create(request):
    form = TemplateForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            template = services.template_create(user=request.user, request=request, name=data["name"],
                                                description=data["description"], business_area=data["business_area"],
                                                case_types=data["case_types"])  # fmt: skip
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, "The template has been created. Add its sections and questions.")
            return _back(template)
    return render(request, "assessments/templates/form.html", {"form": form})


@require_GET
def template_detail(request, template_id: int):
    template = selectors.access_template(user=request.user, template_id=template_id)
    page = selectors.template_page(user=request.user, template=template)
    context = {"page": page, "section_form": SectionForm(), "domain_form": DomainForm()}
    return render(request, "assessments/templates/detail.html", context)


@require_GET
def template_version(request, template_id: int, number: int):
    template = selectors.access_template(user=request.user, template_id=template_id)
    version = selectors.version_structure(selectors.access_template_version(user=request.user, template=template,
                                                                            number=number))  # fmt: skip
    return render(request, "assessments/templates/version.html", {"template": template, "version": version})


@writers_only(FORBIDDEN_PAGE)
@GET_POST
def template_edit(request, template_id: int):
    template = selectors.access_template(user=request.user, template_id=template_id)
    initial = {"name": template.name, "description": template.description, "business_area": template.business_area,
               "case_types": list(template.case_types.all()), "version": template.version}  # fmt: skip
    form = TemplateForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.template_update(user=request.user, request=request, template=template,
                                     version=data["version"] or 0, name=data["name"], description=data["description"],
                                     business_area=data["business_area"], case_types=data["case_types"])  # fmt: skip
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, "The template's details have been saved.")
            return _back(template)
    return render(request, "assessments/templates/form.html", {"form": form, "template": template})


def _on_draft(request, template_id: int, change, done: str):
    """A change to the template's draft (or to the template) by POST; back to the template."""
    template = selectors.access_template(user=request.user, template_id=template_id)
    try:
        change(template)
    except REFUSALS as error:
        messages.error(request, refusal_message(error))
    else:
        messages.success(request, done)
    return _back(template)


def _draft_of(request, template):
    return selectors.template_page(user=request.user, template=template).draft


@writers_only(FORBIDDEN_PAGE)
@require_POST
def template_draft_start(request, template_id: int):
    return _on_draft(
        request,
        template_id,
        lambda t: services.template_draft_start(user=request.user, request=request, template=t),
        "A new draft has been started from the version in use. Put it in use when it is ready.",
    )


@writers_only(FORBIDDEN_PAGE)
@require_POST
def template_publish(request, template_id: int):
    def publish(template):
        draft = _draft_of(request, template)
        if draft is None:
            raise services.WrongState("This template has no draft to put in use.")
        services.template_publish(user=request.user, request=request, draft=draft)

    return _on_draft(
        request,
        template_id,
        publish,
        "The template is in use. Assessments already started keep the version they began with.",
    )


@writers_only(FORBIDDEN_PAGE)
@require_POST
def template_status(request, template_id: int):
    form = StatusForm(request.POST)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    return _on_draft(request, template_id,
                     lambda t: services.template_set_status(user=request.user, request=request, template=t,
                                                            status=status),
                     "The template has been withdrawn: no new assessment is offered it." if status == "withdrawn"
                     else "The template is in use again.")  # fmt: skip


# --- Sections -----------------------------------------------------------------------------------


@writers_only(FORBIDDEN_PAGE)
@require_POST
def template_section_add(request, template_id: int):
    form = SectionForm(request.POST)

    def add(template):
        draft = _draft_of(request, template)
        if draft is None:
            raise services.WrongState("Start a new draft to change this template.")
        services.template_section_add(user=request.user, request=request, draft=draft,
                                      title=form.data.get("title", ""))  # fmt: skip

    return _on_draft(request, template_id, add, "The section has been added.")


@writers_only(FORBIDDEN_PAGE)
@GET_POST
def template_section_edit(request, template_id: int, section_id: int):
    template = selectors.access_template(user=request.user, template_id=template_id)
    section = selectors.access_template_section(user=request.user, template=template, section_id=section_id)
    form = SectionForm(posted(request), initial={"title": section.title})
    if request.method == "POST" and form.is_valid():
        try:
            services.template_section_rename(user=request.user, request=request, section=section,
                                             title=form.cleaned_data["title"])  # fmt: skip
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, "The section has been renamed.")
            return _back(template)
    return render(request, "assessments/templates/section_form.html",
                  {"form": form, "template": template, "section": section})  # fmt: skip


@writers_only(FORBIDDEN_PAGE)
@require_POST
def template_section_remove(request, template_id: int, section_id: int):
    def remove(template):
        section = selectors.access_template_section(user=request.user, template=template, section_id=section_id)
        services.template_section_remove(user=request.user, request=request, section=section)

    return _on_draft(request, template_id, remove, "The section and its questions have been removed from the draft.")


@writers_only(FORBIDDEN_PAGE)
@require_POST
def template_section_move(request, template_id: int, section_id: int):
    form = MoveForm(request.POST)

    def move(template):
        section = selectors.access_template_section(user=request.user, template=template, section_id=section_id)
        if form.is_valid():
            services.template_section_move(user=request.user, request=request, section=section,
                                           direction=form.cleaned_data["direction"])  # fmt: skip

    return _on_draft(request, template_id, move, "The section has been moved.")


# --- Domains ------------------------------------------------------------------------------------


@writers_only(FORBIDDEN_PAGE)
@require_POST
def template_domain_add(request, template_id: int):
    def add(template):
        draft = _draft_of(request, template)
        if draft is None:
            raise services.WrongState("Start a new draft to change this template.")
        services.template_domain_add(
            user=request.user,
            request=request,
            draft=draft,
            name=request.POST.get("name", ""),
            aggregate=request.POST.get("aggregate", ""),
        )

    return _on_draft(request, template_id, add, "The scored domain has been added.")


@writers_only(FORBIDDEN_PAGE)
@require_POST
def template_domain_remove(request, template_id: int, domain_id: int):
    def remove(template):
        domain = selectors.access_template_domain(user=request.user, template=template, domain_id=domain_id)
        services.template_domain_remove(user=request.user, request=request, domain=domain)

    return _on_draft(request, template_id, remove, "The domain has been removed; its questions are no longer scored.")


# --- Questions of a template ------------------------------------------------------------------


@writers_only(FORBIDDEN_PAGE)
@GET_POST
def template_item_add(request, template_id: int, section_id: int):
    """Search the bank and the local questions; add one to the section."""
    template = selectors.access_template(user=request.user, template_id=template_id)
    section = selectors.access_template_section(user=request.user, template=template, section_id=section_id)
    search = BankFilterForm(request.GET)
    form = AddQuestionForm(posted(request))
    if request.method == "POST" and form.is_valid():
        bank_version, local_version = selectors.access_candidate(
            user=request.user, choice=form.cleaned_data["question"]
        )
        try:
            services.template_item_add(user=request.user, request=request, section=section, bank_version=bank_version,
                                       local_version=local_version, asked_of=form.cleaned_data["asked_of"],
                                       required=form.cleaned_data["required"] == "yes")  # fmt: skip
        except REFUSALS as error:
            messages.error(request, refusal_message(error))
        else:
            messages.success(request, f"The question has been added to {section.title}.")
            return _back(template)
    candidates = selectors.question_candidates(user=request.user, **search.filters())
    context = {"template": template, "section": section, "search": search, "candidates": candidates,
               "form": form if request.method == "POST" else AddQuestionForm()}  # fmt: skip
    return render(request, "assessments/templates/item_add.html", context)


@writers_only(FORBIDDEN_PAGE)
@GET_POST
def template_item_edit(request, template_id: int, template_item_id: int):
    template = selectors.access_template(user=request.user, template_id=template_id)
    item = selectors.access_template_item(user=request.user, template=template, item_id=template_item_id)
    question = item.question
    answers = services.scoring_answers(question)
    domains = list(item.section.template_version.domains.all())
    form = ItemForm(posted(request), domains=domains, answers=answers, by_value=question.answer_type in VALUE_SCORED,
                    initial=ItemForm.initial_for(item, answers))  # fmt: skip
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        domain = next((d for d in domains if d.pk == data["domain"]), None)
        try:
            services.template_item_update(
                user=request.user,
                request=request,
                item=item,
                asked_of=data["asked_of"],
                required=data["required"] == "yes",
                domain=domain,
                scoring=form.scoring(),
            )
        except REFUSALS as error:
            apply_errors(form, error, rename={"scoring": "score_kind"})
        else:
            messages.success(request, "The question's settings have been saved.")
            return _back(template)
    context = {"template": template, "item": item, "question": question, "form": form}
    return render(request, "assessments/templates/item_form.html", context)


@writers_only(FORBIDDEN_PAGE)
@require_POST
def template_item_remove(request, template_id: int, template_item_id: int):
    def remove(template):
        item = selectors.access_template_item(user=request.user, template=template, item_id=template_item_id)
        services.template_item_remove(user=request.user, request=request, item=item)

    return _on_draft(request, template_id, remove, "The question has been removed from the draft.")


@writers_only(FORBIDDEN_PAGE)
@require_POST
def template_item_move(request, template_id: int, template_item_id: int):
    form = MoveForm(request.POST)

    def move(template):
        item = selectors.access_template_item(user=request.user, template=template, item_id=template_item_id)
        if form.is_valid():
            services.template_item_move(user=request.user, request=request, item=item,
                                        direction=form.cleaned_data["direction"])  # fmt: skip

    return _on_draft(request, template_id, move, "The question has been moved.")


# --- Local questions ----------------------------------------------------------------------------


@require_GET
def local_question_list(request):
    context = {"questions": list(selectors.local_questions_visible_to(request.user)),
               "may_build": selectors.may_build_templates(request.user)}  # fmt: skip
    return render(request, "assessments/questions/list.html", context)


@require_GET
def local_question(request, local_question_id: int):
    question = selectors.access_local_question(user=request.user, question_id=local_question_id)
    context = {"question": question, "versions": list(question.versions.order_by("-number")),
               "may_propose": selectors.may_author_bank(request.user)}  # fmt: skip
    return render(request, "assessments/questions/detail.html", context)


@writers_only(FORBIDDEN_PAGE)
@GET_POST
@create_once
def local_question_create(request):
    form = QuestionContentForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            question = services.local_question_create(user=request.user, request=request, content=form.content())
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Question {question.code} has been saved. Templates can use it now.")
            return redirect("assessments:local-question", local_question_id=question.pk)
    return render(request, "assessments/questions/form.html", {"form": form})


@writers_only(FORBIDDEN_PAGE)
@GET_POST
def local_question_edit(request, local_question_id: int):
    question = selectors.access_local_question(user=request.user, question_id=local_question_id)
    current = selectors.local_question_current(question)
    form = QuestionContentForm(posted(request), initial=QuestionContentForm.initial_from(current.content()))
    if request.method == "POST" and form.is_valid():
        try:
            number = int(request.POST.get("number", "0")) if request.POST.get("number", "").isdigit() else 0
            services.local_question_update(user=request.user, request=request, question=question, number=number,
                                           content=form.content())  # fmt: skip
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, "The question has been saved as a new version. Templates keep the one they use.")
            return redirect("assessments:local-question", local_question_id=question.pk)
    return render(request, "assessments/questions/form.html", {"form": form, "question": question, "current": current})


@writers_only(FORBIDDEN_PAGE)
@require_POST
def local_question_propose(request, local_question_id: int):
    question = selectors.access_local_question(user=request.user, question_id=local_question_id)
    try:
        submission = services.local_question_propose(user=request.user, request=request, question=question)
    except REFUSALS as error:
        messages.error(request, refusal_message(error))
        return redirect("assessments:local-question", local_question_id=question.pk)
    messages.success(request, "A draft for the national bank has been made from it. Check it, then submit it.")
    return redirect("assessments:bank-submission", submission_id=submission.pk)
