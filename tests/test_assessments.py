"""Assessments: started from a family, a profile or a case, answered per member and for the
family, saved by two people without losing an answer, completed and locked.

Cast: tests/conftest.py's ``cast``. Bob (ASB Team) owns the Brennan family; Dan (another agency)
owns one of its members' profiles, which Bob cannot see; Carl (same agency, other team) sees the
family through its owning agency, as casework's rule says; Vera (Bob's team, viewer) reads and
never writes; Nina in Norfolk sees nothing.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django_tenants.utils import schema_context

from concord.errors import WrongState
from shared_apps.question_bank.models import QuestionVersion
from tenant_apps.assessments import selectors, services
from tenant_apps.assessments.models import Answer, Assessment, Template
from tenant_apps.assessments.services import AnswerInput
from tenant_apps.audit.models import AuditEvent
from tenant_apps.casework import services as casework
from tenant_apps.casework.models import CaseType, FamilyMember
from tenant_apps.tasks.models import partnership_today

DEFINITIONS = json.loads(
    (Path(__file__).resolve().parents[1] / "tenant_apps" / "assessments" / "demo_templates.json").read_text()
)


def started(cast, family, template) -> Assessment:
    return services.assessment_start(user=cast["bob"], template=template, family=family["family"],
                                     subject_profile_ids=[family["mary"].pk])  # fmt: skip


def key_of(assessment, *, member_name=None, section=1, index=0):
    page = selectors.assessment_page(user=assessment.assessor, assessment=assessment)
    targets = [t for t in page.section(section).targets
               if member_name is None or (t.member and t.member.profile.first_name == member_name)]  # fmt: skip
    return targets[index]


@pytest.mark.django_db
def test_starting_pulls_through_the_members_the_assessor_may_see_and_counts_the_others(cast, family, outcomes):
    assessment = started(cast, family, outcomes)
    page = selectors.assessment_page(user=cast["bob"], assessment=assessment)
    assert [m.profile.first_name for m in page.members] == ["Liam", "Mary"]
    assert page.hidden_members == 0  # Sean was never pulled through: Bob could not see him
    assert assessment.members.count() == 2
    assert len(page.section(1).targets) == 10 * 2  # ten scales, each of each member
    assert AuditEvent.objects.filter(action="assessment.started", object_id=assessment.pk).exists()


@pytest.mark.django_db
def test_answers_are_saved_and_bad_ones_name_the_question_and_person_and_save_nothing(cast, family, outcomes):
    assessment = started(cast, family, outcomes)
    liam = key_of(assessment, member_name="Liam")
    mary = key_of(assessment, member_name="Mary")
    with pytest.raises(ValidationError) as refused:
        services.assessment_save(user=cast["bob"], assessment=assessment, answers=[
            AnswerInput(key=liam.key, worker_score="4", family_score="6"),
            AnswerInput(key=mary.key, worker_score="11"),
        ])  # fmt: skip
    assert "(Mary Brennan): Choose a score from 1 to 10." in refused.value.message_dict[mary.key][0]
    assert not Answer.objects.exists()
    result = services.assessment_save(user=cast["bob"], assessment=assessment, answers=[
        AnswerInput(key=liam.key, worker_score="4", family_score="6"),
        AnswerInput(key=mary.key, worker_score="7", family_blank_reason="Mary was not at home"),
    ])  # fmt: skip
    assert result.saved == 2 and result.conflicts == []
    answers = {a.member.profile.first_name: a for a in Answer.objects.select_related("member__profile")}
    assert (answers["Liam"].worker_score, answers["Liam"].family_score) == (4, 6)
    assert (answers["Mary"].family_score, answers["Mary"].family_blank_reason) == (None, "Mary was not at home")


@pytest.mark.django_db
def test_two_practitioners_saving_the_same_assessment_never_lose_an_answer(cast, family, outcomes):
    assessment = started(cast, family, outcomes)
    services.assessment_save(
        user=cast["bob"],
        assessment=assessment,
        answers=[AnswerInput(key=key_of(assessment, member_name="Liam").key, worker_score="3")],
    )
    opened = key_of(assessment, member_name="Liam")  # both open the page: version 1, worker 3
    other = key_of(assessment, member_name="Mary")
    original = {"worker_score": 3}
    first = services.assessment_save(user=cast["bob"], assessment=assessment, answers=[
        AnswerInput(key=opened.key, worker_score="5", version=1, original=original),
    ])  # fmt: skip
    assert first.saved == 1
    second = services.assessment_save(user=cast["bob"], assessment=assessment, answers=[
        AnswerInput(key=opened.key, worker_score="8", version=1, original=original),  # changed meanwhile: conflict
        AnswerInput(key=other.key, worker_score="2", version=0, original=None),  # a new answer: saved
    ])  # fmt: skip
    assert second.saved == 1 and [(c.theirs, c.yours) for c in second.conflicts] == [
        ("Worker: 5, Family: none", "Worker: 8, Family: none")
    ]
    unchanged = services.assessment_save(user=cast["bob"], assessment=assessment, answers=[
        AnswerInput(key=opened.key, worker_score="3", version=1, original=original),  # as opened: left alone
    ])  # fmt: skip
    assert unchanged.saved == 0 and unchanged.conflicts == []
    liam = Answer.objects.get(member__profile=family["liam"], item=opened.item)
    assert (liam.worker_score, liam.version) == (5, 2)


@pytest.mark.django_db
def test_completing_names_every_missing_answer_then_locks_the_assessment(cast, family, outcomes):
    assessment = started(cast, family, outcomes)
    review = partnership_today() + dt.timedelta(days=60)
    with pytest.raises(ValidationError) as refused:
        services.assessment_complete(user=cast["bob"], assessment=assessment, review_date=partnership_today())
    errors = refused.value.message_dict
    assert errors["review_date"] == ["The review date must be in the future."]
    assert len(errors["answers"]) == 20 and "(Liam Brennan)" in errors["answers"][0]
    page = selectors.assessment_page(user=cast["bob"], assessment=assessment)
    services.assessment_save(user=cast["bob"], assessment=assessment, answers=[
        AnswerInput(key=t.key, worker_score="5", family_score="6") for t in page.section(1).targets
    ])  # fmt: skip
    done = services.assessment_complete(user=cast["bob"], assessment=assessment, review_date=review)
    assert (done.state, done.review_date, done.completed_by) == ("completed", review, cast["bob"])
    with pytest.raises(WrongState, match="completed"):
        services.assessment_save(
            user=cast["bob"],
            assessment=assessment,
            answers=[AnswerInput(key=page.section(1).targets[0].key, worker_score="1")],
        )
    assert not selectors.may_edit_assessment(cast["bob"], done)


@pytest.mark.django_db
def test_who_sees_and_changes_an_assessment(cast, family, outcomes):
    assessment = started(cast, family, outcomes)
    key = key_of(assessment, member_name="Liam").key
    with pytest.raises(Http404):  # another agency: the family is not his
        selectors.access_assessment(user=cast["dan"], assessment_id=assessment.pk)
    assert selectors.access_assessment(user=cast["carl"], assessment_id=assessment.pk)  # the family's agency
    assert selectors.access_assessment(user=cast["vera"], assessment_id=assessment.pk)  # Bob's team reads
    with pytest.raises(PermissionDenied):
        services.assessment_save(
            user=cast["vera"], assessment=assessment, answers=[AnswerInput(key=key, worker_score="1")]
        )
    with pytest.raises(PermissionDenied):
        services.assessment_start(user=cast["vera"], template=outcomes, family=family["family"])
    with pytest.raises(PermissionDenied):
        services.assessment_start(user=cast["dan"], template=outcomes, family=family["family"])
    with schema_context("norfolk"):
        assert not Assessment.objects.exists() and not Template.objects.exists()


@pytest.mark.django_db
def test_a_template_not_in_use_or_not_offered_on_the_case_type_is_refused(cast, family):
    da = services.template_create_from_definition(user=cast["bob"], definition=DEFINITIONS[1])
    case = casework.case_create(user=cast["bob"], case_type=CaseType.objects.get(code="ASB"), title="Noise",
                                owning_team=cast["asb"], subjects=[(family["mary"], "victim")])  # fmt: skip
    with pytest.raises(ValidationError, match="not offered on this type of case"):
        services.assessment_start(user=cast["bob"], template=da, case=case)
    services.template_set_status(user=cast["bob"], template=da, status="withdrawn")
    da.refresh_from_db()
    with pytest.raises(ValidationError, match="not in use"):
        services.assessment_start(user=cast["bob"], template=da, profile=family["mary"])
    with pytest.raises(ValidationError, match="named subjects"):
        services.template_set_status(user=cast["bob"], template=da, status="in_use")
        da.refresh_from_db()
        services.assessment_start(user=cast["bob"], template=da, family=family["family"])


# --- The pages ----------------------------------------------------------------------------------


def valid_fields(target) -> dict:
    """A valid answer for any target, as the section's form posts it."""
    question, key = target.question, target.key
    fields = {f"v-{key}": "0", f"o-{key}": ""}
    kind = question.answer_type
    if kind in ("yes_no", "yes_no_unknown"):
        fields[f"a-{key}"] = "yes"
    elif kind in ("single_choice", "multiple_choice"):
        fields[f"a-{key}"] = question.options[0]
    elif kind == "number":
        fields[f"a-{key}"] = str(question.minimum if question.minimum is not None else 1)
    elif kind == "date":
        fields.update({f"a-{key}-day": "3", f"a-{key}-month": "2", f"a-{key}-year": "2025"})
    elif kind == "text":
        fields[f"a-{key}"] = "Seen at home."
    else:
        fields.update({f"ws-{key}": "3", f"fs-{key}": "4"})
    return fields


