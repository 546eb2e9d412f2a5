"""Reads of templates and local questions.

Templates and local questions are the partnership's working tools, not records about people:
every signed-in member of the partnership reads them. Building them takes a role that writes
(``may_build_templates``); changing one takes its creator or a partnership admin
(``may_edit_template``). A version's structure is read in a constant number of queries,
whatever its number of sections and questions (``version_structure``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404

from shared_apps.question_bank import selectors as bank
from shared_apps.question_bank.models import QuestionVersion
from tenant_apps.assessments.models import (
    LocalQuestion,
    LocalQuestionVersion,
    Template,
    TemplateDomain,
    TemplateItem,
    TemplateSection,
    TemplateVersion,
)

__all__ = [
    "QuestionCandidates",
    "TemplatePage",
    "access_candidate",
    "access_local_question",
    "access_template",
    "access_template_domain",
    "access_template_item",
    "access_template_section",
    "access_template_version",
    "local_question_current",
    "local_questions_visible_to",
    "may_build_templates",
    "may_edit_template",
    "question_candidates",
    "template_page",
    "templates_offered",
    "templates_visible_to",
    "version_structure",
]


def may_build_templates(user) -> bool:
    """Practitioners and admins build templates and write local questions; viewers read them."""
    return not user.is_read_only


def may_edit_template(user, template: Template) -> bool:
    return may_build_templates(user) and (user.is_partnership_admin or template.created_by_id == user.pk)


def templates_visible_to(user) -> QuerySet[Template]:
    return Template.objects.prefetch_related("case_types").order_by("name", "pk")


def access_template(*, user, template_id) -> Template:
    template = templates_visible_to(user).filter(pk=template_id).first() if str(template_id).isdigit() else None
    if template is None:
        raise Http404("No such template")
    return template


def access_template_version(*, user, template: Template, number) -> TemplateVersion:
    version = template.versions.filter(number=number).first() if str(number).isdigit() else None
    if version is None:
        raise Http404("No such version")
    return version


def templates_offered(*, case_type=None) -> QuerySet[Template]:
    """Templates in use; on a case, only those offered on its type."""
    templates = Template.objects.filter(status=Template.Status.IN_USE)
    if case_type is not None:
        templates = templates.filter(case_types=case_type)
    return templates.order_by("name", "pk")


def version_structure(version: TemplateVersion) -> TemplateVersion:
    """The version with its domains, sections and items (and each item's question), prefetched:
    four queries whatever their number."""
    items = TemplateItem.objects.select_related("bank_version__question", "local_version__question", "domain")
    sections = TemplateSection.objects.prefetch_related(Prefetch("items", queryset=items.order_by("position", "pk")))
    return (
        TemplateVersion.objects.select_related("template")
        .prefetch_related("domains", Prefetch("sections", queryset=sections.order_by("position", "pk")))
        .get(pk=version.pk)
    )


@dataclass(frozen=True)
class TemplatePage:
    template: Template
    in_use: TemplateVersion | None
    draft: TemplateVersion | None
    shown: TemplateVersion | None  # the draft for those who edit it, else the version in use
    versions: list[TemplateVersion]
    may_edit: bool

    @property
    def question_count(self) -> int:
        return sum(len(section.items.all()) for section in self.shown.sections.all()) if self.shown else 0


def template_page(*, user, template: Template) -> TemplatePage:
    versions = list(template.versions.order_by("-number"))
    in_use = next((v for v in versions if v.state == TemplateVersion.State.PUBLISHED), None)
    draft = next((v for v in versions if v.state == TemplateVersion.State.DRAFT), None)
    may_edit = may_edit_template(user, template)
    shown = (draft if may_edit and draft else None) or in_use or draft
    return TemplatePage(template=template, in_use=in_use, draft=draft, versions=versions, may_edit=may_edit,
                        shown=version_structure(shown) if shown else None)  # fmt: skip


# --- Local questions ------------------------------------------------------------------------


def local_questions_visible_to(user) -> QuerySet[LocalQuestion]:
    latest = LocalQuestionVersion.objects.filter(question_id=OuterRef("pk")).order_by("-number")
    return LocalQuestion.objects.annotate(
        current_version_id=Subquery(latest.values("pk")[:1]), current_wording=Subquery(latest.values("wording")[:1])
    ).select_related("submission__published_version__question")


def access_local_question(*, user, question_id) -> LocalQuestion:
    found = local_questions_visible_to(user).filter(pk=question_id).first() if str(question_id).isdigit() else None
    if found is None:
        raise Http404("No such question")
    return found


def local_question_current(question: LocalQuestion) -> LocalQuestionVersion:
    return question.versions.order_by("-number").first()


@dataclass(frozen=True)
class QuestionCandidates:
    bank: list[QuestionVersion]
    local: list[LocalQuestionVersion]


CANDIDATES = 30


def question_candidates(*, user, text: str = "", domain: str = "", answer_type: str = "", nature: str = "",
                        tag: str = "") -> QuestionCandidates:  # fmt: skip
    """Questions a template may add: the bank's current ones, and the partnership's local ones
    (their latest versions, not retired, and not already published in the bank: the bank's
    version replaces them in new templates)."""
    found = list(bank.bank_search(text=text, domain=domain, answer_type=answer_type, nature=nature, tag=tag)
                 [:CANDIDATES])  # fmt: skip
    latest = LocalQuestionVersion.objects.filter(question_id=OuterRef("question_id")).order_by("-number")
    local = LocalQuestionVersion.objects.filter(pk=Subquery(latest.values("pk")[:1]),
                                                question__retired_at__isnull=True).exclude(
        question__submission__state="published").select_related("question")  # fmt: skip
    for word in (text or "").split()[:8]:
        local = local.filter(Q(wording__icontains=word) | Q(question__code__iexact=word))
    if domain:
        local = local.filter(domain=domain)
    if answer_type:
        local = local.filter(answer_type=answer_type)
    if nature:
        local = local.filter(nature=nature)
    if tag:
        local = local.filter(tags__contains=[tag.lower()])
    return QuestionCandidates(bank=found, local=list(local.order_by("question__code")[:CANDIDATES]))


# --- The parts of a template named in its pages' URLs ------------------------------------------


def access_template_section(*, user, template: Template, section_id) -> TemplateSection:
    section = None
    if str(section_id).isdigit():
        section = (TemplateSection.objects.select_related("template_version__template")
                   .filter(pk=section_id, template_version__template=template).first())  # fmt: skip
    if section is None:
        raise Http404("No such section")
    return section


def access_template_item(*, user, template: Template, item_id) -> TemplateItem:
    item = None
    if str(item_id).isdigit():
        item = (TemplateItem.objects.select_related("section__template_version__template", "bank_version__question",
                                                    "local_version__question", "domain")
                .filter(pk=item_id, section__template_version__template=template).first())  # fmt: skip
    if item is None:
        raise Http404("No such question in this template")
    return item


def access_template_domain(*, user, template: Template, domain_id) -> TemplateDomain:
    domain = None
    if str(domain_id).isdigit():
        domain = (TemplateDomain.objects.select_related("template_version__template")
                  .filter(pk=domain_id, template_version__template=template).first())  # fmt: skip
    if domain is None:
        raise Http404("No such domain")
    return domain


def access_candidate(*, user, choice: str):
    """A question the builder may add, named ``bank:<id>`` or ``local:<id>``: (bank version, local version)."""
    kind, _, pk = (choice or "").partition(":")
    if pk.isdigit() and kind == "bank":
        version = QuestionVersion.objects.select_related("question").filter(pk=pk).first()
        if version is not None:
            return version, None
    if pk.isdigit() and kind == "local":
        version = LocalQuestionVersion.objects.select_related("question").filter(pk=pk).first()
        if version is not None:
            return None, version
    raise Http404("No such question")
