"""The partnership admin area (/admin/): users, agencies, teams and settings.

The cast (tests/conftest.py): Alice is Suffolk's admin and may do everything here;
Bob, a Suffolk practitioner, gets 403 on every admin page; Nina is Norfolk's
admin and sees nothing of Suffolk's, even where ids overlap (each schema numbers
its own users from 1, so an id Alice uses in Suffolk names someone else, or
nobody, in Norfolk).

Every test but the e-mail one runs in a transaction that is rolled back.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tenants.utils import schema_context

from tenant_apps.accounts.models import TOTPDevice, User
from tenant_apps.audit.models import AuditEvent
from tenant_apps.directory import urls as directory_urls
from tenant_apps.directory.models import Agency, ApiClient, Membership, Team, TeamMembership
from tests.conftest import PASSWORD, sign_in


def client_for(slug: str) -> Client:
    return Client(HTTP_HOST=f"{slug}.localhost")


def signed_in(slug: str, email: str, *, window: int = 0) -> Client:
    client = client_for(slug)
    sign_in(client, email, window=window)
    return client


def person(schema: str, email: str) -> User:
    with schema_context(schema):
        return User.objects.get(email=email)


def events(schema: str, action: str, object_id) -> list[AuditEvent]:
    with schema_context(schema):
        return list(AuditEvent.objects.filter(action=action, object_id=str(object_id)).order_by("id"))


@pytest.fixture
def suffolk_directory(db):
    """Suffolk's agencies and teams, made in this test's transaction."""
    with schema_context("suffolk"):
        police = Agency.objects.create(name="Suffolk Constabulary", kind=Agency.Kind.POLICE)
        council = Agency.objects.create(name="East Suffolk Council", kind=Agency.Kind.COUNCIL)
        teams = {
            "snt": Team.objects.create(agency=police, name="Safer Neighbourhood Team"),
            "iom": Team.objects.create(agency=police, name="IOM"),
            "asb": Team.objects.create(agency=council, name="ASB Team"),
        }
        account = User.objects.create_user("api-client-test@api-clients.invalid", is_integration=True)
        client = ApiClient.objects.create(
            name="Police RMS", team=teams["snt"], scopes=["profiles:read"], service_account=account
        )
    connection.set_schema_to_public()
    return {"police": police, "council": council, "client": client, **teams}


def url_kwargs(pattern, *, user_id: int, agency_id: int, team_id: int, client_id: int = 1) -> dict:
    values = {"user_id": user_id, "agency_id": agency_id, "team_id": team_id, "client_id": client_id}
    return {name: values[name] for name in pattern.pattern.converters}


def every_admin_url(*, user_id: int, agency_id: int, team_id: int, client_id: int) -> list[str]:
    """Every page of the admin area, from its URLconf (a page added later is covered too)."""
    ids = {"user_id": user_id, "agency_id": agency_id, "team_id": team_id, "client_id": client_id}
    return [reverse(f"directory:{p.name}", kwargs=url_kwargs(p, **ids)) for p in directory_urls.urlpatterns]


ADMIN_URL_NAMES = [p.name for p in directory_urls.urlpatterns]


# --- Who may come in ---------------------------------------------------------------------


def test_both_the_admin_area_and_the_audit_log_resolve_under_admin():
    from django.urls import resolve

    assert resolve("/admin/").view_name == "directory:index"
    assert resolve("/admin/users/").view_name == "directory:user-list"
    assert resolve("/admin/audit/").view_name == "audit:list"
    assert resolve("/admin/audit/export.csv").view_name == "audit:export"


@pytest.mark.parametrize("name", ADMIN_URL_NAMES)
def test_bob_the_practitioner_gets_403_on_every_admin_page_and_changes_nothing(suffolk_directory, name):
    alice = person("suffolk", "alice@suffolk.test")
    pattern = next(p for p in directory_urls.urlpatterns if p.name == name)
    url = reverse(
        f"directory:{name}",
        kwargs=url_kwargs(
            pattern,
            user_id=alice.pk,
            agency_id=suffolk_directory["police"].pk,
            team_id=suffolk_directory["iom"].pk,
            client_id=suffolk_directory["client"].pk,
        ),
    )
    client = signed_in("suffolk", "bob@suffolk.test")
    response = client.get(url)
    assert response.status_code == 403, url
    assert b"You cannot see this page" in response.content
    # A POST with everything a form could want is refused before any work.
    data = {"role": "viewer", "name": "Hijacked", "kind": "other", "agency": suffolk_directory["police"].pk,
            "session_idle_minutes": 480, "full_name": "Mallory", "email": "mallory@suffolk.test"}  # fmt: skip
    assert client.post(url, data).status_code == 403, url
    with schema_context("suffolk"):
        alice.refresh_from_db()
        assert (alice.role, alice.is_active) == ("admin", True)
        assert not User.objects.filter(email="mallory@suffolk.test").exists()
        assert not Agency.objects.filter(name="Hijacked").exists()
        assert not Team.objects.filter(name="Hijacked").exists()


def test_a_viewer_is_refused_too(suffolk_directory):
    with schema_context("suffolk"):
        User.objects.filter(email="bob@suffolk.test").update(role=User.Role.VIEWER)
    client = signed_in("suffolk", "bob@suffolk.test")
    assert client.get("/admin/users/").status_code == 403


@pytest.mark.parametrize("name", ADMIN_URL_NAMES)
def test_anonymous_is_sent_to_sign_in(suffolk_directory, name):
    pattern = next(p for p in directory_urls.urlpatterns if p.name == name)
    url = reverse(f"directory:{name}", kwargs=url_kwargs(pattern, user_id=1, agency_id=1, team_id=1))
    response = client_for("suffolk").get(url)
    assert response.status_code == 302 and response["Location"].startswith("/account/sign-in/?next=")


def test_alice_can_open_every_admin_page(suffolk_directory):
    bob = person("suffolk", "bob@suffolk.test")
    client = signed_in("suffolk", "alice@suffolk.test")
    urls = every_admin_url(
        user_id=bob.pk,
        agency_id=suffolk_directory["police"].pk,
        team_id=suffolk_directory["iom"].pk,
        client_id=suffolk_directory["client"].pk,
    )
    assert len(urls) == len(ADMIN_URL_NAMES) >= 21
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert b'<h1 class="govuk-' in response.content, url  # every page has its heading


def test_unknown_ids_are_404(alice_client):
    for url in ["/admin/users/999999/", "/admin/users/999999/role/", "/admin/agencies/999999/", "/admin/teams/999999/"]:
        assert alice_client.get(url).status_code == 404, url


# --- Agencies and teams ---------------------------------------------------------------------


def test_alice_adds_and_changes_agencies_and_teams_with_clear_errors(alice_client):
    response = alice_client.post("/admin/agencies/new/", {"name": "  Suffolk   Constabulary ", "kind": "police"})
    assert response.status_code == 302 and response["Location"] == "/admin/agencies/"
    with schema_context("suffolk"):
        police = Agency.objects.get(name="Suffolk Constabulary")
    assert police.kind == "police"
    page = alice_client.get("/admin/agencies/")
    assert (
        b"govuk-notification-banner--success" in page.content and b"Suffolk Constabulary has been added" in page.content
    )

    # The same name in other letters: refused, the field named, nothing saved.
    response = alice_client.post("/admin/agencies/new/", {"name": "suffolk constabulary", "kind": "other"})
    assert response.status_code == 200
    assert b"govuk-error-summary" in response.content
    assert b'href="#id_name"' in response.content and b"already an agency with this name" in response.content
    response = alice_client.post("/admin/agencies/new/", {"name": "", "kind": "wizards"})
    assert b'href="#id_name"' in response.content and b'href="#id_kind"' in response.content
    with schema_context("suffolk"):
        assert Agency.objects.count() == 1

    response = alice_client.post(f"/admin/agencies/{police.pk}/", {"name": "Suffolk Police", "kind": "police"})
    assert response.status_code == 302
    [updated] = events("suffolk", "agency.updated", police.pk)
    assert updated.changes == {"name": ["Suffolk Constabulary", "Suffolk Police"]}
    assert events("suffolk", "agency.created", police.pk)[0].changes == {
        "name": [None, "Suffolk Constabulary"],
        "kind": [None, "police"],
    }

    response = alice_client.post("/admin/teams/new/", {"agency": police.pk, "name": "IOM"})
    assert response.status_code == 302 and response["Location"] == f"/admin/agencies/#agency-{police.pk}"
    response = alice_client.post("/admin/teams/new/", {"agency": police.pk, "name": "iom"})
    assert response.status_code == 200 and b"already has a team with this name" in response.content
    response = alice_client.post("/admin/teams/new/", {"agency": 999999, "name": "Ghosts"})
    assert response.status_code == 200 and b'href="#id_agency"' in response.content
    alice_client.post("/admin/agencies/new/", {"name": "Probation Service", "kind": "probation"})
    with schema_context("suffolk"):
        probation = Agency.objects.get(name="Probation Service")
    # The same team name in another agency is fine (multi-agency IOM).
    assert alice_client.post("/admin/teams/new/", {"agency": probation.pk, "name": "IOM"}).status_code == 302
    with schema_context("suffolk"):
        team = Team.objects.get(agency=police, name="IOM")
        assert Team.objects.filter(name="IOM").count() == 2
    response = alice_client.post(f"/admin/teams/{team.pk}/", {"agency": police.pk, "name": "Integrated Offender Mgmt"})
    assert response.status_code == 302
    assert events("suffolk", "team.updated", team.pk)[0].changes == {"name": ["IOM", "Integrated Offender Mgmt"]}
    assert len(events("suffolk", "team.created", team.pk)) == 1
    listing = alice_client.get("/admin/agencies/").content.decode()
    assert "Suffolk Police" in listing and "Integrated Offender Mgmt" in listing and "Probation Service" in listing


# --- Inviting ----------------------------------------------------------------------------


def test_inviting_creates_the_account_with_role_agency_and_teams_and_queues_the_email(alice_client, suffolk_directory):
    from tenant_apps.outbox.models import OutboundEmail

    d = suffolk_directory
    response = alice_client.post(
        "/admin/users/invite/",
        {"full_name": "Carol Clark", "email": "Carol@Suffolk.test", "role": "practitioner",
         "agency": d["council"].pk, "teams": [d["asb"].pk, d["iom"].pk]},
    )  # fmt: skip
    assert response.status_code == 302
    with schema_context("suffolk"):
        carol = User.objects.get(email="carol@suffolk.test")
        assert response["Location"] == f"/admin/users/{carol.pk}/"
        assert (carol.full_name, carol.role, carol.has_usable_password()) == ("Carol Clark", "practitioner", False)
        assert Membership.objects.get(user=carol).agency == d["council"]
        assert set(carol.teams.all()) == {d["asb"], d["iom"]}
        [mail] = OutboundEmail.objects.filter(to=["carol@suffolk.test"])
        assert "/account/set-password/" in mail.body
    page = alice_client.get(response["Location"]).content.decode()
    assert "Invitation sent to carol@suffolk.test" in page and "Invited" in page
    assert "Send the invitation again" in page
    assert len(events("suffolk", "user.invited", carol.pk)) == 1
    [teams_event] = events("suffolk", "user.teams_changed", carol.pk)
    assert teams_event.changes == {"teams": [[], ["East Suffolk Council: ASB Team", "Suffolk Constabulary: IOM"]]}
    assert teams_event.actor_label == "alice@suffolk.test"
    assert events("suffolk", "user.agency_changed", carol.pk)[0].changes == {"agency": [None, "East Suffolk Council"]}


def test_a_bad_invitation_names_each_field_and_creates_nothing(alice_client, suffolk_directory):
    from tenant_apps.outbox.models import OutboundEmail

    with schema_context("suffolk"):
        users_before, mails_before = User.objects.count(), OutboundEmail.objects.count()
    response = alice_client.post(
        "/admin/users/invite/", {"full_name": "", "email": "not-an-address", "role": "", "teams": [999999]}
    )
    assert response.status_code == 200
    html = response.content.decode()
    for field in ("id_full_name", "id_email", "id_role", "id_teams"):
        assert f'href="#{field}"' in html, field
        assert f'id="{field}"' in html, field  # the summary's link has somewhere to go
    assert 'for="id_full_name"' in html and 'aria-describedby="id_email_helptext id_email_error"' in html
    assert html.count("govuk-form-group--error") == 4

    # An address someone in the partnership already has: refused on the e-mail field.
    response = alice_client.post(
        "/admin/users/invite/", {"full_name": "Bob Again", "email": "BOB@suffolk.test", "role": "viewer"}
    )
    assert response.status_code == 200 and b'href="#id_email"' in response.content
    assert b"already has this e-mail address" in response.content
    with schema_context("suffolk"):
        assert (User.objects.count(), OutboundEmail.objects.count()) == (users_before, mails_before)


def run_mail_jobs() -> None:
    """Run a worker in this process until no job is due (as tests/test_jobs_and_mail.py does)."""
    from procrastinate.contrib.django import app

    connection.set_schema_to_public()
    with app.replace_connector(app.connector.get_worker_connector()):
        app.run_worker(queues=["mail"], wait=False, install_signal_handlers=False, listen_notify=False)


def _query(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def test_the_invitation_email_arrives_and_its_link_sets_a_password_then_asks_for_a_second_factor(
    committed_db, smtp_server
):
    """Real SMTP, a real worker: so the rows are committed, and removed (or deactivated) afterwards."""
    from tenant_apps.outbox.models import OutboundEmail

    email = f"invitee-{uuid.uuid4().hex[:10]}@suffolk.test"
    suffix = uuid.uuid4().hex[:6]
    connection.set_schema_to_public()
    first_job = _query("SELECT coalesce(max(id), 0) FROM procrastinate_jobs")[0][0]
    first_worker = _query("SELECT coalesce(max(id), 0) FROM procrastinate_workers")[0][0]
    with schema_context("suffolk"):
        alice_device = TOTPDevice.objects.get(user__email="alice@suffolk.test", confirmed=True)
        agency = Agency.objects.create(name=f"Invite test agency {suffix}", kind=Agency.Kind.CHARITY)
        team = Team.objects.create(agency=agency, name="Outreach")
    try:
        alice = client_for("suffolk")
        sign_in(alice, "alice@suffolk.test")
        response = alice.post(
            "/admin/users/invite/",
            {
                "full_name": "Ivy Invitee",
                "email": email,
                "role": "practitioner",
                "agency": agency.pk,
                "teams": [team.pk],
            },
        )
        assert response.status_code == 302, response.content[:2000]

        run_mail_jobs()
        deadline_messages = smtp_server.wait_for(1)
        [message] = [m for m in deadline_messages if m["To"] == email]
        assert message["Subject"] == "You have been invited to Suffolk Community Safety Partnership on Concord"
        body = message.get_body(("plain",)).get_content()
        link = re.search(r"https?://\S+/account/set-password/\S+/", body).group(0)
        assert urlsplit(link).netloc == "suffolk.localhost:8000"

        invitee = client_for("suffolk")
        response = invitee.get(urlsplit(link).path)
        assert response.status_code == 302  # Django moves the token into the session
        form_url = response["Location"]
        assert b"Set your password" in invitee.get(form_url).content
        response = invitee.post(form_url, {"new_password1": PASSWORD, "new_password2": PASSWORD})
        assert response.status_code == 302 and response["Location"] == "/account/two-factor/setup/"
        assert b"authenticator" in invitee.get("/account/two-factor/setup/").content.lower()
        # Not in yet: every other page still wants the second factor.
        assert invitee.get("/").status_code == 302
        with schema_context("suffolk"):
            ivy = User.objects.get(email=email)
            assert ivy.has_usable_password() and ivy.check_password(PASSWORD)
            assert ivy.membership.agency == agency and list(ivy.teams.all()) == [team]
    finally:
        connection.set_schema_to_public()
        _query("DELETE FROM procrastinate_periodic_defers WHERE job_id > %s", [first_job])
        _query("DELETE FROM procrastinate_jobs WHERE id > %s", [first_job])
        _query("DELETE FROM procrastinate_workers WHERE id > %s", [first_worker])
        with schema_context("suffolk"):
            # The invitee has audit events (kept for ever), so the account stays, deactivated.
            TeamMembership.objects.filter(team=team).delete()
            Membership.objects.filter(agency=agency).delete()
            team.delete()
            agency.delete()
            User.objects.filter(email=email).update(is_active=False)
            OutboundEmail.objects.filter(to=[email]).delete()
            # Alice's code may be used again by later tests within the same 30 seconds.
            TOTPDevice.objects.filter(pk=alice_device.pk).update(last_t=alice_device.last_t, drift=alice_device.drift)
        connection.set_schema_to_public()


def test_the_invitation_is_resent_only_while_pending(alice_client):
    from tenant_apps.outbox.models import OutboundEmail

    alice_client.post("/admin/users/invite/", {"full_name": "Dee Day", "email": "dee@suffolk.test", "role": "viewer"})
    dee, bob = person("suffolk", "dee@suffolk.test"), person("suffolk", "bob@suffolk.test")
    page = alice_client.get(f"/admin/users/{dee.pk}/resend-invitation/")
    assert page.status_code == 200 and b"Send the invitation again?" in page.content
    response = alice_client.post(f"/admin/users/{dee.pk}/resend-invitation/")
    assert response.status_code == 302 and response["Location"] == f"/admin/users/{dee.pk}/"
    with schema_context("suffolk"):
        assert OutboundEmail.objects.filter(to=["dee@suffolk.test"]).count() == 2
    assert len(events("suffolk", "user.invited", dee.pk)) == 2
    # Bob has a password: nothing to re-send.
    response = alice_client.post(f"/admin/users/{bob.pk}/resend-invitation/")
    assert response.status_code == 200 and b"govuk-error-summary" in response.content
    assert b"already set a password" in response.content
    assert events("suffolk", "user.invited", bob.pk) == []


# --- Roles, agencies and teams of users ------------------------------------------------------


def test_alice_changes_bobs_role_agency_and_teams_and_each_change_is_audited(alice_client, suffolk_directory):
    d = suffolk_directory
    bob = person("suffolk", "bob@suffolk.test")
    response = alice_client.post(f"/admin/users/{bob.pk}/role/", {"role": "viewer"})
    assert response.status_code == 302 and response["Location"] == f"/admin/users/{bob.pk}/"
    assert b"role has been saved" in alice_client.get(response["Location"]).content
    [role_event] = events("suffolk", "user.role_changed", bob.pk)
    assert role_event.changes == {"role": ["practitioner", "viewer"]}
    assert role_event.actor_label == "alice@suffolk.test"

    url = f"/admin/users/{bob.pk}/agency-and-teams/"
    response = alice_client.post(url, {"agency": d["police"].pk, "teams": [d["snt"].pk, d["asb"].pk]})
    assert response.status_code == 302
    response = alice_client.post(url, {"agency": d["police"].pk, "teams": [d["snt"].pk, d["iom"].pk]})
    assert response.status_code == 302
    with schema_context("suffolk"):
        bob.refresh_from_db()
        assert bob.role == "viewer"
        assert bob.membership.agency == d["police"]
        assert set(bob.teams.all()) == {d["snt"], d["iom"]}
    team_events = events("suffolk", "user.teams_changed", bob.pk)
    assert [e.changes["teams"] for e in team_events] == [
        [[], ["East Suffolk Council: ASB Team", "Suffolk Constabulary: Safer Neighbourhood Team"]],
        [
            ["East Suffolk Council: ASB Team", "Suffolk Constabulary: Safer Neighbourhood Team"],
            ["Suffolk Constabulary: IOM", "Suffolk Constabulary: Safer Neighbourhood Team"],
        ],
    ]
    # Saving the same again records nothing new.
    alice_client.post(url, {"agency": d["police"].pk, "teams": [d["snt"].pk, d["iom"].pk]})
    assert len(events("suffolk", "user.teams_changed", bob.pk)) == 2
    assert len(events("suffolk", "user.agency_changed", bob.pk)) == 1

    page = alice_client.get(f"/admin/users/{bob.pk}/").content.decode()
    assert "Suffolk Constabulary" in page and "IOM (Suffolk Constabulary)" in page and "Viewer" in page

    # No agency: the membership goes.
    alice_client.post(url, {"agency": "", "teams": []})
    with schema_context("suffolk"):
        assert not Membership.objects.filter(user=bob).exists() and not bob.teams.exists()


def test_bad_role_or_team_input_names_the_field_and_saves_nothing(alice_client, suffolk_directory):
    bob = person("suffolk", "bob@suffolk.test")
    response = alice_client.post(f"/admin/users/{bob.pk}/role/", {"role": "wizard"})
    assert response.status_code == 200 and b'href="#id_role"' in response.content
    assert b'id="id_role"' in response.content
    response = alice_client.post(f"/admin/users/{bob.pk}/agency-and-teams/", {"agency": 999999, "teams": ["x"]})
    assert response.status_code == 200
    assert b'href="#id_agency"' in response.content and b'href="#id_teams"' in response.content
    with schema_context("suffolk"):
        bob.refresh_from_db()
        assert bob.role == "practitioner" and not Membership.objects.filter(user=bob).exists()
    assert events("suffolk", "user.role_changed", bob.pk) == []


def _only_admin_in_suffolk_is_alice():
    with schema_context("suffolk"):
        User.objects.filter(role="admin").exclude(email="alice@suffolk.test").update(role="practitioner")


def test_the_last_admin_cannot_be_demoted_or_deactivated(alice_client):
    _only_admin_in_suffolk_is_alice()
    alice, bob = person("suffolk", "alice@suffolk.test"), person("suffolk", "bob@suffolk.test")
    response = alice_client.post(f"/admin/users/{alice.pk}/role/", {"role": "practitioner"})
    assert response.status_code == 200
    assert b'href="#id_role"' in response.content and b"only active admin" in response.content
    response = alice_client.post(f"/admin/users/{alice.pk}/deactivate/")
    assert response.status_code == 200 and b"cannot deactivate your own account" in response.content
    with schema_context("suffolk"):
        alice.refresh_from_db()
        assert (alice.role, alice.is_active) == ("admin", True)

    # With a second admin, Alice may step down (and then loses the admin area).
    assert alice_client.post(f"/admin/users/{bob.pk}/role/", {"role": "admin"}).status_code == 302
    response = alice_client.post(f"/admin/users/{alice.pk}/role/", {"role": "practitioner"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert alice_client.get("/admin/users/").status_code == 403
    with schema_context("suffolk"):
        assert list(User.objects.filter(role="admin", is_active=True).values_list("email", flat=True)) == [
            "bob@suffolk.test"
        ]


def _service_request(user):
    """A request as the services see one: Suffolk's, from ``user``."""
    from django.test import RequestFactory

    from tenants.models import Partnership

    request = RequestFactory().post("/admin/", HTTP_HOST="suffolk.localhost")
    request.tenant = Partnership.objects.get(schema_name="suffolk")
    request.user = user
    return request


