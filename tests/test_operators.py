"""The operator area on the platform domain: partnerships' usage, provisioning, suspension, audit.

Cast: Olu, a platform operator (public schema, made by the ``operator`` fixture in
this module); Alice and Bob in Suffolk, Nina in Norfolk (tests/conftest.py).
Operators see partnerships and counts, never a partnership's people or records;
the operator area does not exist on a partnership's host; a partnership's session
is worth nothing on the platform domain, and an operator's nothing on a partnership's.
Each test runs in a transaction that is rolled back, partnerships it provisions included.
"""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from tenant_apps.accounts.models import User
from tenant_apps.audit.models import AuditEvent
from tenant_apps.outbox.models import OutboundEmail
from tenants.models import Domain, Partnership
from tenants.provisioning import partnership_provision
from tests.conftest import OPERATOR, PASSWORD, manage, sign_in

# Session, user, OTP device, security settings (idle timeout), partnerships, usage.
QUERIES_PER_DASHBOARD = 6
NEW_PASSWORD = {"new_password1": "a long pass phrase", "new_password2": "a long pass phrase"}
SUFFOLK_PEOPLE = [b"alice@suffolk.test", b"bob@suffolk.test", b"Alice Adams", b"Bob Brown"]


def schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace")
        return {row[0] for row in cursor.fetchall()}


def public_events(action: str) -> list[AuditEvent]:
    connection.set_schema_to_public()
    return list(AuditEvent.objects.filter(action=action))


# --- Reaching the area --------------------------------------------------------------------


def test_an_operator_signs_in_with_two_factors_and_lands_on_the_dashboard(operator, platform_client):
    final = sign_in(platform_client, OPERATOR)
    assert final["Location"] == "/operators/"
    page = platform_client.get("/operators/")
    assert page.status_code == 200
    assert b"Suffolk Community Safety Partnership" in page.content
    assert b"Norfolk Community Safety Partnership" in page.content
    # Sign-ins are audited in public, by the accounts services.
    assert {e.actor_id for e in public_events("auth.second_factor")} >= {operator.pk}


@pytest.mark.parametrize(
    "path", ["/operators/", "/operators/provision/", "/operators/partnerships/suffolk/", "/operators/audit/"]
)
def test_the_operator_area_does_not_exist_on_a_partnership_host(db, alice_client, path):
    """Not even for Suffolk's admin, signed in with both factors."""
    assert alice_client.get(path).status_code == 404
    assert Client(HTTP_HOST="suffolk.localhost").get(path).status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/operators/", "/operators/provision/", "/operators/partnerships/suffolk/",
     "/operators/partnerships/suffolk/suspend/", "/operators/audit/", "/operators/audit/export.csv"],
)  # fmt: skip
def test_anonymous_visitors_are_sent_to_sign_in(db, platform_client, path):
    response = platform_client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/account/sign-in/?next=")


def test_a_password_only_operator_session_is_sent_to_the_second_factor(operator, platform_client):
    first = platform_client.post("/account/sign-in/", {"email": OPERATOR, "password": PASSWORD})
    assert first.status_code == 302
    for path in ["/operators/", "/operators/provision/", "/operators/audit/"]:
        response = platform_client.get(path)
        assert response.status_code == 302 and response["Location"] == "/account/two-factor/", path
    refused = platform_client.post("/operators/partnerships/suffolk/suspend/")
    assert refused.status_code == 302
    assert Partnership.objects.get(schema_name="suffolk").is_active


def test_a_partnership_session_is_anonymous_on_the_platform_domain(operator, alice_client, platform_client):
    """Alice's Suffolk cookie copied to the platform domain: anonymous there, even with a
    public user holding Alice's id."""
    with schema_context("suffolk"):
        alice = User.objects.get(email="alice@suffolk.test")
    connection.set_schema_to_public()
    if not User.objects.filter(pk=alice.pk).exists():
        User.objects.create_user("same-id@operators.test", PASSWORD, pk=alice.pk)
    assert alice_client.get("/").status_code == 200
    platform_client.cookies["concord_session"] = alice_client.cookies["concord_session"].value
    response = platform_client.get("/operators/")
    assert response.status_code == 302 and response["Location"].startswith("/account/sign-in/")


