"""The audit trail never shows a reader what the record itself would hide (issue 8, point 1).

The cast (tests/conftest.py): Bob writes in the council's ASB Team; Alice is Suffolk's
partnership admin in no team (she sees every record here because the partnership chose
``admins_see_everything``, unless a test says otherwise); Nina is Norfolk's admin.

A sensitive entry is readable only by its named teams: Alice sees "Restricted entry" on the
case page, and the audit log page and its CSV export must then show her neither the entry's
summary nor its body, old or new, in an event's summary or changes. Who did it, when, to
which entry and which fields changed stay, so she can still supervise.
"""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from tenant_apps.audit.models import AuditEvent
from tenant_apps.casework import services
from tenant_apps.casework.models import CaseworkSettings, TimelineEntry
from tenant_apps.directory.models import TeamMembership
from tests.conftest import sign_in
from tests.test_casework_pages import _fresh, client_as, make_case, make_entry, make_profile

LIST = "/admin/audit/"
EXPORT = "/admin/audit/export.csv"
RESTRICTED = "[restricted: sensitive entry]"


def csv_text(response) -> str:
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8")


def csv_rows_about(text: str, object_type: str, object_id) -> list[dict]:
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    return [row for row in rows if row["Object type"] == object_type and row["Object id"] == str(object_id)]


def admins_see_everything(value: bool = True) -> None:
    with schema_context("suffolk"):
        CaseworkSettings.objects.update_or_create(pk=1, defaults={"admins_see_everything": value})


@pytest.fixture
def words() -> dict[str, str]:
    """Text no other test writes: what the entry said, before and after the edit."""
    mark = uuid.uuid4().hex[:10]
    return {
        "summary": f"Disclosed abuse {mark}",
        "body": f"She said her partner {mark} hits her",
        "new_summary": f"Corrected disclosure {mark}",
        "new_body": f"She said her former partner {mark} hit her",
        "reason": f"Wrong person named {mark}",
        "mark": mark,
    }


@pytest.fixture
def sensitive(cast, words):
    """Bob's sensitive note on his case, restricted to his ASB Team, then corrected by him."""
    admins_see_everything()
    profile = make_profile(cast)
    case = make_case(cast, profile)
    entry = make_entry(cast, case, kind="note", summary=words["summary"], body=words["body"], is_sensitive=True,
                       restricted_to_teams=[cast["asb"]])  # fmt: skip
    with schema_context("suffolk"):
        services.entry_update(user=_fresh(cast["bob"]), entry=entry, version=1, summary=words["new_summary"],
                              body=words["new_body"])  # fmt: skip
    connection.set_schema_to_public()
    return {"profile": profile, "case": case, "entry": entry}


def assert_no_content(text: str, words: dict[str, str]) -> None:
    for key in ("summary", "body", "new_summary", "new_body", "reason"):
        assert words[key] not in text, key
    assert words["mark"] not in text


def test_an_admin_outside_the_named_team_reads_no_word_of_a_sensitive_entry_on_the_page_or_in_the_csv(
    cast, sensitive, words
):
    alice = client_as(cast, "alice")
    entry = sensitive["entry"]
    # The record hides it from her...
    case_page = alice.get(f"/cases/{sensitive['case'].pk}/").content.decode()
    assert "Restricted entry" in case_page
    assert_no_content(case_page, words)
    # ...and so does the trail: the page, filtered or not, and the CSV export.
    for query in ({}, {"action": "timeline.entry_updated"}, {"user": cast["bob"].pk}):
        page = alice.get(LIST, query)
        assert page.status_code == 200
        html = page.content.decode()
        assert_no_content(html, words)
        assert f"Timeline entry {entry.pk}<" in html and RESTRICTED in html
        text = csv_text(alice.get(EXPORT, query))
        assert_no_content(text, words)
    # Who, when, which entry and which fields stay, so she can supervise.
    rows = csv_rows_about(text, "timeline_entry", entry.pk)
    assert {row["Action"] for row in rows} == {"timeline.entry_created", "timeline.entry_updated"}
    assert {row["User"] for row in rows} == {"bob@suffolk.test"}
    edited = next(row for row in rows if row["Action"] == "timeline.entry_updated")
    assert edited["Summary"] == RESTRICTED
    assert set(eval_json(edited["Changes"])) == {"summary", "body"}
    assert all(values == [RESTRICTED, RESTRICTED] for values in eval_json(edited["Changes"]).values())
    # The stored events are untouched: the truth is kept for those entitled to it.
    with schema_context("suffolk"):
        stored = AuditEvent.objects.get(action="timeline.entry_updated", object_id=str(entry.pk))
        assert stored.changes["body"] == [words["body"], words["new_body"]]