def test_the_services_refuse_the_last_active_admin_and_anyone_not_an_admin(db):
    """Two admins removing each other at the same moment: the second one's request finds,
    under lock, that the other is now the last active admin, and is refused."""
    from django.core.exceptions import PermissionDenied, ValidationError

    from tenant_apps.directory import services

    _only_admin_in_suffolk_is_alice()
    request_of = {}
    with schema_context("suffolk"):
        alice, bob = User.objects.get(email="alice@suffolk.test"), User.objects.get(email="bob@suffolk.test")
        dan = User.objects.create_user("dan@suffolk.test", role="admin")
        User.objects.create_user("carol@suffolk.test", role="admin", is_active=False)  # does not count
        request_of["dan"] = _service_request(dan)
        User.objects.filter(pk=dan.pk).update(is_active=False)  # meanwhile, Dan was deactivated
        with pytest.raises(ValidationError, match="only active admin"):
            services.user_deactivate(request=request_of["dan"], user=alice)
        with pytest.raises(ValidationError, match="only active admin"):
            services.user_set_role(request=request_of["dan"], user=alice, role="viewer")
        with pytest.raises(PermissionDenied):
            services.user_set_role(request=_service_request(bob), user=bob, role="admin")
        alice.refresh_from_db()
        bob.refresh_from_db()
        assert (alice.role, alice.is_active, bob.role) == ("admin", True, "practitioner")