def test_an_operator_cannot_sign_in_on_a_partnership_host(operator, suffolk_client):
    response = suffolk_client.post("/account/sign-in/", {"email": OPERATOR, "password": PASSWORD})
    assert response.status_code == 200
    assert b"Enter a correct e-mail address and password" in response.content


def test_an_operator_session_is_anonymous_on_a_partnership_host(operator_client, suffolk_client):
    suffolk_client.cookies["concord_session"] = operator_client.cookies["concord_session"].value
    response = suffolk_client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/account/sign-in/")


# --- The dashboard --------------------------------------------------------------------------


def test_the_dashboard_shows_counts_and_never_a_partnership_s_people(operator_client):
    page = operator_client.get("/operators/").content
    for text in SUFFOLK_PEOPLE + [b"nina@norfolk.test", b"Nina North"]:
        assert text not in page, text
    for heading in [b"Users", b"Database size", b"Last activity", b"Created", b"Status"]:
        assert heading in page
    card = page.split(b"/operators/partnerships/suffolk/", 1)[1].split(b"govuk-summary-card__title-wrapper", 1)[0]
    with schema_context("suffolk"):
        users = User.objects.filter(is_active=True).count()
    assert f'data-metric="users">{users}<'.encode() in card
    assert re.search(rb'database-size">\d+(\.\d)?\xc2\xa0(KB|MB|GB)<', card), card  # the schema's tables take space


def test_the_usage_query_reads_each_schema_without_leaking_rows(db):
    from concord.operators.selectors import partnership_usage

    usage = partnership_usage(schemas=["suffolk", "norfolk"])
    with schema_context("suffolk"):
        suffolk_users = User.objects.filter(is_active=True).count()
        newest = AuditEvent.objects.order_by("-occurred_at").values_list("occurred_at", flat=True).first()
    assert usage["suffolk"].users == suffolk_users
    assert usage["suffolk"].last_activity == newest
    assert usage["suffolk"].database_bytes > 100_000
    assert usage["norfolk"].users >= 1


def test_the_dashboard_costs_the_same_queries_for_2_or_5_partnerships(operator_client, django_assert_num_queries):
    """One query lists the partnerships, one reads every schema's usage (concord_partnership_usage)."""
    before = Partnership.objects.count()
    with django_assert_num_queries(QUERIES_PER_DASHBOARD) as few:
        assert operator_client.get("/operators/").status_code == 200
    for slug in ["opsone", "opstwo", "opsthree"]:
        partnership_provision(slug=slug, name=f"Ops {slug} CSP", admin_email=f"admin@{slug}.test")
    connection.set_schema_to_public()
    assert Partnership.objects.count() == before + 3
    with django_assert_num_queries(QUERIES_PER_DASHBOARD) as many:
        page = operator_client.get("/operators/")
    assert b"Ops opsthree CSP" in page.content
    usage = [q["sql"] for q in many.captured_queries if "concord_partnership_usage" in q["sql"]]
    assert len(usage) == 1 and "opsthree" in usage[0]  # every schema, one query (names as an array)
    assert len(few.captured_queries) == len(many.captured_queries)


# --- Provisioning -----------------------------------------------------------------------------


def provision_form(**overrides) -> dict:
    return {
        "slug": "eastsuffolk",
        "name": "East Suffolk CSP",
        "admin_email": "ann@eastsuffolk.test",
        "admin_name": "Ann Admin",
        **overrides,
    }


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("public", b"Slug &#x27;public&#x27; is reserved"),
        ("Bad Slug", b"must be 2-30 lower-case letters and digits"),
        ("pg_suffolk", b"is reserved"),
        ("operators", b"is reserved"),
        ("a" * 31, b"longer than 30 characters"),
        ("suffolk", b"a partnership with slug &#x27;suffolk&#x27; already exists"),
    ],
)
def test_a_bad_slug_is_shown_against_the_slug_field_and_nothing_is_created(operator_client, slug, message):
    before_schemas, before_count = schemas(), Partnership.objects.count()
    response = operator_client.post("/operators/provision/", provision_form(slug=slug))
    assert response.status_code == 200
    content = response.content
    assert b"There is a problem" in content
    assert b'id="id_slug_error"' in content and message.lower() in content.lower()
    assert b'href="#id_slug"' in content  # the error summary links to the field
    assert schemas() == before_schemas and Partnership.objects.count() == before_count
    assert not public_events("partnership.provisioned")


