"""The audit trail: append-only in the database, recorded by one service, read by admins only.

The cast (tests/conftest.py): Alice is Suffolk's admin, Bob a Suffolk practitioner,
Nina Norfolk's admin. Alice sees Suffolk's events; Bob sees none (403); Nina never
sees anything of Suffolk's. Other tests may leave committed events behind that no
one can delete, so every check here looks for its own marked events, never for an
empty table.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from django_tenants.utils import schema_context

from concord import db_roles, urls_partnership
from tenant_apps.accounts.models import User
from tenant_apps.audit.models import AuditAction, AuditEvent
from tenant_apps.audit.selectors import audit_event_list
from tenant_apps.audit.services import audit_changes, audit_record
from tenants.provisioning import current_template
from tests.conftest import sign_in


@login_required
def signed_in_baseline(request):
    """What every signed-in page costs before its own work (middleware, session, user)."""
    return HttpResponse(str(request.user.pk))


# The audit pages until concord.urls_partnership mounts them itself (then this adds nothing).
_MOUNTED = any(getattr(pattern, "namespace", None) == "audit" for pattern in urls_partnership.urlpatterns)
urlpatterns = [
    *([] if _MOUNTED else [path("admin/audit/", include("tenant_apps.audit.urls"))]),
    path("test-baseline/", signed_in_baseline),
    path("", include("concord.urls_partnership")),
]

LIST = "/admin/audit/"
EXPORT = "/admin/audit/export.csv"


@pytest.fixture(autouse=True)
def _audit_urls():
    with override_settings(ROOT_URLCONF=__name__):
        yield


@pytest.fixture
def marker() -> str:
    """A string no other test's events contain."""
    return f"mark-{uuid.uuid4().hex[:12]}"


def person(schema: str, email: str) -> User:
    with schema_context(schema):
        return User.objects.get(email=email)


def record(schema: str, **kwargs) -> AuditEvent:
    with schema_context(schema):
        return audit_record(**kwargs)


def signed_in(slug: str, email: str) -> Client:
    client = Client(HTTP_HOST=f"{slug}.localhost")
    sign_in(client, email)
    return client


def table(html: str) -> str:
    """The audit page's table of events (the filters above it list every user with an address)."""
    return html[html.index('<tbody class="govuk-table__body">') : html.index("</tbody>")]


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")  # Excel reads the file as UTF-8
    return list(csv.reader(io.StringIO(body[1:])))


# --- Append-only in the database ---------------------------------------------------------


@pytest.mark.parametrize("schema", ["suffolk", "norfolk", "public"])
def test_the_database_refuses_update_delete_and_truncate(db, schema, marker):
    event = record(schema, action=AuditAction.USER_INVITED, summary=marker)
    table = f'"{schema}".audit_auditevent'
    # The trigger stops even the owner of the table (the partnership's role is stopped before it,
    # by its privileges: below).
    with db_roles.owner_mode(), connection.cursor() as cursor:
        # Run the deferred foreign key check of the insert now: TRUNCATE refuses to run while
        # it is pending (after a commit, as in real life, nothing is pending).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for statement in [
            f"UPDATE {table} SET summary = 'rewritten' WHERE id = %s",
            f"DELETE FROM {table} WHERE id = %s",
            f"TRUNCATE {table}",
            f"TRUNCATE {table} RESTART IDENTITY CASCADE",
        ]:
            with pytest.raises(DatabaseError, match="audit events are append-only"), transaction.atomic():
                cursor.execute(statement, [event.pk] if "%s" in statement else None)
    with schema_context(schema):
        refused = "append-only" if schema == "public" else "permission denied for table audit_auditevent"
        with pytest.raises(DatabaseError, match=refused), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).update(summary="rewritten")
        with pytest.raises(DatabaseError, match=refused), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).delete()
        assert AuditEvent.objects.get(pk=event.pk).summary == marker


@pytest.fixture(scope="module")
def template_schema(django_db_setup, django_db_blocker) -> str:
    """The provisioning template, migrated up to the code on disk (committed, as provisioning does)."""
    with django_db_blocker.unblock():
        current_template()
        connection.set_schema_to_public()
    return settings.TENANT_TEMPLATE_SCHEMA


def test_an_empty_audit_table_may_be_truncated_as_provisioning_empties_its_template(db, template_schema):
    with db_roles.owner_mode(), connection.cursor() as cursor, transaction.atomic():
        cursor.execute(f'TRUNCATE "{template_schema}".audit_auditevent RESTART IDENTITY CASCADE')