# --- Deactivation, reactivation and second factors ------------------------------------------


def test_deactivating_a_signed_in_user_ends_their_session_at_once(alice_client):
    bob = person("suffolk", "bob@suffolk.test")
    bob_client = signed_in("suffolk", "bob@suffolk.test")
    assert bob_client.get("/").status_code == 200

    page = alice_client.get(f"/admin/users/{bob.pk}/deactivate/")
    assert page.status_code == 200 and b"Deactivate this account?" in page.content
    with schema_context("suffolk"):
        assert User.objects.get(pk=bob.pk).is_active  # the confirmation page changes nothing
    response = alice_client.post(f"/admin/users/{bob.pk}/deactivate/")
    assert response.status_code == 302 and response["Location"] == f"/admin/users/{bob.pk}/"
    assert b"has been deactivated and signed out" in alice_client.get(response["Location"]).content

    response = bob_client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/account/sign-in/")
    refused = bob_client.post("/account/sign-in/", {"email": "bob@suffolk.test", "password": PASSWORD})
    assert refused.status_code == 200  # a deactivated account cannot sign in
    [event] = events("suffolk", "user.deactivated", bob.pk)
    assert event.changes == {"is_active": [True, False]} and event.actor_label == "alice@suffolk.test"
    deactivated = alice_client.get("/admin/users/?status=deactivated").content.decode()
    assert "bob@suffolk.test" in deactivated

    response = alice_client.post(f"/admin/users/{bob.pk}/reactivate/")
    assert response.status_code == 302
    [event] = events("suffolk", "user.reactivated", bob.pk)
    assert event.changes == {"is_active": [False, True]}
    sign_in(client_for("suffolk"), "bob@suffolk.test", window=1)  # he can sign in again