def test_a_bad_admin_e_mail_is_shown_against_its_field(operator_client):
    response = operator_client.post("/operators/provision/", provision_form(admin_email="not-an-address"))
    assert response.status_code == 200 and b'id="id_admin_email_error"' in response.content
    assert not Partnership.objects.filter(schema_name="eastsuffolk").exists()


def test_provisioning_through_the_page_creates_an_answering_partnership_and_e_mails_its_admin(operator_client):
    response = operator_client.post("/operators/provision/", provision_form())
    assert response.status_code == 302 and response["Location"] == "/operators/partnerships/eastsuffolk/"
    page = operator_client.get(response["Location"])
    assert b"East Suffolk CSP is ready" in page.content
    assert b"invitation was e-mailed to ann@eastsuffolk.test" in page.content
    assert b"eastsuffolk.localhost" in page.content and b"set-password" not in page.content

    partnership = Partnership.objects.get(schema_name="eastsuffolk")
    assert partnership.is_active and Domain.objects.get(tenant=partnership).domain == "eastsuffolk.localhost"
    answer = Client(HTTP_HOST="eastsuffolk.localhost").get("/account/sign-in/")
    assert answer.status_code == 200 and b"East Suffolk CSP" in answer.content

    with schema_context("eastsuffolk"):  # exactly one invitation, in the partnership's own outbox
        admin = User.objects.get()
        assert (admin.email, admin.role, admin.has_usable_password()) == ("ann@eastsuffolk.test", "admin", False)
        mails = list(OutboundEmail.objects.all())
        assert len(mails) == 1 and mails[0].to == ["ann@eastsuffolk.test"]
        assert "http://eastsuffolk.localhost:8000/account/set-password/" in mails[0].body
    connection.set_schema_to_public()
    assert not OutboundEmail.objects.filter(to__contains=["ann@eastsuffolk.test"]).exists()
    [event] = public_events("partnership.provisioned")
    assert (event.actor.email, event.object_id) == (OPERATOR, "eastsuffolk")


def test_the_invitation_link_from_the_e_mail_sets_the_admin_s_password(operator_client):
    operator_client.post("/operators/provision/", provision_form())
    with schema_context("eastsuffolk"):
        body = OutboundEmail.objects.get().body
    path = re.search(r"http://eastsuffolk\.localhost:8000(/account/set-password/\S+)", body).group(1)
    client = Client(HTTP_HOST="eastsuffolk.localhost")
    form = client.get(path, follow=True)
    assert b"Set your password" in form.content
    done = client.post(form.redirect_chain[-1][0], NEW_PASSWORD)
    assert done.status_code == 302 and done["Location"] == "/account/two-factor/setup/"


# --- Suspend and resume --------------------------------------------------------------------


@pytest.fixture
def westshire(db):
    """A partnership of this test's own (rolled back with it), so Suffolk is never suspended."""
    partnership_provision(slug="westshire", name="Westshire CSP", admin_email="wes@westshire.test")
    connection.set_schema_to_public()
    return Partnership.objects.get(schema_name="westshire")


def test_suspend_needs_confirmation_then_the_host_shows_the_suspended_page(operator_client, westshire):
    confirm = operator_client.get("/operators/partnerships/westshire/suspend/")
    assert confirm.status_code == 200 and b"Suspend Westshire CSP?" in confirm.content
    assert Partnership.objects.get(pk=westshire.pk).is_active  # a GET changes nothing

    done = operator_client.post("/operators/partnerships/westshire/suspend/")
    assert done.status_code == 302 and done["Location"] == "/operators/partnerships/westshire/"
    assert Partnership.objects.get(pk=westshire.pk).status == "suspended"
    refused = Client(HTTP_HOST="westshire.localhost").get("/account/sign-in/")
    assert refused.status_code == 403 and b"Westshire CSP is suspended" in refused.content
    [event] = public_events("partnership.suspended")
    assert event.object_id == "westshire" and event.actor.email == OPERATOR

    confirm = operator_client.get("/operators/partnerships/westshire/resume/")
    assert confirm.status_code == 200 and b"Resume Westshire CSP?" in confirm.content
    operator_client.post("/operators/partnerships/westshire/resume/")
    assert Partnership.objects.get(pk=westshire.pk).is_active
    assert Client(HTTP_HOST="westshire.localhost").get("/account/sign-in/").status_code == 200
    assert [e.object_id for e in public_events("partnership.resumed")] == ["westshire"]