@pytest.mark.django_db
def test_bob_starts_answers_saves_comes_back_and_completes_through_the_pages(cast, family):
    from tests.test_casework_pages import client_as

    whole = services.template_create_from_definition(user=cast["bob"], definition=DEFINITIONS[0])
    bob = client_as(cast, "bob")
    query = f"?family={family['family'].pk}"
    form = bob.get("/assessments/start/" + query)
    assert form.status_code == 200 and b"Whole-family assessment" in form.content and b"Sean" not in form.content
    started_ = bob.post("/assessments/start/" + query, {"template": whole.pk, "subjects": [family["mary"].pk]})
    assert started_.status_code == 302, started_.content[:3000]
    assessment = Assessment.objects.get()
    base = f"/assessments/{assessment.pk}/"
    assert started_["Location"] == base + "sections/1/"
    page = selectors.assessment_page(user=cast["bob"], assessment=assessment)
    for progress in page.sections:  # every section, every answer type, through the form
        fields = {"continue": "1"}
        for target in progress.targets:
            fields.update(valid_fields(target))
        saved = bob.post(f"{base}sections/{progress.number}/", fields)
        assert saved.status_code == 302, (progress.number, saved.content[:3000])
    assert Answer.objects.count() == sum(len(p.targets) for p in page.sections)
    again = bob.get(base + "sections/1/")
    assert again.status_code == 200 and b"Section 1 of 6" in again.content and b"checked" in again.content
    date_target = next(t for p in page.sections for t in p.targets if t.question.answer_type == "date")
    assert Answer.objects.get(item=date_target.item, member=date_target.member).value == "2025-02-03"
    done = bob.post(base + "complete/", {"review_date_day": "1", "review_date_month": "1", "review_date_year": "2099"})
    assert done.status_code == 200 and b"within two years" in done.content
    review = partnership_today() + dt.timedelta(days=30)
    done = bob.post(base + "complete/", {"review_date_day": review.day, "review_date_month": review.month,
                                         "review_date_year": review.year})  # fmt: skip
    assert done.status_code == 302
    assessment.refresh_from_db()
    assert assessment.is_completed and assessment.review_date == review
    locked = bob.post(base + "sections/1/", valid_fields(page.section(1).targets[0]), follow=True)
    assert b"completed: its answers cannot be changed" in locked.content
    listing = bob.get("/assessments/" + query)
    assert b"Whole-family assessment" in listing.content and b"Completed" in listing.content


