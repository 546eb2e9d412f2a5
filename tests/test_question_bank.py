"""The national question bank: its seed, immutable versions, partnerships' submissions under
row-level security, and the operators' moderation.

Cast: Alice (Suffolk's admin) and Bob (Suffolk's practitioner), Nina (Norfolk's admin) from
tests/conftest.py; Olu, a platform operator (tests/test_operators.py's fixture). The bank names
a partnership, never a person: no submission, page of the operators' or public row carries
Alice's name or e-mail.
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django_tenants.utils import schema_context

from concord import db_roles
from concord.errors import ChangedSinceOpened, WrongState
from shared_apps.question_bank import selectors as bank
from shared_apps.question_bank import services
from shared_apps.question_bank.content import clean_content
from shared_apps.question_bank.models import AnswerType, Domain, Question, QuestionVersion, Submission
from tenant_apps.accounts.models import User
from tenant_apps.assessments.forms import QuestionContentForm
from tenant_apps.audit.models import AuditEvent
from tenant_apps.outbox.models import OutboundEmail
from tests.conftest import sign_in

SEED = Path(__file__).resolve().parents[1] / "shared_apps" / "question_bank" / "national_questions.json"
SCALE = {"wording": "How settled is the family at home?", "answer_type": "scale_5", "nature": "subjective",
         "guidance": "Ask the parent or carer.",
         "domain": "housing", "anchors": "Very unsettled\nUnsettled\nGetting there\nMostly settled\nSettled",
         "tags": "home, settled"}  # fmt: skip
FORM = {**SCALE, "options": "", "unit": "", "minimum": "", "maximum": ""}


def submission_in(schema: str, **content) -> Submission:
    with schema_context(schema):
        return services.submission_create_for_partnership(schema_name=schema, content={**SCALE, **content})


def submitted_in(schema: str, **content) -> Submission:
    draft = submission_in(schema, **content)
    with schema_context(schema):
        return services.submission_submit_for_partnership(schema_name=schema, submission=draft, version=draft.version)


def for_operator(submission: Submission) -> Submission:
    with schema_context("public"):
        return bank.access_submission(submission_id=submission.pk)


# --- The seed and the versions ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_national_seed_covers_the_domains_and_answer_types_and_every_question_is_valid():
    seed = json.loads(SEED.read_text(encoding="utf-8"))
    assert len(seed) >= 80 and len({item["code"] for item in seed}) == len(seed)
    assert len({item["domain"] for item in seed}) >= 10
    assert set(Counter(item["answer_type"] for item in seed)) == set(AnswerType.values)
    for item in seed:
        clean_content(item)  # raises if any is invalid
    versions = bank.current_versions()
    assert versions.count() >= len(seed)
    for version in versions.filter(answer_type__in=["scale_5", "scale_10"]):
        assert len(version.anchors) == version.scale_points  # a described anchor for every point
    assert set(versions.values_list("domain", flat=True)) == set(Domain.values)
    outcomes = versions.filter(answer_type="scale_10", tags__contains=["outcomes"])
    assert outcomes.count() == 10


@pytest.mark.django_db
def test_a_published_version_never_changes_even_for_the_owner():
    version = QuestionVersion.objects.get(question__code="HOU-01", number=1)
    with db_roles.owner_mode():
        for statement in ("UPDATE question_bank_questionversion SET wording = 'changed' WHERE id = %s",
                          "DELETE FROM question_bank_questionversion WHERE id = %s"):  # fmt: skip
            with pytest.raises(DatabaseError, match="never changes"), transaction.atomic(), connection.cursor() as c:
                c.execute(statement, [version.pk])
    version.refresh_from_db()
    assert version.wording != "changed"


@pytest.mark.django_db
def test_bank_search_filters_by_text_domain_type_nature_and_tag():
    assert {v.domain for v in bank.bank_search(domain="finance")} == {"finance"}
    assert {v.answer_type for v in bank.bank_search(answer_type="date")} == {"date"}
    assert {v.nature for v in bank.bank_search(nature="objective")} == {"objective"}
    assert all("outcomes" in v.tags for v in bank.bank_search(tag="OUTCOMES"))
    school = bank.bank_search(text="school")
    assert school.exists() and all("school" in (v.wording + v.guidance + " ".join(v.tags)).lower() for v in school)
    assert bank.bank_search(text="HOU-01").get().question.code == "HOU-01"
    assert not bank.bank_search(text="zzzz-no-such-word").exists()


@pytest.mark.parametrize("change, field, message", [
    ({"wording": "  "}, "wording", "Enter the question's wording."),
    ({"anchors": "One\nTwo\nThree"}, "anchors", "5 lines"),
    ({"anchors": "A\nB\nC\nD\nd"}, "anchors", "its own description"),
    ({"answer_type": "single_choice", "options": "Only one"}, "options", "at least two"),
    ({"answer_type": "number", "minimum": "10", "maximum": "5"}, "maximum", "more than the lowest"),
    ({"answer_type": "number", "minimum": "ten"}, "minimum", "Enter a number"),
    ({"answer_type": "shoe_size"}, "answer_type", "Choose how"),
    ({"domain": "astrology"}, "domain", "domain"),
    ({"tags": ["no spaces allowed"]}, "tags", "single words"),
])  # fmt: skip
def test_bad_content_is_refused_naming_the_field(change, field, message):
    with pytest.raises(ValidationError) as refused:
        clean_content({**SCALE, **change})
    assert field in refused.value.message_dict and message in " ".join(refused.value.message_dict[field])


def test_content_is_normalised_to_its_answer_type():
    number = clean_content({**SCALE, "answer_type": "number", "unit": " £ ", "minimum": "0", "maximum": "1000.5",
                            "tags": ["Debt", "debt"]})  # fmt: skip
    assert (number["anchors"], number["options"], number["unit"]) == ([], [], "£")
    assert (number["minimum"], number["maximum"], number["tags"]) == (Decimal("0"), Decimal("1000.5"), ["debt"])


# --- Row-level security on submissions -----------------------------------------------------------


@pytest.mark.django_db
def test_a_partnership_reads_and_writes_only_its_own_submissions_below_the_orm():
    suffolks = submission_in("suffolk")
    norfolks = submission_in("norfolk", wording="How settled does the family feel?")
    with schema_context("norfolk"), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM public.question_bank_submission")
        assert {row[0] for row in cursor.fetchall()} == {norfolks.pk}
        cursor.execute("UPDATE public.question_bank_submission SET wording = 'hijacked' WHERE id = %s", [suffolks.pk])
        assert cursor.rowcount == 0
        # Not as another partnership, and not published by its own hand.
        for statement, values in [
            ("INSERT INTO public.question_bank_submission (partnership_schema, wording, guidance, answer_type, nature, "
             "domain, tags, options, unit, anchors, state, created_at, updated_at, decision_reason, changes, version) "
             "VALUES ('suffolk', 'x', '', 'text', 'objective', 'housing', '{}', '{}', '', '{}', 'draft', now(), now(), "
             "'', '{}', 1)", []),
            ("UPDATE public.question_bank_submission SET state = 'published' WHERE id = %s", [norfolks.pk]),
        ]:  # fmt: skip
            with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
                cursor.execute(statement, values)
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            cursor.execute("DELETE FROM public.question_bank_submission WHERE id = %s", [norfolks.pk])
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            cursor.execute("UPDATE public.question_bank_questionversion SET wording = 'x'")
    with schema_context("public"):
        assert Submission.objects.get(pk=suffolks.pk).wording == SCALE["wording"]


@pytest.mark.django_db
def test_a_partnership_cannot_reach_another_partnerships_submission_through_the_services():
    suffolks = submission_in("suffolk")
    with schema_context("norfolk"):
        with pytest.raises(Submission.DoesNotExist):
            services.submission_submit_for_partnership(schema_name="norfolk", submission=suffolks, version=1)
        with pytest.raises(Submission.DoesNotExist):  # naming Suffolk does not help: RLS hides the row
            services.submission_submit_for_partnership(schema_name="suffolk", submission=suffolks, version=1)
    with schema_context("public"):
        assert Submission.objects.get(pk=suffolks.pk).state == "draft"


# --- A partnership's pages ------------------------------------------------------------------------


@pytest.mark.django_db
def test_alice_drafts_changes_and_submits_a_question_and_the_trail_names_her_but_public_does_not(alice_client):
    created = alice_client.post("/assessments/bank/submissions/new/", FORM)
    assert created.status_code == 302, created.content[:2000]
    with schema_context("public"):
        submission = Submission.objects.get()
    assert (submission.partnership_schema, submission.state) == ("suffolk", "draft")
    assert created["Location"] == f"/assessments/bank/submissions/{submission.pk}/"
    edited = alice_client.post(f"/assessments/bank/submissions/{submission.pk}/edit/",
                               {**FORM, "wording": "How settled is the home?", "version": 1})  # fmt: skip
    assert edited.status_code == 302
    stale = alice_client.post(f"/assessments/bank/submissions/{submission.pk}/edit/",
                              {**FORM, "wording": "Lost?", "version": 1})  # fmt: skip
    assert stale.status_code == 200 and ChangedSinceOpened.message.encode() in stale.content
    sent = alice_client.post(f"/assessments/bank/submissions/{submission.pk}/submit/", {"version": 2}, follow=True)
    assert b"sent to the platform" in sent.content
    with schema_context("public"):
        submission.refresh_from_db()
        public_row = json.dumps(list(Submission.objects.filter(pk=submission.pk).values()), default=str)
    assert (submission.state, submission.wording) == ("submitted", "How settled is the home?")
    assert "alice" not in public_row.lower() and "Adams" not in public_row
    with schema_context("suffolk"):
        actions = list(
            AuditEvent.objects.filter(object_type="bank_submission").order_by("pk").values_list("action", "actor_id")
        )
        alice = User.objects.get(email="alice@suffolk.test")
    assert [a for a, _ in actions] == ["question_bank.submission_created", "question_bank.submission_changed",
                                       "question_bank.submission_submitted"]  # fmt: skip
    assert {actor for _, actor in actions} == {alice.pk}
    again = alice_client.post(f"/assessments/bank/submissions/{submission.pk}/edit/", {**FORM, "version": 3})
    assert b"cannot be changed" in again.content  # submitted: no longer a draft


@pytest.mark.django_db
def test_bad_input_names_the_field_and_saves_nothing(alice_client):
    response = alice_client.post("/assessments/bank/submissions/new/", {**FORM, "anchors": "Just one"})
    assert response.status_code == 200
    assert b"Describe every point of the scale" in response.content and b'href="#id_anchors"' in response.content
    with schema_context("public"):
        assert not Submission.objects.exists()


@pytest.mark.django_db
def test_practitioners_browse_the_bank_but_do_not_write_to_it(suffolk_client):
    sign_in(suffolk_client, "bob@suffolk.test")
    listing = suffolk_client.get("/assessments/bank/?domain=housing")
    assert listing.status_code == 200 and b"HOU-01" in listing.content and b"Propose a question" not in listing.content
    assert suffolk_client.get("/assessments/bank/questions/HOU-01/").status_code == 200
    assert suffolk_client.get("/assessments/bank/submissions/").status_code == 403
    assert suffolk_client.post("/assessments/bank/submissions/new/", FORM).status_code == 403
    with schema_context("public"):
        assert not Submission.objects.exists()


@pytest.mark.django_db
def test_norfolk_sees_none_of_suffolks_submissions(norfolk_client):
    suffolks = submitted_in("suffolk", wording="A SUFFOLK-ONLY question?")
    sign_in(norfolk_client, "nina@norfolk.test")
    assert b"SUFFOLK-ONLY" not in norfolk_client.get("/assessments/bank/submissions/").content
    for path in ("", "edit/"):
        assert norfolk_client.get(f"/assessments/bank/submissions/{suffolks.pk}/{path}").status_code == 404
    for path in ("submit/", "withdraw/"):
        assert (
            norfolk_client.post(f"/assessments/bank/submissions/{suffolks.pk}/{path}", {"version": 2}).status_code
            == 404
        )
    assert b"0 questions." in norfolk_client.get("/assessments/bank/?q=SUFFOLK-ONLY").content
    with schema_context("public"):
        assert Submission.objects.get(pk=suffolks.pk).state == "submitted"


# --- The operators' moderation --------------------------------------------------------------------


@pytest.mark.django_db
def test_an_operator_publishes_with_edits_the_partnership_sees_what_changed_and_its_admins_are_told(
    operator_client, alice_client
):
    submission = submitted_in("suffolk")
    queue = operator_client.get("/operators/bank/")
    assert b"Suffolk Community Safety Partnership" in queue.content and SCALE["wording"].encode() in queue.content
    assert b"alice" not in queue.content.lower() and b"Adams" not in queue.content
    published = operator_client.post(f"/operators/bank/submissions/{submission.pk}/",
                                     {**FORM, "wording": "How settled is the family in its home?", "action": "publish",
                                      "version": submission.version, "note": "Reworded slightly."})  # fmt: skip
    assert published.status_code == 302, published.content[:3000]
    with schema_context("public"):
        submission.refresh_from_db()
        version = submission.published_version
        assert (submission.state, version.number, version.question.code) == ("published", 1, "HOU-10")
        assert version.wording == "How settled is the family in its home?"
        assert version.question.origin_name == "Suffolk Community Safety Partnership"
        assert submission.changes == {
            "wording": {"submitted": SCALE["wording"], "published": "How settled is the family in its home?"}
        }
        assert AuditEvent.objects.filter(action="question_bank.submission_published", object_id=submission.pk).exists()
    with schema_context("suffolk"):
        mail = list(OutboundEmail.objects.filter(subject__contains="national bank"))
        assert [m.to for m in mail] == [["alice@suffolk.test"]]  # the admins only, not Bob
        assert f"/assessments/bank/submissions/{submission.pk}/" in mail[0].body and "settled" not in mail[0].body
        assert AuditEvent.objects.filter(action="question_bank.submission_published", actor__isnull=True).exists()
    with schema_context("norfolk"):
        assert not OutboundEmail.objects.filter(subject__contains="national bank").exists()
    page = alice_client.get(f"/assessments/bank/submissions/{submission.pk}/")
    assert b"What the operators changed" in page.content and b"How settled is the family in its home?" in page.content
    assert b"HOU-10 version 1" in page.content and b"Reworded slightly." in page.content
    bank_page = alice_client.get("/assessments/bank/questions/HOU-10/")
    assert b"from Suffolk Community Safety Partnership" in bank_page.content


@pytest.mark.django_db
def test_an_operator_rejects_with_a_reason_and_cannot_decide_twice(operator_client, alice_client):
    submission = submitted_in("suffolk")
    url = f"/operators/bank/submissions/{submission.pk}/"
    missing = operator_client.post(url, {"action": "reject", "reason": " ", "version": submission.version})
    assert missing.status_code == 400 and b"Say why the question is rejected" in missing.content
    done = operator_client.post(url, {"action": "reject", "reason": "Already in the bank as HOU-02.",
                                      "version": submission.version})  # fmt: skip
    assert done.status_code == 302
    again = operator_client.post(url, {**FORM, "action": "publish", "version": submission.version + 1}, follow=True)
    assert b"already rejected: nothing was changed" in again.content
    assert b'value="publish"' not in again.content  # a decided submission offers no decision
    with schema_context("public"):
        submission.refresh_from_db()
        assert (submission.state, submission.published_version) == ("rejected", None)
        assert not Question.objects.filter(code="HOU-10").exists()
    with schema_context("suffolk"):
        assert OutboundEmail.objects.filter(subject__contains="has been rejected", to=["alice@suffolk.test"]).exists()
    page = alice_client.get(f"/assessments/bank/submissions/{submission.pk}/")
    assert b"Already in the bank as HOU-02." in page.content


@pytest.mark.django_db
def test_operators_see_no_drafts_and_the_services_refuse_a_second_decision(operator_client):
    draft = submission_in("suffolk")
    assert operator_client.get(f"/operators/bank/submissions/{draft.pk}/").status_code == 404
    assert SCALE["wording"].encode() not in operator_client.get("/operators/bank/").content
    submitted = submitted_in("norfolk")
    with schema_context("public"):
        row = for_operator(submitted)
        services.submission_publish(submission=row, version=row.version, partnership_name=row.partnership_name)
        with pytest.raises(WrongState):
            services.submission_reject(submission=row, version=row.version + 1, reason="late")
        with pytest.raises(ChangedSinceOpened):
            services.submission_reject(submission=row, version=row.version, reason="stale")


@pytest.mark.django_db
def test_a_proposed_change_becomes_the_next_version_and_the_first_stays_as_it_was(operator_client):
    first = QuestionVersion.objects.get(question__code="HOU-01", number=1)
    with schema_context("suffolk"):
        draft = services.submission_create_for_partnership(
            schema_name="suffolk",
            content={**first.content(), "guidance": "Ask who holds the tenancy."},
            revises=first.question,
        )
        services.submission_submit_for_partnership(schema_name="suffolk", submission=draft, version=1)
    row = for_operator(draft)
    response = operator_client.post(f"/operators/bank/submissions/{draft.pk}/",
                                     {**QuestionContentForm.initial_from(row.content()), "action": "publish",
                                      "version": row.version})  # fmt: skip
    assert response.status_code == 302, response.content[:2000]
    current = bank.bank_search(text="HOU-01").get()
    assert (current.number, current.guidance) == (2, "Ask who holds the tenancy.")
    first.refresh_from_db()
    assert first.number == 1 and first.guidance != "Ask who holds the tenancy."
    with schema_context("public"):
        draft.refresh_from_db()
        assert draft.changes == {}


@pytest.mark.django_db
def test_a_retired_question_leaves_the_search_but_stays_readable_and_takes_no_new_version(operator_client):
    missing = operator_client.post("/operators/bank/questions/HOU-02/retire/", {"reason": ""})
    assert missing.status_code == 200 and b"Say why the question is retired." in missing.content
    done = operator_client.post("/operators/bank/questions/HOU-02/retire/", {"reason": "Replaced by HOU-03."})
    assert done.status_code == 302
    assert not bank.bank_search(text="HOU-02").exists()
    question = bank.access_question(code="HOU-02")
    assert question.is_retired and question.versions.count() == 1
    with schema_context("suffolk"), pytest.raises(WrongState):
        services.submission_create_for_partnership(schema_name="suffolk", content=SCALE, revises=question)
    with schema_context("public"):
        assert AuditEvent.objects.filter(action="question_bank.question_retired", object_id="HOU-02").exists()


@pytest.mark.django_db
def test_the_operator_area_is_not_on_a_partnership_host_and_partnership_pages_need_signing_in(alice_client):
    assert alice_client.get("/operators/bank/").status_code == 404
    assert Client(HTTP_HOST="suffolk.localhost").get("/assessments/bank/").status_code == 302


@pytest.mark.django_db
def test_a_change_starts_from_the_current_version_and_a_draft_can_be_withdrawn(alice_client):
    form = alice_client.get("/assessments/bank/submissions/new/?revises=HOU-01")
    current = bank.bank_search(text="HOU-01").get()
    assert form.status_code == 200 and b"A new version of HOU-01" in form.content
    assert current.wording.encode() in form.content and current.options[0].encode() in form.content
    assert alice_client.get("/assessments/bank/submissions/new/?revises=NOPE-99").status_code == 404
    draft = submission_in("suffolk")
    withdrawn = alice_client.post(f"/assessments/bank/submissions/{draft.pk}/withdraw/", {"version": 1}, follow=True)
    assert b"has been withdrawn" in withdrawn.content
    again = alice_client.post(f"/assessments/bank/submissions/{draft.pk}/submit/", {"version": 2}, follow=True)
    assert b"withdrawn: it cannot be submitted" in again.content
    with schema_context("public"):
        assert Submission.objects.get(pk=draft.pk).state == "withdrawn"


@pytest.mark.django_db
def test_the_sub_navigation_offers_the_submissions_to_admins_only(alice_client):
    assert b"Our questions for the bank" in alice_client.get("/assessments/bank/").content
    bob = Client(HTTP_HOST="suffolk.localhost")
    sign_in(bob, "bob@suffolk.test")
    page = bob.get("/assessments/bank/").content
    assert b"Question bank" in page and b"Our questions for the bank" not in page
