"""Templates and local questions: built from the bank and the partnership's own questions,
versioned (a version in use never changes; editing starts a new draft), scored by domain.

Cast: tests/conftest.py's ``cast`` (Bob, Carl, Dan, Vera, Alice in Suffolk) and Nina in Norfolk.
Templates are the partnership's tools: everyone in it reads them, viewers never change them, and
Norfolk sees none of Suffolk's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_tenants.utils import schema_context

from concord.errors import ChangedSinceOpened, WrongState
from shared_apps.question_bank.models import QuestionVersion
from tenant_apps.assessments import selectors, services
from tenant_apps.assessments.models import Template, TemplateItem, TemplateVersion
from tenant_apps.audit.models import AuditEvent
from tenant_apps.casework.models import CaseType
from tests.conftest import sign_in
from tests.test_casework_pages import client_as

DEFINITIONS = json.loads(
    (Path(__file__).resolve().parents[1] / "tenant_apps" / "assessments" / "demo_templates.json").read_text()
)
LOCAL = {"wording": "Has the family used the food bank this month?", "answer_type": "yes_no", "nature": "objective",
         "domain": "finance", "tags": ["food"]}  # fmt: skip


def bank(code: str) -> QuestionVersion:
    return QuestionVersion.objects.filter(question__code=code).order_by("-number").first()


def draft_with(user, *codes, name="Housing check") -> TemplateVersion:
    template = services.template_create(user=user, name=name, business_area="family_support",
                                        case_types=[CaseType.objects.get(code="TF")])  # fmt: skip
    draft = template.versions.get()
    section = services.template_section_add(user=user, draft=draft, title="Home")
    for code in codes:
        services.template_item_add(user=user, section=section, bank_version=bank(code))
    return draft


@pytest.mark.django_db
def test_the_three_demo_templates_build_and_go_in_use(cast):
    for definition in DEFINITIONS:
        template = services.template_create_from_definition(user=cast["bob"], definition=definition)
        page = selectors.template_page(user=cast["bob"], template=template)
        wanted = sum(len(section["items"]) for section in definition["sections"])
        assert (template.status, page.in_use.number, page.question_count) == ("in_use", 1, wanted)
        assert [d.name for d in page.shown.domains.all()] == [d["name"] for d in definition["domains"]]
    outcomes = Template.objects.get(name="Family outcomes tool")
    items = TemplateItem.objects.filter(section__template_version__template=outcomes)
    assert items.count() == 10 and {i.bank_version.answer_type for i in items} == {"scale_10"}
    assert {i.asked_of for i in items} == {"each_member"} and all(i.scoring == {"kind": "value"} for i in items)
    assert set(selectors.templates_offered(case_type=CaseType.objects.get(code="DA"))) == {
        Template.objects.get(name="Domestic abuse needs assessment")
    }


@pytest.mark.django_db
def test_a_template_with_no_questions_cannot_be_put_in_use(cast):
    template = services.template_create(user=cast["bob"], name="Empty", business_area="asb")
    draft = template.versions.get()
    with pytest.raises(ValidationError, match="at least one question"):
        services.template_publish(user=cast["bob"], draft=draft)
    services.template_section_add(user=cast["bob"], draft=draft, title="Nothing yet")
    with pytest.raises(ValidationError, match="has no questions"):
        services.template_publish(user=cast["bob"], draft=draft)
    template.refresh_from_db()
    assert template.status == "draft"


@pytest.mark.django_db
def test_editing_a_template_in_use_makes_a_new_version_and_the_old_one_never_changes(cast):
    bob = cast["bob"]
    draft = draft_with(bob, "HOU-01", "HOU-03")
    first = services.template_publish(user=bob, draft=draft)
    section = first.sections.get()
    with pytest.raises(WrongState, match="never changes"):
        services.template_item_add(user=bob, section=section, bank_version=bank("HOU-04"))
    second = services.template_draft_start(user=bob, template=first.template)
    assert second.number == 2 and second.sections.get().items.count() == 2
    with pytest.raises(WrongState, match="already has a draft"):
        services.template_draft_start(user=bob, template=first.template)
    new_section = second.sections.get()
    services.template_item_add(user=bob, section=new_section, bank_version=bank("HOU-04"))
    services.template_item_remove(user=bob, item=new_section.items.get(bank_version=bank("HOU-01")))
    services.template_publish(user=bob, draft=second)
    first.refresh_from_db()
    assert first.state == "superseded"
    assert sorted(i.bank_version.question.code for i in first.sections.get().items.all()) == ["HOU-01", "HOU-03"]
    assert sorted(i.bank_version.question.code for i in second.sections.get().items.all()) == ["HOU-03", "HOU-04"]
    actions = set(AuditEvent.objects.filter(object_type="assessment_template").values_list("action", flat=True))
    assert {"assessment_template.published", "assessment_template.draft_started",
            "assessment_template.question_removed"} <= actions  # fmt: skip


@pytest.mark.django_db
def test_scoring_is_checked_against_the_answer_type(cast):
    bob = cast["bob"]
    draft = draft_with(bob, "HOU-01")
    section = draft.sections.get()
    domain = services.template_domain_add(user=bob, draft=draft, name="Housing", aggregate="sum")
    choice = section.items.get()
    options = bank("HOU-01").options
    refusals = [
        ({"kind": "value"}, domain, "Only numbers and scales"),
        ({"kind": "map", "scores": {"Castle": 1}}, domain, "not one of the question's answers"),
        ({"kind": "map", "scores": {options[0]: "lots"}}, domain, "as a number"),
        ({"kind": "map", "scores": {}}, domain, "at least one answer"),
        ({"kind": "map", "scores": {options[0]: 1}}, None, "Choose the domain"),
        ({}, domain, "Say how the question scores"),
    ]
    for scoring, where, message in refusals:
        with pytest.raises(ValidationError, match=message):
            services.template_item_update(user=bob, item=choice, asked_of="family", required=True, domain=where,
                                          scoring=scoring)  # fmt: skip
    done = services.template_item_update(
        user=bob,
        item=choice,
        asked_of="each_member",
        required=False,
        domain=domain,
        scoring={"kind": "map", "scores": {options[0]: "2", options[1]: 0.5}},
    )
    assert done.scoring == {"kind": "map", "scores": {options[0]: 2, options[1]: 0.5}}
    other = services.template_create(user=bob, name="Other", business_area="asb").versions.get()
    foreign = services.template_domain_add(user=bob, draft=other, name="Elsewhere", aggregate="sum")
    with pytest.raises(ValidationError, match="this template's domains"):
        services.template_item_update(user=bob, item=choice, asked_of="family", required=True, domain=foreign,
                                      scoring={"kind": "map", "scores": {options[0]: 1}})  # fmt: skip


@pytest.mark.django_db
def test_a_question_is_added_once_and_only_in_its_current_version(cast):
    bob = cast["bob"]
    draft = draft_with(bob, "HOU-01")
    section = draft.sections.get()
    with pytest.raises(ValidationError, match="already in the template"):
        services.template_item_add(user=bob, section=section, bank_version=bank("HOU-01"))
    from shared_apps.question_bank import services as bank_services

    with schema_context("public"):
        bank_services.question_retire(question=bank("HOU-02").question, reason="Replaced.")
    with pytest.raises(ValidationError, match="retired"):
        services.template_item_add(user=bob, section=section, bank_version=bank("HOU-02"))


@pytest.mark.django_db
def test_who_may_build_and_change_templates(cast):
    draft = draft_with(cast["bob"], "HOU-01")
    with pytest.raises(PermissionDenied):
        services.template_create(user=cast["vera"], name="Viewer's", business_area="asb")
    with pytest.raises(PermissionDenied):
        services.template_section_add(user=cast["carl"], draft=draft, title="Not mine")
    services.template_section_add(user=cast["alice"], draft=draft, title="The admin may")  # partnership admin
    with pytest.raises(ValidationError, match="Another template has this name"):
        services.template_create(user=cast["carl"], name="housing CHECK", business_area="asb")
    template = draft.template
    template.refresh_from_db()
    with pytest.raises(ChangedSinceOpened):
        services.template_update(user=cast["bob"], template=template, version=template.version - 1, name="Renamed",
                                 business_area="asb")  # fmt: skip


@pytest.mark.django_db
def test_local_questions_are_versioned_and_can_be_proposed_to_the_bank(cast):
    question = services.local_question_create(user=cast["bob"], content=LOCAL)
    assert question.code == "L-001" and question.versions.get().number == 1
    same = services.local_question_update(user=cast["bob"], question=question, number=1, content=LOCAL)
    assert same.number == 1  # nothing changed: no new version
    second = services.local_question_update(
        user=cast["bob"],
        question=question,
        number=1,
        content={**LOCAL, "wording": "Has the family used a food bank lately?"},
    )
    assert second.number == 2
    with pytest.raises(ChangedSinceOpened):
        services.local_question_update(user=cast["bob"], question=question, number=1, content=LOCAL)
    with pytest.raises(ValidationError) as refused:
        services.local_question_create(user=cast["bob"], content={**LOCAL, "answer_type": "scale_5"})
    assert "anchors" in refused.value.message_dict
    candidates = selectors.question_candidates(user=cast["bob"], text="food bank")
    assert [v.pk for v in candidates.local] == [second.pk]
    with pytest.raises(PermissionDenied):  # proposing to the bank: partnership admins
        services.local_question_propose(user=cast["bob"], question=question)
    submission = services.local_question_propose(user=cast["alice"], question=question)
    assert (submission.wording, submission.state) == (second.wording, "draft")
    with pytest.raises(WrongState, match="already been proposed"):
        services.local_question_propose(user=cast["alice"], question=question)


@pytest.mark.django_db
def test_norfolk_sees_none_of_suffolks_templates_or_local_questions(cast):
    services.template_create_from_definition(user=cast["bob"], definition=DEFINITIONS[0])
    services.local_question_create(user=cast["bob"], content=LOCAL)
    with schema_context("norfolk"):
        assert not Template.objects.exists() and not TemplateVersion.objects.exists()
        from tenant_apps.assessments.models import LocalQuestion

        assert not LocalQuestion.objects.exists()


# --- The pages ----------------------------------------------------------------------------------


def ids_of(template: Template) -> dict:
    draft = template.versions.get(state="draft")
    section = draft.sections.first()
    return {"section": section.pk, "item": section.items.first().pk if section.items.exists() else None,
            "draft": draft}  # fmt: skip


@pytest.mark.django_db
def test_bob_builds_a_template_through_the_pages_and_puts_it_in_use(cast):
    bob = client_as(cast, "bob")
    created = bob.post("/assessments/templates/new/", {"name": "Home visit check", "business_area": "family_support",
                                                       "case_types": [CaseType.objects.get(code="TF").pk]})  # fmt: skip
    assert created.status_code == 302, created.content[:2000]
    template = Template.objects.get(name="Home visit check")
    base = f"/assessments/templates/{template.pk}/"
    assert created["Location"] == base
    assert bob.post(base + "sections/", {"title": "Home"}).status_code == 302
    section = template.versions.get().sections.get()
    search = bob.get(f"{base}sections/{section.pk}/questions/?q=tenancy")
    assert search.status_code == 200 and b"National question bank" in search.content
    version = bank("HOU-01")
    added = bob.post(f"{base}sections/{section.pk}/questions/", {"question": f"bank:{version.pk}",
                                                                 "asked_of": "family", "required": "yes"})  # fmt: skip
    assert added.status_code == 302
    assert bob.post(base + "domains/", {"name": "Housing", "aggregate": "sum"}).status_code == 302
    item = section.items.get()
    domain = template.versions.get().domains.get()
    edit = bob.get(f"{base}questions/{item.pk}/")
    assert f"Points for “{version.options[0]}”".encode() in edit.content
    bad = bob.post(f"{base}questions/{item.pk}/", {"asked_of": "family", "required": "yes", "domain": domain.pk,
                                                   "score_kind": "map", "points_0": "many"})  # fmt: skip
    assert bad.status_code == 200 and b"as a number" in bad.content
    saved = bob.post(
        f"{base}questions/{item.pk}/",
        {
            "asked_of": "each_member",
            "required": "no",
            "domain": domain.pk,
            "score_kind": "map",
            "points_3": "1",
            "points_6": "2",
        },
    )
    assert saved.status_code == 302
    item.refresh_from_db()
    assert (item.asked_of, item.required) == ("each_member", False)
    assert item.scoring == {"kind": "map", "scores": {version.options[3]: 1, version.options[6]: 2}}
    published = bob.post(base + "publish/", follow=True)
    assert b"The template is in use" in published.content
    template.refresh_from_db()
    assert template.status == "in_use"
    page = bob.get(base)
    assert b"Version 1, in use since" in page.content and version.wording.encode() in page.content
    assert b"Change the questions (start version 2)" in page.content


@pytest.mark.django_db
def test_who_sees_and_who_changes_templates_through_the_pages(cast, norfolk_client):
    template = services.template_create_from_definition(user=cast["bob"], definition=DEFINITIONS[1])
    services.template_draft_start(user=cast["bob"], template=template)
    base = f"/assessments/templates/{template.pk}/"
    ids = ids_of(template)
    vera, carl = client_as(cast, "vera"), client_as(cast, "carl")
    assert (
        vera.get(base).status_code == 200
        and b"Domestic abuse needs assessment" in vera.get("/assessments/templates/").content
    )
    writes = [base + "sections/", base + "publish/", base + "draft/", f"{base}sections/{ids['section']}/remove/",
              f"{base}questions/{ids['item']}/remove/", base + "domains/"]  # fmt: skip
    before = TemplateItem.objects.count()
    for path in writes:
        assert vera.post(path, {"title": "x", "name": "x", "aggregate": "sum"}).status_code == 403, path
        assert carl.post(path, {"title": "x", "name": "x", "aggregate": "sum"}).status_code == 403, path
    assert TemplateItem.objects.count() == before and ids["draft"].sections.count() == 4
    sign_in(norfolk_client, "nina@norfolk.test")
    assert norfolk_client.get(base).status_code == 404
    assert b"Domestic abuse needs assessment" not in norfolk_client.get("/assessments/templates/").content
    assert norfolk_client.post(base + "sections/", {"title": "x"}).status_code == 404


@pytest.mark.django_db
def test_a_local_question_through_the_pages(cast):
    bob = client_as(cast, "bob")
    form = {"wording": "Does the family have a working cooker?", "answer_type": "yes_no", "nature": "objective",
            "domain": "housing", "tags": "home, kitchen"}  # fmt: skip
    bad = bob.post("/assessments/questions/new/", {**form, "domain": ""})
    assert bad.status_code == 200 and b'href="#id_domain"' in bad.content
    made = bob.post("/assessments/questions/new/", form)
    assert made.status_code == 302
    from tenant_apps.assessments.models import LocalQuestion

    question = LocalQuestion.objects.get()
    page = bob.get(f"/assessments/questions/{question.pk}/")
    assert (
        b"Does the family have a working cooker?" in page.content
        and b"Propose it to the national bank" not in page.content
    )
    changed = bob.post(f"/assessments/questions/{question.pk}/edit/", {**form, "wording": "Is there a working cooker?",
                                                                       "number": 1})  # fmt: skip
    assert changed.status_code == 302 and question.versions.count() == 2
    stale = bob.post(f"/assessments/questions/{question.pk}/edit/", {**form, "number": 1})
    assert stale.status_code == 200 and question.versions.count() == 2
    alice = client_as(cast, "alice")
    proposed = alice.post(f"/assessments/questions/{question.pk}/propose/")
    question.refresh_from_db()
    assert proposed["Location"] == f"/assessments/bank/submissions/{question.submission_id}/"


# --- The API ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_lists_templates_and_shows_a_versions_structure(cast, norfolk_client):
    template = services.template_create_from_definition(user=cast["bob"], definition=DEFINITIONS[2])
    carl = client_as(cast, "carl")
    listing = carl.get("/api/v1/assessments/templates/").json()
    assert [row["name"] for row in listing["results"]] == ["Family outcomes tool"]
    assert listing["results"][0]["case_types"] == ["ASB", "TF"] or set(listing["results"][0]["case_types"]) == {
        "ASB",
        "TF",
    }
    detail = carl.get(f"/api/v1/assessments/templates/{template.pk}/").json()
    version = detail["shown_version"]
    assert (version["number"], version["state"], len(version["domains"])) == (1, "published", 10)
    first = version["sections"][0]["items"][0]
    assert first["question"]["source"] == "bank" and len(first["question"]["anchors"]) == 10
    assert first["asked_of"] == "each_member" and first["scoring"] == {"kind": "value"}
    assert carl.get(f"/api/v1/assessments/templates/{template.pk}/?version=9").status_code == 404
    bad = carl.get(f"/api/v1/assessments/templates/{template.pk}/?version=first")
    assert bad.status_code == 400 and "version" in bad.json()["error"]["fields"]
    sign_in(norfolk_client, "nina@norfolk.test")
    assert norfolk_client.get(f"/api/v1/assessments/templates/{template.pk}/").status_code == 404
    assert norfolk_client.get("/api/v1/assessments/templates/").json()["count"] == 0


@pytest.mark.django_db
def test_the_api_searches_the_bank_and_names_a_bad_filter(cast):
    dan = client_as(cast, "dan")
    found = dan.get("/api/v1/assessments/bank/?domain=domestic_abuse&answer_type=yes_no").json()
    assert found["count"] > 0 and {r["domain"] for r in found["results"]} == {"domestic_abuse"}
    bad = dan.get("/api/v1/assessments/bank/?domain=astrology")
    assert bad.status_code == 400 and "domain" in bad.json()["error"]["fields"]
    question = dan.get("/api/v1/assessments/bank/HOU-01/").json()
    assert question["code"] == "HOU-01" and question["versions"][0]["version"] == 1
    assert dan.get("/api/v1/assessments/bank/NOPE-01/").status_code == 404


@pytest.mark.django_db
def test_a_templates_page_costs_the_same_queries_whatever_its_number_of_questions(cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    bob = client_as(cast, "bob")
    small = draft_with(cast["bob"], "HOU-01", name="Small")
    large = draft_with(cast["bob"], *[v.question.code for v in QuestionVersion.objects.filter(number=1)[:30]],
                       name="Large")  # fmt: skip
    for draft in (small, large):
        services.template_domain_add(user=cast["bob"], draft=draft, name="Housing", aggregate="sum")
    counts = []
    for draft in (small, large):
        bob.get(f"/assessments/templates/{draft.template_id}/")  # warm: the session's first reads
        with CaptureQueriesContext(connection) as queries:
            assert bob.get(f"/assessments/templates/{draft.template_id}/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