@pytest.mark.django_db
def test_a_bad_answer_on_the_page_names_the_question_and_member_and_keeps_what_was_typed(cast, family, outcomes):
    from tests.test_casework_pages import client_as

    assessment = started(cast, family, outcomes)
    bob = client_as(cast, "bob")
    targets = selectors.assessment_page(user=cast["bob"], assessment=assessment).section(1).targets
    fields = {**valid_fields(targets[0]), **valid_fields(targets[1])}
    fields[f"ws-{targets[1].key}"] = "12"
    fields[f"wr-{targets[0].key}"] = "Typed text that must not be lost"
    response = bob.post(f"/assessments/{assessment.pk}/sections/1/", fields)
    assert response.status_code == 400 and b"nothing was saved" in response.content
    assert f"({targets[1].member.profile.display_name}): Choose a score from 1 to 10.".encode() in response.content
    assert b"Typed text that must not be lost" in response.content
    assert not Answer.objects.exists()


@pytest.mark.django_db
def test_who_reaches_the_assessment_pages(cast, family, outcomes, norfolk_client):
    from tests.conftest import sign_in
    from tests.test_casework_pages import client_as

    assessment = started(cast, family, outcomes)
    base = f"/assessments/{assessment.pk}/"
    key = selectors.assessment_page(user=cast["bob"], assessment=assessment).section(1).targets[0].key
    dan, vera = client_as(cast, "dan"), client_as(cast, "vera")
    for path in ("", "sections/1/", "complete/"):
        assert dan.get(base + path).status_code == 404, path
    assert dan.get(f"/assessments/?family={family['family'].pk}").status_code == 404
    assert dan.post(base + "sections/1/", {f"v-{key}": "0", f"ws-{key}": "1"}).status_code == 404
    assert vera.get(base).status_code == 200 and vera.get(base + "sections/1/").status_code == 200
    assert vera.post(base + "sections/1/", {f"v-{key}": "0", f"ws-{key}": "1"}).status_code == 403
    assert vera.post(base + "complete/", {}).status_code == 403
    assert vera.get(f"/assessments/start/?family={family['family'].pk}").status_code == 403
    sign_in(norfolk_client, "nina@norfolk.test")
    assert norfolk_client.get(base).status_code == 404
    with schema_context("suffolk"):
        assert not Answer.objects.exists()
        viewed = AuditEvent.objects.filter(action="assessment.viewed", object_id=assessment.pk)
        assert viewed.filter(actor=cast["vera"]).count() == 2