def test_suspending_suffolk_through_the_page_shows_its_suspended_page(operator_client, suffolk):
    """The brief's own example; restored in a finally block in case the rollback is ever lost."""
    try:
        operator_client.post("/operators/partnerships/suffolk/suspend/")
        response = Client(HTTP_HOST="suffolk.localhost").get("/")
        assert response.status_code == 403 and b"Suffolk Community Safety Partnership is suspended" in response.content
    finally:
        Partnership.objects.filter(pk=suffolk.pk).update(status=Partnership.Status.ACTIVE)


def test_an_unknown_partnership_is_404_and_a_get_never_suspends(operator_client):
    assert operator_client.get("/operators/partnerships/nowhere/").status_code == 404
    assert operator_client.post("/operators/partnerships/nowhere/suspend/").status_code == 404
    assert operator_client.get("/operators/partnerships/suffolk/").status_code == 200


# --- The operators' audit log -----------------------------------------------------------------


def test_the_audit_log_shows_operator_sign_ins_and_partnership_changes(operator_client, westshire):
    operator_client.post("/operators/partnerships/westshire/suspend/")
    page = operator_client.get("/operators/audit/")
    assert page.status_code == 200
    assert b"partnership.suspended" in page.content and b"auth.second_factor" in page.content
    assert OPERATOR.encode() in page.content
    for text in SUFFOLK_PEOPLE:  # Suffolk's own trail stays in Suffolk
        assert text not in page.content
    export = operator_client.get("/operators/audit/export.csv")
    assert export.status_code == 200 and b"partnership.suspended" in b"".join(export.streaming_content)


# --- create_operator ----------------------------------------------------------------------------


def test_create_operator_makes_an_operator_and_prints_a_platform_link(db, capsys):
    call_command("create_operator", "Ops@Example.org", name="Olu Operator")
    out = capsys.readouterr().out
    connection.set_schema_to_public()
    user = User.objects.get(email="ops@example.org")
    assert (user.full_name, user.role, user.has_usable_password()) == ("Olu Operator", "admin", False)
    link = re.search(r"http://localhost:8000(/account/set-password/\S+)", out).group(1)
    [mail] = OutboundEmail.objects.filter(to__contains=["ops@example.org"])
    assert link in mail.body

    # The link sets the password on the platform domain, then asks for an authenticator.
    client = Client(HTTP_HOST="localhost")
    form = client.get(link, follow=True)
    done = client.post(form.redirect_chain[-1][0], NEW_PASSWORD)
    assert done.status_code == 302 and done["Location"] == "/account/two-factor/setup/"
    assert client.get("/operators/")["Location"] == "/account/two-factor/setup/"


def test_create_operator_refuses_a_bad_address(db):
    with pytest.raises(CommandError) as error:
        call_command("create_operator", "not-an-address", name="X")
    assert error.value.returncode == 2 and "is not a valid address" in str(error.value)
    assert not User.objects.filter(email="not-an-address").exists()


def test_create_operator_refuses_a_duplicate_but_a_partnership_user_s_address_is_free(operator):
    with pytest.raises(CommandError) as error:
        call_command("create_operator", OPERATOR.upper(), name="Olu Again")
    assert error.value.returncode == 2 and "\n" not in str(error.value) and "already exists" in str(error.value)
    # Alice is Suffolk's, not public's: the platform may have an operator with her address.
    call_command("create_operator", "alice@suffolk.test", name="Alice Elsewhere")
    connection.set_schema_to_public()
    assert User.objects.filter(email="alice@suffolk.test").count() == 1


def test_create_operator_exits_2_with_one_line():
    result = manage("create_operator", "not-an-address", "--name", "X")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "CommandError: e-mail address 'not-an-address' is not a valid address"
    ]