def test_resetting_a_second_factor_needs_confirmation_and_ends_their_sessions(alice_client):
    bob = person("suffolk", "bob@suffolk.test")
    bob_client = signed_in("suffolk", "bob@suffolk.test")
    page = alice_client.get(f"/admin/users/{bob.pk}/reset-second-factor/")
    assert page.status_code == 200 and b"Reset their second factor?" in page.content
    with schema_context("suffolk"):
        assert TOTPDevice.objects.filter(user=bob).exists()
    response = alice_client.post(f"/admin/users/{bob.pk}/reset-second-factor/")
    assert response.status_code == 302
    with schema_context("suffolk"):
        assert not TOTPDevice.objects.filter(user=bob).exists()
    assert bob_client.get("/").status_code == 302
    [event] = events("suffolk", "otp.reset", bob.pk)
    assert event.actor_label == "alice@suffolk.test"
    # Next sign-in: password, then enrolment.
    first = bob_client.post("/account/sign-in/", {"email": "bob@suffolk.test", "password": PASSWORD})
    assert first["Location"] == "/account/two-factor/setup/"


def test_alice_cannot_deactivate_or_reset_herself(alice_client):
    alice = person("suffolk", "alice@suffolk.test")
    assert b"cannot deactivate your own" in alice_client.post(f"/admin/users/{alice.pk}/deactivate/").content
    assert b"cannot reset your own" in alice_client.post(f"/admin/users/{alice.pk}/reset-second-factor/").content
    with schema_context("suffolk"):
        assert TOTPDevice.objects.filter(user=alice).exists() and User.objects.get(pk=alice.pk).is_active