@pytest.mark.django_db
def test_what_an_assessment_shows_never_changes_when_the_bank_or_the_family_does(cast, family):
    from shared_apps.question_bank import services as bank_services
    from shared_apps.question_bank.models import QuestionVersion

    whole = services.template_create_from_definition(user=cast["bob"], definition=DEFINITIONS[0])
    assessment = services.assessment_start(user=cast["bob"], template=whole, family=family["family"],
                                           subject_profile_ids=[family["mary"].pk])  # fmt: skip
    page = selectors.assessment_page(user=cast["bob"], assessment=assessment)
    target = page.section(1).targets[0]
    pinned = target.question
    services.assessment_save(
        user=cast["bob"],
        assessment=assessment,
        answers=[AnswerInput(key=t.key, **_any(t)) for p in page.sections for t in p.targets],
    )
    services.assessment_complete(user=cast["bob"], assessment=assessment,
                                 review_date=partnership_today() + dt.timedelta(days=10))  # fmt: skip
    with schema_context("public"):
        bank_services.question_version_publish(question=pinned.question,
                                               content={**pinned.content(), "wording": "A new wording?"})  # fmt: skip
        bank_services.question_retire(question=page.section(1).targets[-1].question.question, reason="Gone.")
    assert QuestionVersion.objects.filter(question=pinned.question).count() == 2
    FamilyMember.objects.filter(family=family["family"], profile=family["liam"]).delete()  # Liam leaves the family
    again = selectors.assessment_page(user=cast["bob"], assessment=assessment)
    assert again.section(1).targets[0].question.wording == pinned.wording != "A new wording?"
    liam = next(m for m in again.members if m.profile == family["liam"])
    assert liam.pk in again.former_member_ids
    assert Answer.objects.filter(assessment=assessment, member=liam).exists()  # his answers are kept


def _any(target) -> dict:
    """A valid answer for the service (the scales by their scores)."""
    question = target.question
    kind = question.answer_type
    if question.is_scale:
        return {"worker_score": "2", "family_score": "3"}
    value = {"yes_no": "yes", "yes_no_unknown": "unknown", "date": "2025-01-01", "text": "Seen."}.get(kind)
    if kind in ("single_choice", "multiple_choice"):
        value = question.options[-1]
    if kind == "number":
        value = str(question.minimum if question.minimum is not None else 0)
    return {"value": value}