def test_each_schema_has_its_own_trigger_function_and_its_triggers_call_it(db, template_schema):
    """Unqualified DDL in the migration lands in the schema being migrated; nothing names a schema."""
    schemas = ["suffolk", "norfolk", template_schema, "public"]
    with connection.cursor() as cursor:
        for schema in schemas:
            cursor.execute(
                """
                SELECT t.tgname, pn.nspname, p.proname, p.prosrc, pg_get_triggerdef(t.oid)
                FROM pg_trigger t
                JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
                JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace
                WHERE cn.nspname = %s AND c.relname = 'audit_auditevent' AND NOT t.tgisinternal
                ORDER BY t.tgname
                """,
                [schema],
            )
            rows = cursor.fetchall()
            assert [row[0] for row in rows] == ["audit_auditevent_append_only", "audit_auditevent_no_truncate"]
            for _, function_schema, function, body, definition in rows:
                assert (function_schema, function) == (schema, "audit_refuse_change"), definition
                for name in schemas:
                    assert name not in body
            assert "BEFORE DELETE OR UPDATE" in rows[0][4] and "FOR EACH ROW" in rows[0][4]
            assert "BEFORE TRUNCATE" in rows[1][4] and "FOR EACH STATEMENT" in rows[1][4]
        cursor.execute(
            "SELECT n.nspname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE p.proname = 'audit_refuse_change'"
        )
        assert set(schemas) <= {row[0] for row in cursor.fetchall()}


# --- The service ---------------------------------------------------------------------------


def _request(schema: str, user=None, **meta):
    request = RequestFactory().get("/", **meta)
    request.tenant = type("Tenant", (), {"schema_name": schema})()
    if user is not None:
        request.user = user
    return request


def test_the_service_records_address_agent_actor_and_changes(db, marker):
    bob = person("suffolk", "bob@suffolk.test")
    request = _request("suffolk", bob, REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Firefox\x00" + "x" * 400)
    before = {"role": "practitioner", "full_name": "Bob Brown", "teams": {"north", "east"}}
    after = {"role": "admin", "full_name": "Bob Brown", "teams": {"north"}}
    with schema_context("suffolk"):
        event = audit_record(
            action=AuditAction.USER_ROLE_CHANGED, request=request, object_type="user", object_id=bob.pk,
            summary=marker, changes=audit_changes(before, after),
        )  # fmt: skip
        event = AuditEvent.objects.get(pk=event.pk)
    assert (event.actor_id, event.actor_label) == (bob.pk, "bob@suffolk.test")
    assert event.ip_address == "203.0.113.7"
    assert event.user_agent.startswith("Firefoxxx") and len(event.user_agent) == 300
    assert (event.action, event.object_type, event.object_id) == ("user.role_changed", "user", str(bob.pk))
    assert event.changes == {"role": ["practitioner", "admin"], "teams": [["east", "north"], ["north"]]}
    assert event.occurred_at is not None


def test_an_explicit_actor_wins_and_anonymous_requests_have_none(db):
    from django.contrib.auth.models import AnonymousUser

    alice, bob = person("suffolk", "alice@suffolk.test"), person("suffolk", "bob@suffolk.test")
    with schema_context("suffolk"):
        assert audit_record(action="auth.sign_in", request=_request("suffolk", bob), actor=alice).actor_id == alice.pk
        event = audit_record(action="auth.sign_in_failed", request=_request("suffolk", AnonymousUser()))
    assert (event.actor_id, event.actor_label) == (None, "")


def test_forwarded_for_is_ignored_unless_proxies_are_trusted(db, settings):
    forwarded = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 198.51.100.4, 10.0.0.1"}

    def address():
        with schema_context("suffolk"):
            return audit_record(action="auth.sign_in", request=_request("suffolk", **forwarded)).ip_address

    assert address() == "10.0.0.2"  # no proxy trusted: a client can write any X-Forwarded-For
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    assert address() == "10.0.0.1"
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert address() == "198.51.100.4"  # never the client-written 6.6.6.6 unless 198.51.100.4 is ours
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "198.51.100.4"]
    assert address() == "6.6.6.6"
    settings.TRUSTED_PROXIES = ["192.0.2.0/24"]
    assert address() == "10.0.0.2"  # the peer is not one of our proxies: the header is ignored
    settings.TRUSTED_PROXIES = []
    forwarded["REMOTE_ADDR"] = "not an address"
    assert address() is None