# --- The users list -------------------------------------------------------------------------


def test_the_users_list_shows_and_filters(alice_client, suffolk_directory):
    d = suffolk_directory
    with schema_context("suffolk"):
        bob = User.objects.get(email="bob@suffolk.test")
        Membership.objects.create(user=bob, agency=d["police"])
        TeamMembership.objects.create(user=bob, team=d["iom"])
        User.objects.create_user("pending@suffolk.test", full_name="Penny Pending", role="viewer")
        User.objects.create_user("gone@suffolk.test", password=PASSWORD, full_name="Gus Gone", is_active=False)
    page = alice_client.get("/admin/users/").content.decode()
    for text in ("Alice Adams", "bob@suffolk.test", "Suffolk Constabulary", "IOM (Suffolk Constabulary)",
                 "Practitioner", "Partnership admin", "Penny Pending", "Invited", "Deactivated", "Never"):  # fmt: skip
        assert text in page, text

    def names(query: str) -> set[str]:
        html = alice_client.get(f"/admin/users/?{query}").content.decode()
        return set(re.findall(r"[a-z]+@suffolk\.test", html)) & {
            "alice@suffolk.test", "bob@suffolk.test", "pending@suffolk.test", "gone@suffolk.test",
        }  # fmt: skip

    assert names("status=pending") == {"pending@suffolk.test"}
    assert names("status=deactivated") == {"gone@suffolk.test"}
    assert "pending@suffolk.test" not in names("status=active") and "bob@suffolk.test" in names("status=active")
    assert names("role=admin") == {"alice@suffolk.test"}
    assert names(f"team={d['iom'].pk}") == {"bob@suffolk.test"}
    assert names(f"agency={d['police'].pk}") == {"bob@suffolk.test"}
    assert names("q=BROWN") == {"bob@suffolk.test"}
    assert names("q=gone%40suf") == {"gone@suffolk.test"}
    response = alice_client.get("/admin/users/?team=999999&role=wizard")
    assert b'href="#id_team"' in response.content and b'href="#id_role"' in response.content