@pytest.mark.django_db
def test_a_completed_assessment_restricted_to_a_team_is_hidden_from_the_subjects_other_viewers(cast, family):
    from tests.test_casework_pages import client_as

    profile_only = services.template_create(user=cast["bob"], name="One question", business_area="asb")
    draft = profile_only.versions.get()
    section = services.template_section_add(user=cast["bob"], draft=draft, title="Now")
    services.template_item_add(user=cast["bob"], section=section,
                               bank_version=QuestionVersion.objects.get(question__code="HOU-01"))  # fmt: skip
    services.template_publish(user=cast["bob"], draft=draft)
    profile_only.refresh_from_db()
    assessment = services.assessment_start(user=cast["bob"], template=profile_only, family=family["family"])
    target = selectors.assessment_page(user=cast["bob"], assessment=assessment).section(1).targets[0]
    with pytest.raises(WrongState, match="once it is completed"):
        services.assessment_restrict(user=cast["bob"], assessment=assessment, teams=[cast["asb"]])
    services.assessment_save(user=cast["bob"], assessment=assessment,
                             answers=[AnswerInput(key=target.key, value=target.question.options[0])])  # fmt: skip
    services.assessment_complete(user=cast["bob"], assessment=assessment,
                                 review_date=partnership_today() + dt.timedelta(days=7))  # fmt: skip
    carl, vera = client_as(cast, "carl"), client_as(cast, "vera")
    base = f"/assessments/{assessment.pk}/"
    assert carl.get(base).status_code == 200  # the family's agency: Carl sees it until it is restricted
    bob = client_as(cast, "bob")
    refused = bob.post(base + "restrict/", {})
    assert refused.status_code == 200 and b"at least one team or person" in refused.content
    assert bob.post(base + "restrict/", {"teams": [cast["asb"].pk]}).status_code == 302
    assert carl.get(base).status_code == 404 and carl.get(base + "sections/1/").status_code == 404
    assert vera.get(base).status_code == 200  # in the ASB Team
    listing = carl.get(f"/assessments/?family={family['family'].pk}")
    assert b"One question" not in listing.content
    with schema_context("suffolk"):
        assessment.refresh_from_db()
        assert set(assessment.restricted_users.all()) == {cast["bob"]}
        with pytest.raises(ValidationError, match="only narrow it further"):
            services.assessment_restrict(user=cast["bob"], assessment=assessment, teams=[cast["cst"]])
        assert AuditEvent.objects.filter(action="assessment.restricted", object_id=assessment.pk).exists()
        # The same team again is no widening; Dan (another agency, never able to see the family) stays out.
        services.assessment_restrict(user=cast["bob"], assessment=assessment, teams=[cast["asb"]], users=[])
        with pytest.raises(Http404):
            selectors.access_assessment(user=cast["dan"], assessment_id=assessment.pk)


