"""Writes of templates and local questions: keyword-only, validated, audited, each in one
transaction.

A template is built in its draft version; "Put in use" publishes the draft (the version in use
before it is superseded, and the assessments started on it keep it). Changing a template in use
starts a new draft, a copy of the version in use. A version in use or superseded never changes.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from concord.errors import ChangedSinceOpened, WrongState
from shared_apps.question_bank.content import clean_content
from shared_apps.question_bank.models import AnswerType, QuestionVersion
from tenant_apps.assessments.models import (
    BusinessArea,
    LocalQuestion,
    LocalQuestionVersion,
    Template,
    TemplateDomain,
    TemplateItem,
    TemplateSection,
    TemplateVersion,
)
from tenant_apps.assessments.selectors.templates import may_build_templates, may_edit_template
from tenant_apps.assessments.services.bank import bank_submission_create
from tenant_apps.audit.services import audit_changes, audit_record
from tenant_apps.casework.models import CaseType

__all__ = [
    "WrongState",
    "local_question_create",
    "local_question_propose",
    "local_question_update",
    "scoring_answers",
    "template_create",
    "template_create_from_definition",
    "template_domain_add",
    "template_domain_remove",
    "template_draft_start",
    "template_item_add",
    "template_item_move",
    "template_item_remove",
    "template_item_update",
    "template_publish",
    "template_section_add",
    "template_section_move",
    "template_section_remove",
    "template_section_rename",
    "template_set_status",
    "template_update",
]

VALUE_SCORED = (AnswerType.NUMBER, AnswerType.SCALE_5, AnswerType.SCALE_10)
MAX_POINTS = Decimal("1000")


def _builder(user) -> None:
    if not may_build_templates(user):
        raise PermissionDenied("Viewers cannot build templates.")


def _editor(user, template: Template) -> None:
    if not may_edit_template(user, template):
        raise PermissionDenied("Only the template's author or a partnership admin may change it.")


def _audit(action: str, *, user, request, template: Template, summary: str, changes=None) -> None:
    audit_record(action=action, request=request, actor=user, object_type="assessment_template",
                 object_id=template.pk, summary=summary, changes=changes)  # fmt: skip


def _touch(template: Template) -> None:
    Template.objects.filter(pk=template.pk).update(updated_at=timezone.now(), version=F("version") + 1)


def _locked_draft(*, user, draft: TemplateVersion) -> TemplateVersion:
    """The draft, locked for the change, if the user may change its template; else refused."""
    locked = TemplateVersion.objects.select_for_update().select_related("template").filter(pk=draft.pk).first()
    if locked is None:
        raise TemplateVersion.DoesNotExist("No such version")
    _editor(user, locked.template)
    if not locked.is_draft:
        raise WrongState("This version is in use or superseded: it never changes. Start a new draft to change it.")
    return locked


# --- Templates ----------------------------------------------------------------------------------


def _details(*, name: str, description: str, business_area: str, exclude_pk=None) -> dict:
    errors: dict[str, list[str]] = {}
    name = " ".join((name or "").split())
    if not name:
        errors["name"] = ["Enter the template's name."]
    elif len(name) > 200:
        errors["name"] = ["The name must be 200 characters or fewer."]
    elif Template.objects.filter(name__iexact=name).exclude(pk=exclude_pk).exists():
        errors["name"] = ["Another template has this name. Choose another."]
    if business_area not in BusinessArea.values:
        errors["business_area"] = ["Choose the business area the template serves."]
    if len(description or "") > 2000:
        errors["description"] = ["The description must be 2000 characters or fewer."]
    if errors:
        raise ValidationError(errors)
    return {"name": name, "description": (description or "").strip(), "business_area": business_area}


@transaction.atomic
def template_create(*, user, request=None, name: str, description: str = "", business_area: str,
                    case_types=()) -> Template:  # fmt: skip
    """A new template with an empty draft (version 1)."""
    _builder(user)
    details = _details(name=name, description=description, business_area=business_area)
    template = Template.objects.create(created_by=user, **details)
    template.case_types.set(case_types)
    TemplateVersion.objects.create(template=template, number=1, created_by=user)
    _audit("assessment_template.created", user=user, request=request, template=template,
           summary=f"template {template.pk} created")  # fmt: skip
    return template


@transaction.atomic
def template_update(*, user, request=None, template: Template, version: int, name: str, description: str = "",
                    business_area: str, case_types=()) -> Template:  # fmt: skip
    """Its name, description, business area and case types (they apply to every version)."""
    locked = Template.objects.select_for_update().get(pk=template.pk)
    _editor(user, locked)
    if locked.version != version:
        raise ChangedSinceOpened()
    details = _details(name=name, description=description, business_area=business_area, exclude_pk=locked.pk)
    before = {"name": locked.name, "business_area": locked.business_area,
              "case_types": sorted(locked.case_types.values_list("pk", flat=True))}  # fmt: skip
    for field, value in details.items():
        setattr(locked, field, value)
    locked.updated_at, locked.version = timezone.now(), F("version") + 1
    locked.save()
    locked.case_types.set(case_types)
    locked.refresh_from_db()
    after = {"name": locked.name, "business_area": locked.business_area,
             "case_types": sorted(ct.pk for ct in case_types)}  # fmt: skip
    _audit("assessment_template.changed", user=user, request=request, template=locked,
           summary=f"template {locked.pk} details changed", changes=audit_changes(before, after))  # fmt: skip
    return locked


@transaction.atomic
def template_draft_start(*, user, request=None, template: Template) -> TemplateVersion:
    """A new draft, a copy of the version in use (its sections, domains and questions)."""
    locked = Template.objects.select_for_update().get(pk=template.pk)
    _editor(user, locked)
    if locked.versions.filter(state=TemplateVersion.State.DRAFT).exists():
        raise WrongState("This template already has a draft: change that one.")
    source = locked.versions.filter(state=TemplateVersion.State.PUBLISHED).first()
    if source is None:
        raise WrongState("This template has no version in use to start from.")
    number = locked.versions.aggregate(top=Max("number"))["top"] + 1
    draft = TemplateVersion.objects.create(template=locked, number=number, created_by=user)
    domains = {}
    for domain in source.domains.all():
        domains[domain.pk] = TemplateDomain.objects.create(
            template_version=draft, name=domain.name, aggregate=domain.aggregate, position=domain.position
        )
    for section in source.sections.prefetch_related("items"):
        copy = TemplateSection.objects.create(template_version=draft, title=section.title, position=section.position)
        TemplateItem.objects.bulk_create(
            TemplateItem(section=copy, position=item.position, bank_version_id=item.bank_version_id,
                         local_version_id=item.local_version_id, asked_of=item.asked_of, required=item.required,
                         domain=domains.get(item.domain_id), scoring=item.scoring)
            for item in section.items.all()
        )  # fmt: skip
    _touch(locked)
    _audit("assessment_template.draft_started", user=user, request=request, template=locked,
           summary=f"template {locked.pk}: version {number} drafted from version {source.number}")  # fmt: skip
    return draft


def _publish_errors(draft: TemplateVersion) -> list[str]:
    items = TemplateItem.objects.filter(section__template_version=draft).select_related(
        "bank_version", "local_version", "domain"
    )
    errors = []
    if not items.exists():
        errors.append("Add at least one question: a template with no questions cannot be used.")
    for item in items:
        if item.domain_id and not item.scoring:
            errors.append(f"Say how {item.question.wording!r} scores towards {item.domain.name}.")
    for section in draft.sections.all():
        if not section.items.exists():
            errors.append(f"The section {section.title!r} has no questions: add some or remove it.")
    return errors


@transaction.atomic
def template_publish(*, user, request=None, draft: TemplateVersion) -> TemplateVersion:
    """Put the draft in use: the version in use before it is superseded (assessments keep theirs)."""
    locked = _locked_draft(user=user, draft=draft)
    if errors := _publish_errors(locked):
        raise ValidationError({"template": errors})
    template = Template.objects.select_for_update().get(pk=locked.template_id)
    previous = template.versions.filter(state=TemplateVersion.State.PUBLISHED).first()
    if previous is not None:
        previous.state = TemplateVersion.State.SUPERSEDED
        previous.save(update_fields=["state"])
    locked.state, locked.published_at = TemplateVersion.State.PUBLISHED, timezone.now()
    locked.save(update_fields=["state", "published_at"])
    if template.status == Template.Status.DRAFT:
        template.status = Template.Status.IN_USE
        template.save(update_fields=["status"])
    _touch(template)
    _audit("assessment_template.published", user=user, request=request, template=template,
           summary=f"template {template.pk}: version {locked.number} put in use")  # fmt: skip
    return locked


@transaction.atomic
def template_set_status(*, user, request=None, template: Template, status: str) -> Template:
    """Withdraw a template in use (no new assessment is offered it; those started keep it), or
    put a withdrawn one back in use."""
    locked = Template.objects.select_for_update().get(pk=template.pk)
    _editor(user, locked)
    allowed = {Template.Status.WITHDRAWN: Template.Status.IN_USE, Template.Status.IN_USE: Template.Status.WITHDRAWN}
    if allowed.get(status) != locked.status:
        raise WrongState(f"This template is {locked.get_status_display().lower()}: it cannot be "
                         f"{'withdrawn' if status == Template.Status.WITHDRAWN else 'put back in use'}.")  # fmt: skip
    before = locked.status
    locked.status = status
    locked.save(update_fields=["status"])
    _touch(locked)
    _audit("assessment_template.status_changed", user=user, request=request, template=locked,
           summary=f"template {locked.pk} {locked.get_status_display().lower()}",
           changes=audit_changes({"status": before}, {"status": status}))  # fmt: skip
    return locked


# --- Sections -----------------------------------------------------------------------------------


def _title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise ValidationError({"title": ["Enter the section's title."]})
    if len(title) > 200:
        raise ValidationError({"title": ["The title must be 200 characters or fewer."]})
    return title


def _next_position(rows) -> int:
    return (rows.aggregate(top=Max("position"))["top"] or 0) + 1


@transaction.atomic
def template_section_add(*, user, request=None, draft: TemplateVersion, title: str) -> TemplateSection:
    locked = _locked_draft(user=user, draft=draft)
    section = TemplateSection.objects.create(template_version=locked, title=_title(title),
                                             position=_next_position(locked.sections.all()))  # fmt: skip
    _touch(locked.template)
    _audit("assessment_template.section_added", user=user, request=request, template=locked.template,
           summary=f"template {locked.template_id}: section {section.pk} added to version {locked.number}")  # fmt: skip
    return section


def _locked_section(*, user, section: TemplateSection) -> TemplateSection:
    _locked_draft(user=user, draft=section.template_version)
    return TemplateSection.objects.select_related("template_version__template").get(pk=section.pk)


@transaction.atomic
def template_section_rename(*, user, request=None, section: TemplateSection, title: str) -> TemplateSection:
    locked = _locked_section(user=user, section=section)
    locked.title = _title(title)
    locked.save(update_fields=["title"])
    _touch(locked.template_version.template)
    return locked


@transaction.atomic
def template_section_remove(*, user, request=None, section: TemplateSection) -> None:
    """Remove a section of the draft and its questions (the bank's questions stay in the bank)."""
    locked = _locked_section(user=user, section=section)
    template = locked.template_version.template
    locked.delete()
    _touch(template)
    _audit("assessment_template.section_removed", user=user, request=request, template=template,
           summary=f"template {template.pk}: section {section.pk} removed")  # fmt: skip


def _swap(rows: list, index: int, direction: str) -> None:
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(rows):
        return
    rows[index], rows[other] = rows[other], rows[index]
    for position, row in enumerate(rows, start=1):
        if row.position != position:
            row.position = position
            row.save(update_fields=["position"])


@transaction.atomic
def template_section_move(*, user, request=None, section: TemplateSection, direction: str) -> None:
    locked = _locked_section(user=user, section=section)
    rows = list(locked.template_version.sections.order_by("position", "pk"))
    _swap(rows, [row.pk for row in rows].index(locked.pk), direction)
    _touch(locked.template_version.template)


# --- Domains ------------------------------------------------------------------------------------


@transaction.atomic
def template_domain_add(*, user, request=None, draft: TemplateVersion, name: str, aggregate: str) -> TemplateDomain:
    locked = _locked_draft(user=user, draft=draft)
    name = " ".join((name or "").split())
    errors = {}
    if not name or len(name) > 100:
        errors["name"] = ["Enter the domain's name, 100 characters or fewer."]
    elif locked.domains.filter(name__iexact=name).exists():
        errors["name"] = ["This template already scores a domain of this name."]
    if aggregate not in TemplateDomain.Aggregate.values:
        errors["aggregate"] = ["Choose how the domain's score is made."]
    if errors:
        raise ValidationError(errors)
    domain = TemplateDomain.objects.create(template_version=locked, name=name, aggregate=aggregate,
                                           position=_next_position(locked.domains.all()))  # fmt: skip
    _touch(locked.template)
    return domain


@transaction.atomic
def template_domain_remove(*, user, request=None, domain: TemplateDomain) -> None:
    """Remove a scored domain: its questions stay, no longer scored."""
    locked = _locked_draft(user=user, draft=domain.template_version)
    TemplateItem.objects.filter(domain=domain).update(domain=None, scoring={})
    domain.delete()
    _touch(locked.template)


# --- Questions of a template ------------------------------------------------------------------


def scoring_answers(question) -> list[str]:
    """The answers points may be given for: yes/no (and don't know), or a list's choices."""
    if question.answer_type == AnswerType.YES_NO:
        return ["yes", "no"]
    if question.answer_type == AnswerType.YES_NO_UNKNOWN:
        return ["yes", "no", "unknown"]
    if question.answer_type in (AnswerType.SINGLE_CHOICE, AnswerType.MULTIPLE_CHOICE):
        return list(question.options)
    return []


def _clean_scoring(question, scoring: dict | None, domain) -> dict:
    """``{}``, ``{"kind": "value"}`` or ``{"kind": "map", "scores": {answer: points}}``, checked
    against the question's answer type; a scored domain needs a scoring and a scoring a domain."""
    scoring = scoring or {}
    kind = scoring.get("kind")
    if domain is None:
        if kind:
            raise ValidationError({"domain": ["Choose the domain this question's score counts towards."]})
        return {}
    if kind == "value":
        if question.answer_type not in VALUE_SCORED:
            raise ValidationError(
                {"scoring": ["Only numbers and scales score by their value: give points per answer."]}
            )
        return {"kind": "value"}
    if kind == "map":
        answers = scoring_answers(question)
        if not answers:
            raise ValidationError({"scoring": ["This kind of answer cannot be given points: score it by its value, "
                                               "or do not score it."]})  # fmt: skip
        scores = {}
        for answer, points in (scoring.get("scores") or {}).items():
            if answer not in answers:
                raise ValidationError({"scoring": [f"{answer!r} is not one of the question's answers."]})
            if points in (None, ""):
                continue
            try:
                value = Decimal(str(points))
            except InvalidOperation:
                raise ValidationError({"scoring": [f"Give the points for {answer!r} as a number."]}) from None
            if not value.is_finite() or abs(value) > MAX_POINTS:
                raise ValidationError({"scoring": [f"Points must be between -{MAX_POINTS} and {MAX_POINTS}."]})
            scores[answer] = float(value) if value != value.to_integral() else int(value)
        if not scores:
            raise ValidationError({"scoring": ["Give points for at least one answer."]})
        return {"kind": "map", "scores": scores}
    raise ValidationError({"scoring": ["Say how the question scores towards its domain."]})


@transaction.atomic
def template_item_add(*, user, request=None, section: TemplateSection, bank_version: QuestionVersion | None = None,
                      local_version: LocalQuestionVersion | None = None, asked_of: str = TemplateItem.AskedOf.FAMILY,
                      required: bool = True) -> TemplateItem:  # fmt: skip
    """Add a bank question (its current version, not retired) or a local one to a draft's section."""
    locked = _locked_section(user=user, section=section)
    if (bank_version is None) == (local_version is None):
        raise ValidationError({"question": ["Choose one question to add."]})
    if asked_of not in TemplateItem.AskedOf.values:
        raise ValidationError({"asked_of": ["Choose whom the question is asked about."]})
    if bank_version is not None:
        latest = bank_version.question.versions.order_by("-number").values_list("pk", flat=True).first()
        if bank_version.question.is_retired or latest != bank_version.pk:
            raise ValidationError(
                {"question": ["This question is retired or has a newer version: add the current one."]}
            )
    pinned = TemplateItem.objects.filter(section__template_version=locked.template_version)
    if (bank_version and pinned.filter(bank_version__question=bank_version.question).exists()) or (
        local_version and pinned.filter(local_version__question=local_version.question).exists()
    ):
        raise ValidationError({"question": ["This question is already in the template."]})
    item = TemplateItem.objects.create(section=locked, position=_next_position(locked.items.all()),
                                       bank_version=bank_version, local_version=local_version, asked_of=asked_of,
                                       required=required)  # fmt: skip
    _touch(locked.template_version.template)
    label = bank_version.label if bank_version else local_version.label
    _audit("assessment_template.question_added", user=user, request=request, template=locked.template_version.template,
           summary=f"template {locked.template_version.template_id}: {label} added")  # fmt: skip
    return item


def _locked_item(*, user, item: TemplateItem) -> TemplateItem:
    _locked_draft(user=user, draft=item.section.template_version)
    return TemplateItem.objects.select_related("section__template_version__template", "bank_version",
                                               "local_version").get(pk=item.pk)  # fmt: skip


@transaction.atomic
def template_item_update(
    *,
    user,
    request=None,
    item: TemplateItem,
    asked_of: str,
    required: bool,
    domain: TemplateDomain | None = None,
    scoring: dict | None = None,
) -> TemplateItem:
    locked = _locked_item(user=user, item=item)
    version = locked.section.template_version
    if asked_of not in TemplateItem.AskedOf.values:
        raise ValidationError({"asked_of": ["Choose whom the question is asked about."]})
    if domain is not None and domain.template_version_id != version.pk:
        raise ValidationError({"domain": ["Choose one of this template's domains."]})
    before = {"asked_of": locked.asked_of, "required": locked.required, "domain": locked.domain_id,
              "scoring": locked.scoring}  # fmt: skip
    locked.asked_of, locked.required = asked_of, bool(required)
    locked.domain, locked.scoring = domain, _clean_scoring(locked.question, scoring, domain)
    locked.save(update_fields=["asked_of", "required", "domain", "scoring"])
    _touch(version.template)
    after = {"asked_of": locked.asked_of, "required": locked.required, "domain": locked.domain_id,
             "scoring": locked.scoring}  # fmt: skip
    _audit("assessment_template.question_changed", user=user, request=request, template=version.template,
           summary=f"template {version.template_id}: question {locked.pk} changed",
           changes=audit_changes(before, after))  # fmt: skip
    return locked


@transaction.atomic
def template_item_remove(*, user, request=None, item: TemplateItem) -> None:
    locked = _locked_item(user=user, item=item)
    template = locked.section.template_version.template
    label = locked.question.label
    locked.delete()
    _touch(template)
    _audit("assessment_template.question_removed", user=user, request=request, template=template,
           summary=f"template {template.pk}: {label} removed")  # fmt: skip


@transaction.atomic
def template_item_move(*, user, request=None, item: TemplateItem, direction: str) -> None:
    locked = _locked_item(user=user, item=item)
    rows = list(locked.section.items.order_by("position", "pk"))
    _swap(rows, [row.pk for row in rows].index(locked.pk), direction)
    _touch(locked.section.template_version.template)


# --- Local questions ----------------------------------------------------------------------------


def _next_local_code() -> str:
    numbers = [int(code[2:]) for code in LocalQuestion.objects.values_list("code", flat=True) if code[2:].isdigit()]
    return f"L-{max(numbers, default=0) + 1:03d}"


@transaction.atomic
def local_question_create(*, user, request=None, content: dict) -> LocalQuestion:
    """A question of the partnership's own (version 1)."""
    _builder(user)
    cleaned = clean_content(content)
    for _ in range(5):
        try:
            with transaction.atomic():
                question = LocalQuestion.objects.create(code=_next_local_code(), created_by=user)
            break
        except IntegrityError:
            continue
    else:
        raise WrongState("Could not number the question; try again.")
    LocalQuestionVersion.objects.create(question=question, number=1, created_by=user, **cleaned)
    audit_record(action="local_question.created", request=request, actor=user, object_type="local_question",
                 object_id=question.pk, summary=f"local question {question.code} created")  # fmt: skip
    return question


@transaction.atomic
def local_question_update(
    *, user, request=None, question: LocalQuestion, number: int, content: dict
) -> LocalQuestionVersion:
    """A new version of a local question (templates keep the versions they pinned); ``number`` is
    the version the user changed, so that a newer one is not silently replaced."""
    _builder(user)
    locked = LocalQuestion.objects.select_for_update().get(pk=question.pk)
    current = locked.versions.order_by("-number").first()
    if current.number != number:
        raise ChangedSinceOpened()
    cleaned = clean_content(content)
    if cleaned == clean_content(current.content()):
        return current
    version = LocalQuestionVersion.objects.create(
        question=locked, number=current.number + 1, created_by=user, **cleaned
    )
    audit_record(action="local_question.changed", request=request, actor=user, object_type="local_question",
                 object_id=locked.pk, summary=f"local question {locked.code}: version {version.number}",
                 changes=audit_changes(current.content(), version.content()))  # fmt: skip
    return version


@transaction.atomic
def local_question_propose(*, user, request=None, question: LocalQuestion):
    """Propose the local question to the national bank: a draft submission with its current content
    (partnership admins; ``services.bank_submission_submit`` sends it)."""
    locked = LocalQuestion.objects.select_for_update().get(pk=question.pk)
    if locked.submission_id is not None and locked.submission.state not in ("rejected", "withdrawn"):
        raise WrongState("This question has already been proposed to the national bank.")
    current = locked.versions.order_by("-number").first()
    submission = bank_submission_create(user=user, request=request, content=current.content())
    locked.submission = submission
    locked.save(update_fields=["submission"])
    return submission


@transaction.atomic
def template_create_from_definition(*, user, request=None, definition: dict) -> Template:
    """A template built and put in use from a definition (the demo's ``demo_templates.json``
    shape): name, description, business_area, case_types (codes), domains (name, aggregate),
    sections (title, items: the bank question's code, asked_of, required, domain, scoring).
    Through the same services as the pages, so the same rules hold."""
    case_types = list(CaseType.objects.filter(code__in=definition.get("case_types", [])))
    template = template_create(user=user, request=request, name=definition["name"],
                               description=definition.get("description", ""),
                               business_area=definition["business_area"], case_types=case_types)  # fmt: skip
    draft = template.versions.get()
    domains = {d["name"]: template_domain_add(user=user, request=request, draft=draft, name=d["name"],
                                              aggregate=d.get("aggregate", "sum"))
               for d in definition.get("domains", [])}  # fmt: skip
    codes = [item["question"] for section in definition["sections"] for item in section["items"]]
    latest = {}
    for version in QuestionVersion.objects.filter(question__code__in=codes).select_related("question"):
        if version.question.code not in latest or version.number > latest[version.question.code].number:
            latest[version.question.code] = version
    for section_definition in definition["sections"]:
        section = template_section_add(user=user, request=request, draft=draft, title=section_definition["title"])
        for entry in section_definition["items"]:
            if entry["question"] not in latest:
                raise ValidationError({"question": [f"The bank has no question {entry['question']}."]})
            item = template_item_add(user=user, request=request, section=section,
                                     bank_version=latest[entry["question"]], asked_of=entry.get("asked_of", "family"),
                                     required=entry.get("required", True))  # fmt: skip
            if entry.get("domain"):
                template_item_update(user=user, request=request, item=item, asked_of=item.asked_of,
                                     required=item.required, domain=domains[entry["domain"]],
                                     scoring=entry.get("scoring"))  # fmt: skip
    template_publish(user=user, request=request, draft=draft)
    return Template.objects.get(pk=template.pk)