def test_secret_looking_fields_are_redacted_and_only_changed_fields_kept(db):
    changes = audit_changes(
        {"email": "a@x.test", "password": "old", "full_name": "A"},
        {"email": "b@x.test", "password": "new", "full_name": "A", "otp_token": "123456"},
    )
    assert changes == {"email": ["a@x.test", "b@x.test"], "password": ["old", "new"], "otp_token": [None, "123456"]}
    with schema_context("suffolk"):
        event = audit_record(action="user.invited", changes=changes)
    assert event.changes == {
        "email": ["a@x.test", "b@x.test"],
        "password": ["[redacted]", "[redacted]"],
        "otp_token": ["[redacted]", "[redacted]"],
    }


def test_the_service_refuses_a_request_of_another_schema(db):
    with schema_context("norfolk"), pytest.raises(RuntimeError, match="wrong schema"):
        audit_record(action="auth.sign_in", request=_request("suffolk"))


# --- Selector: admins only, UK dates -----------------------------------------------------------


def test_the_selector_fails_closed(db):
    from django.contrib.auth.models import AnonymousUser

    bob = person("suffolk", "bob@suffolk.test")
    viewer = User(email="viewer@suffolk.test", role=User.Role.VIEWER)
    inactive_admin = User(email="gone@suffolk.test", role=User.Role.ADMIN, is_active=False)
    for user in [AnonymousUser(), bob, viewer, inactive_admin, None]:
        with pytest.raises(PermissionDenied):
            audit_event_list(user=user)


def test_date_filters_are_inclusive_uk_days_across_bst(db, marker):
    alice = person("suffolk", "alice@suffolk.test")
    # 1 July 2026 is in BST (UTC+1): the UK day runs from 30 June 23:00 UTC to 1 July 23:00 UTC.
    moments = {
        "before": datetime(2026, 6, 30, 22, 59, 59, tzinfo=UTC),
        "first": datetime(2026, 6, 30, 23, 0, 0, tzinfo=UTC),
        "last": datetime(2026, 7, 1, 22, 59, 59, tzinfo=UTC),
        "after": datetime(2026, 7, 1, 23, 0, 0, tzinfo=UTC),
    }
    with schema_context("suffolk"):
        for name, moment in moments.items():
            AuditEvent.objects.create(action="user.invited", summary=f"{marker} {name}", occurred_at=moment)
        day = date(2026, 7, 1)
        found = audit_event_list(user=alice, date_from=day, date_to=day).filter(summary__startswith=marker)
        assert sorted(e.summary.split()[1] for e in found) == ["first", "last"]
        from_only = audit_event_list(user=alice, date_from=day).filter(summary__startswith=marker)
        assert sorted(e.summary.split()[1] for e in from_only) == ["after", "first", "last"]

    response = signed_in("suffolk", "alice@suffolk.test").get(LIST, {"date_from": "1/7/2026", "date_to": "01/07/2026"})
    assert f"{marker} first".encode() in response.content and f"{marker} last".encode() in response.content
    assert f"{marker} before".encode() not in response.content and f"{marker} after".encode() not in response.content


# --- The pages ---------------------------------------------------------------------------------


def test_alice_sees_suffolk_events_in_a_govuk_table(alice_client, marker):
    bob = person("suffolk", "bob@suffolk.test")
    record("suffolk", action="user.deactivated", request=_request("suffolk", bob, REMOTE_ADDR="192.0.2.9",
           HTTP_USER_AGENT="TestBrowser/1.0"), object_type="user", object_id=bob.pk, summary=marker)  # fmt: skip
    response = alice_client.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<table class="govuk-table concord-table-stack concord-audit-table">' in html and marker in html
    for shown in ["Bob Brown", "192.0.2.9", "TestBrowser/1.0", "User deactivated", "User: Bob Brown"]:
        assert shown in html, shown
    # His name alone tells him apart (nobody else here is called Bob Brown): no e-mail address.
    assert "bob@suffolk.test" not in table(html)
    assert f"{EXPORT}" in html


def test_filters_by_user_and_action(alice_client, marker):
    alice, bob = person("suffolk", "alice@suffolk.test"), person("suffolk", "bob@suffolk.test")
    record("suffolk", action="user.invited", actor=alice, summary=f"{marker}-alice-invited")
    record("suffolk", action="auth.sign_in", actor=bob, summary=f"{marker}-bob-signin")
    record("suffolk", action="user.invited", actor=bob, summary=f"{marker}-bob-invited")

    def shown(**query):
        html = alice_client.get(LIST, query).content.decode()
        return {s for s in ["alice-invited", "bob-signin", "bob-invited"] if f"{marker}-{s}" in html}

    assert shown() == {"alice-invited", "bob-signin", "bob-invited"}
    assert shown(user=bob.pk) == {"bob-signin", "bob-invited"}
    assert shown(action="user.invited") == {"alice-invited", "bob-invited"}
    assert shown(user=bob.pk, action="user.invited") == {"bob-invited"}