# --- The API ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_starts_reads_saves_and_completes_an_assessment_with_the_pages_rules(cast, family, outcomes):
    from tests.test_casework_pages import client_as

    bob = client_as(cast, "bob")
    started_ = bob.post("/api/v1/assessments/", {"template": outcomes.pk, "family": family["family"].pk},
                        content_type="application/json")  # fmt: skip
    assert started_.status_code == 201, started_.content[:2000]
    detail = started_.json()
    assessment_id = detail["assessment"]["id"]
    assert [m["name"] for m in detail["members"]] == ["Liam Brennan", "Mary Brennan"]
    targets = detail["sections"][0]["targets"]
    assert len(targets) == 20 and targets[0]["answer"] is None and len(targets[0]["question"]["anchors"]) == 10
    url = f"/api/v1/assessments/{assessment_id}/"
    bad = bob.post(url + "answers/", {"answers": [{"key": targets[0]["key"], "worker_score": 11, "version": 0}]},
                   content_type="application/json")  # fmt: skip
    assert bad.status_code == 400 and "answers" in bad.json()["error"]["fields"]
    wrong = bob.post(url + "answers/", {"answers": [{"key": "999-family", "value": "yes", "version": 0}]},
                     content_type="application/json")  # fmt: skip
    assert wrong.status_code == 400 and "999-family" in wrong.json()["error"]["fields"]["answers"][0]
    answers = [{"key": t["key"], "worker_score": 5, "family_score": 6, "version": 0} for t in targets]
    saved = bob.post(url + "answers/", {"answers": answers}, content_type="application/json").json()
    assert saved["saved"] == 20 and saved["conflicts"] == []
    stale = bob.post(
        url + "answers/", {"answers": [{**answers[0], "worker_score": 1}]}, content_type="application/json"
    )
    assert stale.json()["saved"] == 0 and stale.json()["conflicts"][0]["theirs"] == "Worker: 5, Family: 6"
    review = (partnership_today() + dt.timedelta(days=20)).isoformat()
    done = bob.post(url + "complete/", {"review_date": review}, content_type="application/json")
    assert done.status_code == 200 and done.json()["state"] == "completed"
    again = bob.post(url + "answers/", {"answers": [{**answers[0], "version": 1}]}, content_type="application/json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "wrong_state"
    assert bob.post(url + "complete/", {"review_date": review}, content_type="application/json").status_code == 409
    dan = client_as(cast, "dan")
    assert dan.get(url).status_code == 404 and dan.post(url + "answers/", {"answers": answers},
                                                        content_type="application/json").status_code == 404  # fmt: skip
    listing = bob.get(f"/api/v1/assessments/?family={family['family'].pk}").json()
    assert [row["id"] for row in listing["results"]] == [assessment_id]
    assert bob.get("/api/v1/assessments/").status_code == 400  # say whose assessments


@pytest.mark.django_db
def test_an_assessments_pages_cost_the_same_queries_whatever_its_questions_and_members(cast):
    """Opening a section and saving it: constant in the number of questions and of members."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.test_casework_pages import client_as

    bob = client_as(cast, "bob")
    codes = list(
        QuestionVersion.objects.filter(number=1, answer_type="yes_no").values_list("question__code", flat=True)
    )

    def measured(questions: int, members: int) -> tuple[int, int]:
        template = services.template_create(user=cast["bob"], name=f"T{questions}-{members}", business_area="asb")
        section = services.template_section_add(user=cast["bob"], draft=template.versions.get(), title="All")
        for code in codes[:questions]:
            services.template_item_add(
                user=cast["bob"],
                section=section,
                asked_of="each_member",
                bank_version=QuestionVersion.objects.get(question__code=code, number=1),
            )
        services.template_publish(user=cast["bob"], draft=template.versions.get())
        template.refresh_from_db()
        family = casework.family_create(user=cast["bob"], name=f"F{questions}-{members}", owning_team=cast["asb"])
        for number in range(members):
            person = casework.profile_create(user=cast["bob"], owning_team=cast["asb"], first_name=f"P{number}",
                                             last_name="Kerr")  # fmt: skip
            casework.family_add_member(user=cast["bob"], family=family, profile=person, relationship="child")
        assessment = services.assessment_start(user=cast["bob"], template=template, family=family)
        url = f"/assessments/{assessment.pk}/sections/1/"
        bob.get(url)
        with CaptureQueriesContext(connection) as opened:
            assert bob.get(url).status_code == 200
        targets = selectors.assessment_page(user=cast["bob"], assessment=assessment).section(1).targets
        fields = {"save": "1"}
        for target in targets:
            fields.update({f"v-{target.key}": "0", f"o-{target.key}": "", f"a-{target.key}": "yes"})
        with CaptureQueriesContext(connection) as saved:
            assert bob.post(url, fields).status_code == 302
        assert Answer.objects.filter(assessment=assessment).count() == questions * members
        return len(opened), len(saved)

    small, large = measured(3, 2), measured(12, 6)
    assert small == large, (small, large)  # opening the section, and saving it


@pytest.mark.django_db
def test_asking_another_team_from_a_question_sets_a_task_whose_reply_shows_beside_it(cast, family, outcomes):
    from tenant_apps.tasks import services as task_services
    from tenant_apps.tasks.models import Task
    from tests.test_casework_pages import client_as

    assessment = started(cast, family, outcomes)
    target = key_of(assessment, member_name="Liam")
    bob = client_as(cast, "bob")
    ask = f"/assessments/{assessment.pk}/ask/?key={target.key}"
    form = bob.get(ask)
    assert form.status_code == 200 and b"Information for an assessment" in form.content
    assert bob.get(f"/assessments/{assessment.pk}/ask/?key=999-family").status_code == 404
    due = (partnership_today() + dt.timedelta(days=5)).isoformat()
    set_ = bob.post(ask, {"title": "Housing for Liam?", "assigned_team": cast["cst"].pk, "due_date": due})
    assert set_.status_code == 302, set_.content.decode()[set_.content.decode().find("govuk-error-summary") :][:600]
    assert set_["Location"].endswith(f"/sections/1/#q-{target.key}")
    task = Task.objects.get(title="Housing for Liam?")
    assert task.link == f"/assessments/{assessment.pk}/sections/1/#q-{target.key}" and task.profile == family["liam"]
    task_services.task_reply(user=cast["carl"], task=task, body="Tenancy is secure until June.")
    page = bob.get(f"/assessments/{assessment.pk}/sections/1/").content.decode()
    assert "Tenancy is secure until June." in page and "Asked Community Safety Team" in page
    carl = client_as(cast, "carl")
    detail = carl.get(f"/tasks/{task.pk}/").content.decode()
    assert f'href="/assessments/{assessment.pk}/sections/1/#q-{target.key}"' in detail
    vera = client_as(cast, "vera")
    vera_page = vera.get(f"/assessments/{assessment.pk}/sections/1/").content.decode()
    assert "Tenancy is secure" not in vera_page and "1 other task set from this question" in vera_page
    assert vera.post(ask, {"title": "x", "assigned_team": cast["cst"].pk, "due_date": due}).status_code == 403


@pytest.mark.django_db
def test_autosave_saves_answers_and_hands_back_their_versions_so_the_next_save_has_no_conflict(cast, family, outcomes):
    from tests.test_casework_pages import client_as

    assessment = started(cast, family, outcomes)
    bob = client_as(cast, "bob")
    target = key_of(assessment, member_name="Liam")
    page = bob.get(f"/assessments/{assessment.pk}/sections/1/").content.decode()
    assert f'hx-post="/assessments/{assessment.pk}/sections/1/autosave/"' in page and 'id="autosave-status"' in page
    fields = {f"v-{target.key}": "0", f"o-{target.key}": "", f"ws-{target.key}": "4"}
    saved = bob.post(f"/assessments/{assessment.pk}/sections/1/autosave/", fields)
    body = saved.content.decode()
    assert saved.status_code == 200 and "Saved at " in body
    assert f'id="v-{target.key}" name="v-{target.key}" value="1" hx-swap-oob="true"' in body
    original = Answer.objects.get(item=target.item, member=target.member)
    assert original.worker_score == 4
    # The page now carries version 1 and what was saved: typing on, the next save is no conflict.
    new_original = html.unescape(
        re.search(rf'id="o-{target.key}" name="o-{target.key}" value="([^"]*)"', body).group(1)
    )
    again = bob.post(f"/assessments/{assessment.pk}/sections/1/autosave/",
                     {f"v-{target.key}": "1", f"o-{target.key}": new_original, f"ws-{target.key}": "6"})  # fmt: skip
    assert "Saved at" in again.content.decode() and "someone else" not in again.content.decode()
    original.refresh_from_db()
    assert (original.worker_score, original.version) == (6, 2)
    bad = bob.post(f"/assessments/{assessment.pk}/sections/1/autosave/",
                   {f"v-{target.key}": "2", f"o-{target.key}": "", f"ws-{target.key}": "99"})  # fmt: skip
    assert (
        bad.status_code == 200
        and "Not saved yet" in bad.content.decode()
        and "Your answers are still here" in bad.content.decode()
    )
    vera = client_as(cast, "vera")
    refused = vera.post(f"/assessments/{assessment.pk}/sections/1/autosave/", fields)
    assert "Not saved: this assessment cannot be changed." in refused.content.decode()


@pytest.mark.django_db
def test_the_answer_fields_escape_what_template_authors_wrote(cast, family):
    from tests.test_casework_pages import client_as

    hostile = '<script>alert("x")</script> & "quoted"'
    local = services.local_question_create(user=cast["bob"], content={
        "wording": f"Wording {hostile}?", "guidance": f"Guidance {hostile}", "answer_type": "single_choice",
        "nature": "objective", "domain": "housing", "options": [f"One {hostile}", "Two"]})  # fmt: skip
    template = services.template_create(user=cast["bob"], name="Hostile", business_area="asb")
    section = services.template_section_add(user=cast["bob"], draft=template.versions.get(), title="S")
    services.template_item_add(user=cast["bob"], section=section, local_version=local.versions.get())
    services.template_publish(user=cast["bob"], draft=template.versions.get())
    template.refresh_from_db()
    assessment = services.assessment_start(user=cast["bob"], template=template, family=family["family"])
    page = client_as(cast, "bob").get(f"/assessments/{assessment.pk}/sections/1/").content.decode()
    assert "<script>alert" not in page and page.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") >= 3