def test_the_users_list_runs_as_many_queries_for_twenty_two_users_as_for_two(
    alice_client, suffolk_directory, django_assert_num_queries
):
    d = suffolk_directory
    with schema_context("suffolk"):
        shared = Team.objects.create(agency=d["council"], name="Everyone")
        for email in ("alice@suffolk.test", "bob@suffolk.test"):
            user = User.objects.get(email=email)
            Membership.objects.create(user=user, agency=d["police"])
            TeamMembership.objects.bulk_create(
                [TeamMembership(user=user, team=shared), TeamMembership(user=user, team=d["iom"])]
            )
    url = f"/admin/users/?team={shared.pk}"
    assert alice_client.get(url).status_code == 200  # warm the per-process caches (idle timeout)
    with CaptureQueriesContext(connection) as two:
        page = alice_client.get(url)
    assert page.content.decode().count('class="govuk-table__row"') == 1 + 2

    with schema_context("suffolk"):
        agencies = [d["police"], d["council"]]
        for i in range(20):
            user = User.objects.create_user(f"extra{i}@suffolk.test", password=PASSWORD, full_name=f"Extra {i}")
            Membership.objects.create(user=user, agency=agencies[i % 2])
            teams = [shared, d["snt"] if i % 2 else d["asb"]] + ([d["iom"]] if i % 3 == 0 else [])
            TeamMembership.objects.bulk_create(TeamMembership(user=user, team=team) for team in teams)
    with django_assert_num_queries(len(two)):
        page = alice_client.get(url)
    assert page.content.decode().count('class="govuk-table__row"') == 1 + 22
    # And the whole list, whatever else is in Suffolk.
    alice_client.get("/admin/users/")
    with CaptureQueriesContext(connection) as everyone:
        alice_client.get("/admin/users/")
    assert len(everyone) == len(two)