def test_bad_filters_show_errors_and_no_events(alice_client, marker):
    record("suffolk", action="user.invited", summary=marker)
    response = alice_client.get(LIST, {"date_from": "2/7/2026", "date_to": "1/7/2026"})
    assert response.status_code == 200
    assert b"govuk-error-summary" in response.content and b"must be the same as or after" in response.content
    assert marker.encode() not in response.content
    assert b"as a date" in alice_client.get(LIST, {"date_from": "yesterday"}).content
    assert alice_client.get(EXPORT, {"date_from": "yesterday"}).status_code == 400


def test_pagination_is_fifty_a_page_and_keeps_the_filters(alice_client, marker):
    noon = datetime(2031, 1, 2, 12, 0, tzinfo=UTC)
    with schema_context("suffolk"):
        AuditEvent.objects.bulk_create(
            AuditEvent(action="auth.sign_out", summary=f"{marker} {n:03d}", occurred_at=noon.replace(second=n % 60))
            for n in range(120)
        )
    query = {"date_from": "2/1/2031", "date_to": "2/1/2031"}
    first = alice_client.get(LIST, query).content.decode()
    assert first.count(f"{marker} ") == 50
    assert "120 events, showing 1 to 50" in first
    assert 'class="govuk-pagination"' in first and 'rel="next"' in first
    assert "?date_from=2%2F1%2F2031&amp;date_to=2%2F1%2F2031&amp;page=2" in first
    third = alice_client.get(LIST, {**query, "page": 3}).content.decode()
    assert third.count(f"{marker} ") == 20 and 'aria-current="page">3<' in third
    assert alice_client.get(LIST, {**query, "page": "99"}).status_code == 200  # last page, not an error


def test_the_csv_export_has_the_filtered_events_and_guards_against_formulas(alice_client, marker):
    bob = person("suffolk", "bob@suffolk.test")
    request = _request("suffolk", bob, REMOTE_ADDR="192.0.2.10", HTTP_USER_AGENT="@SUM(1+1)")
    record("suffolk", action="user.role_changed", request=request, object_type="user", object_id=-1,
           summary=f"=HYPERLINK(\"http://evil.example\",\"{marker}\")",
           changes={"role": ["practitioner", "admin"]})  # fmt: skip
    record("suffolk", action="user.role_changed", actor=bob, summary=f"+{marker} plus")
    record("suffolk", action="auth.sign_in", actor=bob, summary=f"{marker} other action")

    response = alice_client.get(EXPORT, {"action": "user.role_changed", "user": bob.pk})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-suffolk-')
    rows = csv_rows(response)
    assert rows[0][:6] == ["When (UK time)", "User", "User id", "IP address", "User agent", "Action"]
    mine = [row for row in rows[1:] if marker in row[8]]
    assert len(mine) == 2  # the sign-in is filtered out
    hyperlink = next(row for row in mine if "HYPERLINK" in row[8])
    assert hyperlink[8] == f'\'=HYPERLINK("http://evil.example","{marker}")'
    assert hyperlink[4] == "'@SUM(1+1)" and hyperlink[7] == "'-1"
    assert hyperlink[1:4] == ["bob@suffolk.test", str(bob.pk), "192.0.2.10"]
    assert hyperlink[5] == "user.role_changed" and hyperlink[9] == '{"role": ["practitioner", "admin"]}'
    assert datetime.fromisoformat(hyperlink[0]).utcoffset() is not None
    assert next(row for row in mine if "plus" in row[8])[8] == f"'+{marker} plus"


# --- Who may see it ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [LIST, EXPORT, f"{LIST}?action=auth.sign_in"])
def test_bob_the_practitioner_is_refused(db, url, marker):
    record("suffolk", action="user.invited", summary=marker)
    response = signed_in("suffolk", "bob@suffolk.test").get(url)
    assert response.status_code == 403
    assert marker.encode() not in response.content


@pytest.mark.parametrize("url", [LIST, EXPORT])
def test_anonymous_is_sent_to_sign_in(suffolk_client, url):
    response = suffolk_client.get(url)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == "/account/sign-in/" and parse_qs(location.query)["next"] == [url]