def eval_json(text: str) -> dict:
    import json

    return json.loads(text)


def test_a_deletion_reason_is_hidden_too(cast, sensitive, words):
    with schema_context("suffolk"):
        entry = TimelineEntry.objects.get(pk=sensitive["entry"].pk)
        services.entry_delete(user=_fresh(cast["bob"]), entry=entry, version=entry.version, reason=words["reason"])
    connection.set_schema_to_public()
    alice = client_as(cast, "alice")
    assert_no_content(alice.get(LIST).content.decode(), words)
    text = csv_text(alice.get(EXPORT))
    assert_no_content(text, words)
    deleted = [
        row for row in csv_rows_about(text, "timeline_entry", entry.pk) if row["Action"] == "timeline.entry_deleted"
    ]
    assert [row["Summary"] for row in deleted] == [RESTRICTED]


def test_an_admin_in_the_named_team_sees_the_values(cast, sensitive, words):
    with schema_context("suffolk"):
        TeamMembership.objects.create(user=cast["alice"], team=cast["asb"])
    alice = client_as(cast, "alice")
    html = alice.get(LIST).content.decode()
    assert words["body"] in html and words["new_body"] in html and RESTRICTED not in html
    text = csv_text(alice.get(EXPORT))
    edited = next(
        row for row in csv_rows_about(text, "timeline_entry", sensitive["entry"].pk)
        if row["Action"] == "timeline.entry_updated"
    )  # fmt: skip
    assert eval_json(edited["Changes"])["summary"] == [words["summary"], words["new_summary"]]


def test_a_non_sensitive_entry_still_shows_its_changes(cast, words):
    admins_see_everything()
    case = make_case(cast, make_profile(cast))
    entry = make_entry(cast, case, kind="note", summary=words["summary"], body=words["body"])
    with schema_context("suffolk"):
        services.entry_update(user=_fresh(cast["bob"]), entry=entry, version=1, body=words["new_body"])
    connection.set_schema_to_public()
    alice = client_as(cast, "alice")
    html = alice.get(LIST).content.decode()
    assert words["body"] in html and words["new_body"] in html
    text = csv_text(alice.get(EXPORT))
    edited = next(
        row for row in csv_rows_about(text, "timeline_entry", entry.pk) if row["Action"] == "timeline.entry_updated"
    )
    assert eval_json(edited["Changes"]) == {"body": [words["body"], words["new_body"]]}
    assert "[restricted" not in edited["Summary"]


def test_an_entry_made_sensitive_later_hides_its_earlier_events(cast, words):
    """The events were written while the entry was open to all; the record hides it now."""
    admins_see_everything()
    case = make_case(cast, make_profile(cast))
    entry = make_entry(cast, case, kind="note", summary=words["summary"], body=words["body"])
    with schema_context("suffolk"):
        services.entry_update(user=_fresh(cast["bob"]), entry=entry, version=1, body=words["new_body"])
        # No page makes an entry sensitive after the fact yet; the rule must hold when one does.
        TimelineEntry.objects.filter(pk=entry.pk).update(is_sensitive=True)
        TimelineEntry.objects.get(pk=entry.pk).restricted_to_teams.set([cast["asb"]])
    connection.set_schema_to_public()
    alice = client_as(cast, "alice")
    assert_no_content(alice.get(LIST).content.decode(), words)
    assert_no_content(csv_text(alice.get(EXPORT)), words)


def test_an_entry_sensitive_at_an_earlier_version_stays_hidden_after_it_is_opened(cast, sensitive, words):
    """Its older events hold what it said while it was sensitive."""
    with schema_context("suffolk"):
        TimelineEntry.objects.filter(pk=sensitive["entry"].pk).update(is_sensitive=False)
    connection.set_schema_to_public()
    alice = client_as(cast, "alice")
    assert_no_content(alice.get(LIST).content.decode(), words)
    assert_no_content(csv_text(alice.get(EXPORT)), words)