# --- Norfolk sees nothing of Suffolk's ---------------------------------------------------------


def test_nina_sees_none_of_suffolks_users_agencies_or_teams(suffolk_directory):
    with schema_context("suffolk"):
        Membership.objects.create(user=User.objects.get(email="bob@suffolk.test"), agency=suffolk_directory["police"])
    nina = signed_in("norfolk", "nina@norfolk.test")
    pages = [nina.get(url).content.decode() for url in ["/admin/users/", "/admin/agencies/", "/admin/users/invite/",
                                                         "/admin/teams/new/", "/admin/users/?q=suffolk"]]  # fmt: skip
    for html in pages:
        for secret in ("alice@suffolk.test", "bob@suffolk.test", "Suffolk Constabulary", "East Suffolk Council",
                       "Safer Neighbourhood Team", "ASB Team"):  # fmt: skip
            assert secret not in html
    with schema_context("norfolk"):
        norfolk_agency_ids = set(Agency.objects.values_list("pk", flat=True))
        norfolk_team_ids = set(Team.objects.values_list("pk", flat=True))
    police, asb = suffolk_directory["police"], suffolk_directory["asb"]
    if police.pk not in norfolk_agency_ids:
        assert nina.get(f"/admin/agencies/{police.pk}/").status_code == 404
        response = nina.post(f"/admin/agencies/{police.pk}/", {"name": "Renamed by Norfolk", "kind": "other"})
        assert response.status_code == 404
    if asb.pk not in norfolk_team_ids:
        assert nina.post(f"/admin/teams/{asb.pk}/", {"agency": police.pk, "name": "Taken"}).status_code == 404
    with schema_context("suffolk"):
        assert Agency.objects.get(pk=police.pk).name == "Suffolk Constabulary"
        assert Team.objects.get(pk=asb.pk).name == "ASB Team"
    # Alice's Suffolk session means nothing on Norfolk's host.
    alice = signed_in("suffolk", "alice@suffolk.test")
    alice.defaults["HTTP_HOST"] = "norfolk.localhost"
    assert alice.get("/admin/users/").status_code == 302