def test_only_get_is_allowed(alice_client):
    assert alice_client.post(LIST).status_code == 405
    assert alice_client.post(EXPORT).status_code == 405


def test_nina_on_norfolk_never_sees_suffolk_events(db, marker):
    alice = person("suffolk", "alice@suffolk.test")
    record("suffolk", action="user.invited", actor=alice, summary=f"{marker}-suffolk")
    record("norfolk", action="user.invited", actor=person("norfolk", "nina@norfolk.test"), summary=f"{marker}-norfolk")
    nina = signed_in("norfolk", "nina@norfolk.test")

    page = nina.get(LIST).content.decode()
    assert f"{marker}-norfolk" in page
    assert f"{marker}-suffolk" not in page and "alice@suffolk.test" not in page
    export = "".join(",".join(row) for row in csv_rows(nina.get(EXPORT)))
    assert f"{marker}-norfolk" in export
    assert f"{marker}-suffolk" not in export and "alice@suffolk.test" not in export
    # Filtering by a Suffolk user's id finds nothing of Suffolk's either.
    assert f"{marker}-suffolk" not in nina.get(LIST, {"user": alice.pk}).content.decode()


def test_alices_suffolk_session_means_nothing_on_norfolk(alice_client):
    alice_client.defaults["HTTP_HOST"] = "norfolk.localhost"
    response = alice_client.get(LIST)
    assert response.status_code == 302 and response["Location"].startswith("/account/sign-in/")


# --- Query counts ----------------------------------------------------------------------------------

# The list page's own queries, on top of what any signed-in page costs (measured, not assumed,
# so that middleware added later does not break this): the users for the filter, the count,
# the page of events joined to their actors, and the actors' names (one read of users for the
# whole page: ``naming``). Not one more per event. With the middleware of this commit that is
# 5 + 4 = 9 in all: SET search_path to public, the partnership by host (no host cache in
# tests), SET search_path to the partnership, session, user. And two of every signed-in page's
# frame (base.html), which the bare baseline does not render: the main menu's count of my
# overdue tasks (tasks.selectors.task_counts), and for it the admin's casework scope (whether
# admins see everything: one read of the partnership's casework settings). And the hash chain's
# last verification (one read: "Chain verified up to event N", never a verification per view).
LIST_OWN_QUERIES = 7


def test_the_list_page_runs_a_fixed_number_of_queries(alice_client, django_assert_num_queries, marker):
    alice, bob = person("suffolk", "alice@suffolk.test"), person("suffolk", "bob@suffolk.test")
    with schema_context("suffolk"):
        AuditEvent.objects.bulk_create(
            AuditEvent(action="auth.sign_in", actor=[alice, bob, None][n % 3], actor_label=f"{marker}-{n}",
                       summary=f"{marker}~{n}")
            for n in range(60)
        )  # fmt: skip
    with CaptureQueriesContext(connection) as baseline:
        assert alice_client.get("/test-baseline/").status_code == 200
    with django_assert_num_queries(len(baseline) + LIST_OWN_QUERIES):
        response = alice_client.get(LIST)
    assert response.status_code == 200 and response.content.decode().count(f"{marker}~") == 50
    with django_assert_num_queries(len(baseline) + LIST_OWN_QUERIES):
        # Sign-ins only: events about records cost the redaction's reads (pinned in
        # test_audit_redaction.py), and other tests leave committed events about records behind.
        assert alice_client.get(LIST, {"user": bob.pk, "action": "auth.sign_in", "page": 2}).status_code == 200


def test_every_recorded_action_is_registered():
    """Every dotted action name in the code has a label and appears in the audit filter."""
    import re
    from pathlib import Path

    from tenant_apps.audit.models import AuditAction

    repo = Path(__file__).resolve().parents[1]
    areas = (
        "auth|otp|user|agency|team|task|settings|partnership|operator|profile|case|share|timeline|search|document"
        "|family|gallery|access"
    )
    # Literals given as ``action=`` or bound to an UPPER_CASE name (a serializer's
    # ``source="profile.display_name"`` is not an action).
    pattern = re.compile(rf'(?:action=|^\s*[A-Z][A-Z0-9_]*\s*=\s*)"((?:{areas})\.[a-z_]+)"', re.MULTILINE)
    used = set()
    for folder in ("tenant_apps", "tenants", "platform", "shared_apps"):
        for source in (repo / folder).rglob("*.py"):
            if "migrations" not in source.parts:
                used |= set(pattern.findall(source.read_text()))
    assert used, "the scan must find the actions"
    assert used - set(AuditAction.values) == set()