def test_profile_changes_are_hidden_from_an_admin_the_profile_is_not_visible_to(cast, words):
    """Alice, in no agency, sees no profile unless the partnership lets admins see everything."""
    admins_see_everything(False)
    profile = make_profile(cast, first_name="Kyle", notes=words["body"])
    with schema_context("suffolk"):
        services.profile_update(user=_fresh(cast["bob"]), profile=profile, version=1, notes=words["new_body"])
    connection.set_schema_to_public()
    alice = client_as(cast, "alice")
    assert alice.get(f"/profiles/{profile.pk}/").status_code == 404
    html = alice.get(LIST).content.decode()
    assert words["body"] not in html and words["new_body"] not in html
    assert f"Profile {profile.pk}<" in html and "[restricted: record not visible to you]" in html
    text = csv_text(alice.get(EXPORT))
    assert words["body"] not in text and words["new_body"] not in text
    changed = [row for row in csv_rows_about(text, "profile", profile.pk) if row["Action"] == "profile.updated"]
    assert list(eval_json(changed[0]["Changes"])) == ["notes"]
    # Once the partnership lets admins see every record, the trail shows her the values.
    admins_see_everything(True)
    html = alice.get(LIST).content.decode()
    assert words["body"] in html and words["new_body"] in html


def test_norfolks_admin_sees_nothing_of_suffolks(cast, sensitive, words):
    nina = Client(HTTP_HOST="norfolk.localhost")
    sign_in(nina, "nina@norfolk.test")
    html = nina.get(LIST).content.decode()
    text = csv_text(nina.get(EXPORT))
    for body in (html, text):
        assert_no_content(body, words)
        assert "bob@suffolk.test" not in body


def test_redaction_reads_once_per_kind_of_object_whatever_the_number_of_events(cast, sensitive):
    """A page about records of every kind runs as many queries for 50 events as for 10 (no N+1)."""
    from django.test.utils import CaptureQueriesContext

    kinds = ["timeline_entry", "profile", "case", "family", "document"]
    ids = {"timeline_entry": sensitive["entry"].pk, "profile": sensitive["profile"].pk, "case": sensitive["case"].pk,
           "family": 1, "document": str(uuid.uuid4())}  # fmt: skip
    alice = client_as(cast, "alice")

    def page_queries(count: int) -> int:
        with schema_context("suffolk"):
            AuditEvent.objects.bulk_create(
                AuditEvent(action="profile.updated", actor=cast["bob"], object_type=kinds[n % 5],
                           object_id=str(ids[kinds[n % 5]] if n % 2 else 900000 + n))
                for n in range(count)
            )  # fmt: skip
        connection.set_schema_to_public()
        with CaptureQueriesContext(connection) as captured:
            assert alice.get(LIST).status_code == 200
        return len(captured)

    few, many = page_queries(10), page_queries(50)
    assert few == many, (few, many)


def test_a_document_on_a_sensitive_entry_keeps_its_deletion_reason_from_outsiders(cast, sensitive, words, s3):
    """The reason for deleting an attachment is the deleter's words about the entry."""
    from tenant_apps.documents.services import document_delete, document_store
    from tests.test_attachments import upload
    from tests.test_documents import PDF_BYTES

    with schema_context("suffolk"):
        bob = _fresh(cast["bob"])
        document = document_store(request_or_user=bob, file=upload("statement.pdf", PDF_BYTES),
                                  attached_to_type="timeline_entry", attached_to_id=sensitive["entry"].pk)  # fmt: skip
        document_delete(request_or_user=bob, document=document, reason=words["reason"])
    connection.set_schema_to_public()
    alice = client_as(cast, "alice")
    html = alice.get(LIST).content.decode()
    assert words["reason"] not in html and f"Document {document.pk}<" in html
    text = csv_text(alice.get(EXPORT))
    assert words["reason"] not in text
    rows = csv_rows_about(text, "document", document.pk)
    assert {row["Action"]: row["Summary"] for row in rows}["document.deleted"] == RESTRICTED
    # In the named team, the reason is there.
    with schema_context("suffolk"):
        TeamMembership.objects.create(user=cast["alice"], team=cast["asb"])
    assert words["reason"] in csv_text(alice.get(EXPORT))