def test_an_id_on_norfolks_host_names_norfolks_user_never_suffolks(db):
    """Bob's id in Suffolk is another person's id in Norfolk: Nina acting on it changes
    Norfolk's person and never Bob."""
    bob = person("suffolk", "bob@suffolk.test")
    with schema_context("norfolk"):
        twin = User.objects.filter(pk=bob.pk).first()
        if twin is None:
            twin = User.objects.create_user(
                "twin@norfolk.test", id=bob.pk, full_name="Norfolk Twin", role="practitioner"
            )
        else:  # left by an earlier committed test: put it in the state this test expects
            User.objects.filter(pk=twin.pk).update(role="practitioner", is_active=True)
        assert twin.email != "nina@norfolk.test"
    nina = signed_in("norfolk", "nina@norfolk.test")
    page = nina.get(f"/admin/users/{bob.pk}/").content.decode()
    assert twin.email in page and "bob@suffolk.test" not in page and "Bob Brown" not in page

    assert nina.post(f"/admin/users/{bob.pk}/role/", {"role": "viewer"}).status_code == 302
    assert nina.post(f"/admin/users/{bob.pk}/deactivate/").status_code == 302
    assert nina.post(f"/admin/users/{bob.pk}/reset-second-factor/").status_code == 302
    with schema_context("norfolk"):
        twin.refresh_from_db()
        assert (twin.role, twin.is_active) == ("viewer", False)
    with schema_context("suffolk"):
        bob.refresh_from_db()
        assert (bob.role, bob.is_active, bob.sessions_valid_after) == ("practitioner", True, None)
        assert TOTPDevice.objects.filter(user=bob, confirmed=True).exists()
    # The events are Norfolk's, naming Norfolk's person; Suffolk has none about Bob.
    assert [e.actor_label for e in events("norfolk", "user.role_changed", bob.pk)] == ["nina@norfolk.test"]
    assert events("suffolk", "user.role_changed", bob.pk) == []
    assert events("suffolk", "user.deactivated", bob.pk) == []
    assert events("suffolk", "otp.reset", bob.pk) == []


# --- Partnership settings -----------------------------------------------------------------------


@pytest.fixture
def _forget_idle_timeout():
    yield
    cache.clear()  # the idle timeout is cached 30 s per process; the test's value was rolled back


def test_the_idle_timeout_is_set_between_5_and_480_minutes(alice_client, _forget_idle_timeout):
    from tenant_apps.accounts.models import SecuritySettings

    with schema_context("suffolk"):
        before = SecuritySettings.current().session_idle_minutes
    for bad in ("4", "481", "ten", ""):
        response = alice_client.post("/admin/settings/", {"session_idle_minutes": bad})
        assert response.status_code == 200, bad
        assert b'href="#id_session_idle_minutes"' in response.content, bad
    with schema_context("suffolk"):
        assert SecuritySettings.current().session_idle_minutes == before
    response = alice_client.post("/admin/settings/", {"session_idle_minutes": "45"})
    assert response.status_code == 302 and response["Location"] == "/admin/settings/"
    page = alice_client.get("/admin/settings/").content.decode()
    assert "signed out after 45 minutes" in page and 'value="45"' in page
    with schema_context("suffolk"):
        assert SecuritySettings.current().session_idle_minutes == 45
        event = AuditEvent.objects.filter(action="settings.session_timeout_changed").order_by("-id").first()
    assert event.changes == {"session_idle_minutes": [before, 45]} and event.actor_label == "alice@suffolk.test"


# --- The demo seed --------------------------------------------------------------------------


def test_the_demo_seed_is_idempotent(db):
    from tenant_apps.directory.demo import DEMO_AGENCIES, directory_seed_demo

    with schema_context("norfolk"):
        for _ in range(2):
            directory_seed_demo(people={"nina@norfolk.test": ("District Council", ["ASB Team"])})
        assert Agency.objects.filter(name__in=[name for name, _, _ in DEMO_AGENCIES]).count() == len(DEMO_AGENCIES)
        nina = User.objects.get(email="nina@norfolk.test")
        assert nina.membership.agency.name == "District Council"
        assert [t.name for t in nina.teams.all()] == ["ASB Team"]
        assert Team.objects.filter(name="IOM").count() == 2
