"""API clients: partner systems calling the API with a token (issue 10, point 10).

The cast (tests/conftest.py ``cast``, in Suffolk, rolled back per test):
- Alice, partnership admin, issues, rotates and revokes clients at /admin/api-clients/.
- "Police RMS" acts for the police's Safer Neighbourhood Team (Dan and Erin's team): it must see
  exactly what Dan sees, no more (a profile of the council's ASB Team shared only with the
  Community Safety Team is 404 to both), and only within its scopes.
- Bob (practitioner) may not reach the admin pages; Nina, Norfolk's admin, sees none of Suffolk's
  clients, and a Suffolk token is unknown on Norfolk's host.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import uuid

from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from concord.api import ANY_CLIENT, AREAS, BaseApi
from tenant_apps.accounts.models import User
from tenant_apps.audit.models import AuditEvent
from tenant_apps.directory import services
from tenant_apps.directory.models import (
    Agency,
    ApiClient,
    ApiClientWindow,
    ApiToken,
    Membership,
    Team,
    TeamMembership,
)
from tests.audit_helpers import remove_events
from tests.conftest import PASSWORD, sign_in

API = "/api/v1"
TOKEN = re.compile(r"concord_suffolk_[A-Za-z0-9]{12}_[A-Za-z0-9]{40}")


def fake_request(user, slug: str = "suffolk"):
    """A request as the admin pages make it, for issuing through the service directly."""
    from tenants.models import Partnership

    request = RequestFactory().post("/admin/api-clients/new/", HTTP_HOST=f"{slug}.localhost")
    request.user = user
    request.tenant = Partnership.objects.get(schema_name=slug)
    return request


def issue(cast, *, name="Police RMS", team="snt", scopes=("profiles:read",), days=30):
    with schema_context("suffolk"):
        return services.api_client_issue(
            request=fake_request(cast["alice"]),
            name=name,
            team=cast[team],
            scopes=list(scopes),
            expires_on=timezone.localdate() + dt.timedelta(days=days),
        )


def bearer(token: str, slug: str = "suffolk") -> Client:
    """A partner system: a token, no cookies, and CSRF checked as for a browser (it never applies)."""
    return Client(HTTP_HOST=f"{slug}.localhost", enforce_csrf_checks=True, headers={"Authorization": f"Bearer {token}"})


def make_profile(cast, *, owner="asb", share_with=None, **fields):
    from tenant_apps.casework import services as casework

    defaults = {"first_name": "Kyle", "last_name": "Brennan", "date_of_birth": dt.date(2001, 5, 17)}
    with schema_context("suffolk"):
        profile = casework.profile_create(user=cast["bob"], owning_team=cast[owner], **{**defaults, **fields})
        if share_with:
            casework.share_grant(user=cast["bob"], profile=profile, team=cast[share_with])
        return profile


def events(action: str, **filters) -> list[AuditEvent]:
    with schema_context("suffolk"):
        return list(AuditEvent.objects.filter(action=action, **filters).select_related("actor").order_by("id"))


# --- Issuing, from the admin pages -----------------------------------------------------------


def test_an_admin_issues_a_client_and_sees_its_token_once_never_stored_in_clear(cast, alice_client):
    assert b"API clients" in alice_client.get("/admin/").content
    assert alice_client.get("/admin/api-clients/new/").status_code == 200
    expires = timezone.localdate() + dt.timedelta(days=90)
    response = alice_client.post(
        "/admin/api-clients/new/",
        {"name": "Police RMS", "team": cast["snt"].pk, "scopes": ["profiles:write", "cases:read"],
         "expires_on": expires.isoformat()},
    )  # fmt: skip
    assert response.status_code == 200, response.content[:2000]
    [token] = TOKEN.findall(response.content.decode())
    assert b"shown only once" in response.content
    with schema_context("suffolk"):
        client = ApiClient.objects.select_related("service_account").get(name="Police RMS")
        row = ApiToken.objects.get(client=client)
        # Write includes read; the role follows the scopes (a write: practitioner).
        assert client.scopes == ["profiles:read", "profiles:write", "cases:read"]
        account = client.service_account
        assert account.is_integration and not account.has_usable_password() and account.role == "practitioner"
        assert account.full_name == "API client: Police RMS"
        assert list(account.teams.all()) == [cast["snt"]] and account.membership.agency == cast["police"]
        # Never in clear: not in the token's row, nor anywhere in the audit trail.
        stored = [str(value) for value in ApiToken.objects.filter(pk=row.pk).values().get().values()]
        assert token not in " ".join(stored) and token.rsplit("_", 1)[1] not in " ".join(stored)
        assert len(row.digest) == 64 and row.lookup in token
        assert row.expires_at == timezone.make_aware(dt.datetime.combine(expires + dt.timedelta(days=1), dt.time.min))
        trail = " ".join(f"{e.summary} {e.changes}" for e in AuditEvent.objects.all())
        assert token.rsplit("_", 1)[1] not in trail
    [issued] = events("api_client.issued", object_id=str(client.pk))
    assert issued.actor == cast["alice"] and "API client: Police RMS" in issued.summary
    # Shown once: the client's page and list show its start, never the secret.
    detail = alice_client.get(f"/admin/api-clients/{client.pk}/").content.decode()
    listing = alice_client.get("/admin/api-clients/").content.decode()
    assert "Police RMS" in listing and "Safer Neighbourhood Team" in listing and "Active" in listing
    assert row.lookup in detail and token not in detail and token not in listing
    assert "Profiles: read and write" in detail and "Cases: read" in detail
    # The token works.
    assert bearer(token).get(f"{API}/me/").json()["full_name"] == "API client: Police RMS"


def test_bad_input_names_the_field_and_creates_nothing(cast, alice_client):
    today = timezone.localdate()
    response = alice_client.post("/admin/api-clients/new/", {"name": " ", "expires_on": "31/02/2027"})
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"name", "team", "scopes", "expires_on"}
    too_late = (today + dt.timedelta(days=366)).isoformat()
    response = alice_client.post(
        "/admin/api-clients/new/",
        {"name": "Housing", "team": cast["asb"].pk, "scopes": ["search:write"], "expires_on": too_late},
    )
    assert list(response.context["form"].errors) == ["scopes"]  # there is no search:write
    response = alice_client.post(
        "/admin/api-clients/new/",
        {"name": "Housing", "team": cast["asb"].pk, "scopes": ["search:read"], "expires_on": too_late},
    )
    assert list(response.context["form"].errors) == ["expires_on"]
    assert "within 365 days" in str(response.context["form"].errors["expires_on"])
    response = alice_client.post(
        "/admin/api-clients/new/",
        {"name": "Housing", "team": cast["asb"].pk, "scopes": ["search:read"], "expires_on": today.isoformat()},
    )
    assert "must be in the future" in str(response.context["form"].errors["expires_on"])
    issue(cast, name="Housing")
    response = alice_client.post(
        "/admin/api-clients/new/",
        {"name": "housing", "team": cast["asb"].pk, "scopes": ["search:read"],
         "expires_on": (today + dt.timedelta(days=10)).isoformat()},
    )  # fmt: skip
    assert list(response.context["form"].errors) == ["name"] and b"govuk-error-summary" in response.content
    with schema_context("suffolk"):
        assert ApiClient.objects.count() == 1
        assert User.objects.filter(is_integration=True, is_active=True).count() == 1
    # The rotate form names its fields too.
    with schema_context("suffolk"):
        client = ApiClient.objects.get(name="Housing")
    response = alice_client.post(f"/admin/api-clients/{client.pk}/rotate/", {"old_token_ends": "week"})
    assert set(response.context["form"].errors) == {"expires_on", "old_token_ends"}


def test_the_admin_pages_are_for_this_partnerships_admins_only(cast, norfolk_client):
    issued = issue(cast)
    pk = issued.client.pk
    pages = ["/admin/api-clients/", "/admin/api-clients/new/", f"/admin/api-clients/{pk}/",
             f"/admin/api-clients/{pk}/rotate/", f"/admin/api-clients/{pk}/revoke/"]  # fmt: skip
    bob = Client(HTTP_HOST="suffolk.localhost")
    sign_in(bob, "bob@suffolk.test")
    for page in pages:
        assert bob.get(page).status_code == 403, page
    assert bob.post(f"/admin/api-clients/{pk}/revoke/").status_code == 403
    sign_in(norfolk_client, "nina@norfolk.test")
    assert b"Police RMS" not in norfolk_client.get("/admin/api-clients/").content
    for page in pages[2:]:
        assert norfolk_client.get(page).status_code == 404, page
    assert norfolk_client.post(f"/admin/api-clients/{pk}/revoke/").status_code == 404
    with schema_context("suffolk"):
        assert ApiClient.objects.get(pk=pk).revoked_at is None
    # The service account is no person of the admin area: not listed, no user page.
    alice = Client(HTTP_HOST="suffolk.localhost")
    sign_in(alice, "alice@suffolk.test")
    assert b"API client: Police RMS" not in alice.get("/admin/users/").content
    assert alice.get(f"/admin/users/{issued.client.service_account_id}/").status_code == 404


# --- Scopes, expiry, rotation, revocation --------------------------------------------------


def test_a_read_scope_cannot_write_and_an_area_outside_the_scopes_is_refused(cast):
    token = issue(cast, scopes=["profiles:read"]).token
    api = bearer(token)
    assert api.get(f"{API}/profiles/").status_code == 200
    response = api.post(f"{API}/profiles/", {"first_name": "A", "last_name": "B"}, content_type="application/json")
    assert response.status_code == 403
    assert (
        response.json()["error"]["code"] == "scope_missing" and "profiles:write" in response.json()["error"]["message"]
    )
    refused = api.get(f"{API}/cases/")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "scope_missing"
    assert api.post(f"{API}/search/", {"query": "Kyle"}, content_type="application/json").status_code == 403
    # A search scope lets it search (a POST that only reads).
    search = bearer(issue(cast, name="Search only", scopes=["search:read"]).token)
    assert search.post(f"{API}/search/", {"query": "Kyle"}, content_type="application/json").status_code == 200
    assert search.get(f"{API}/profiles/").status_code == 403


def test_a_write_scope_writes_as_a_member_of_its_team(cast):
    api = bearer(issue(cast, scopes=["profiles:write"]).token)
    response = api.post(
        f"{API}/profiles/", {"first_name": "Jade", "last_name": "Kowalski"}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["owning_team"]["id"] == cast["snt"].pk
    [created] = events("profile.created")
    assert created.actor.full_name == "API client: Police RMS"


def test_an_expired_a_revoked_and_a_rotated_out_token_get_401(cast, alice_client):
    issued = issue(cast, scopes=["profiles:read"])
    api = bearer(issued.token)
    assert api.get(f"{API}/me/").status_code == 200
    # Rotate with a one-hour overlap: both work; once the overlap is over, only the new one.
    response = alice_client.post(
        f"/admin/api-clients/{issued.client.pk}/rotate/",
        {"expires_on": (timezone.localdate() + dt.timedelta(days=60)).isoformat(), "old_token_ends": "hour"},
    )
    assert response.status_code == 200
    [new] = TOKEN.findall(response.content.decode())
    assert new != issued.token
    assert api.get(f"{API}/me/").status_code == 200 and bearer(new).get(f"{API}/me/").status_code == 200
    with schema_context("suffolk"):
        old = ApiToken.objects.get(lookup=issued.token.split("_")[2])
        assert timezone.now() + dt.timedelta(minutes=59) < old.ends_at <= timezone.now() + dt.timedelta(hours=1)
        ApiToken.objects.filter(pk=old.pk).update(ends_at=timezone.now() - dt.timedelta(seconds=1))
    refused = api.get(f"{API}/me/")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "authentication_failed"
    assert refused["WWW-Authenticate"].startswith("Bearer")
    # Rotating with no overlap stops the current token at once.
    response = alice_client.post(
        f"/admin/api-clients/{issued.client.pk}/rotate/",
        {"expires_on": (timezone.localdate() + dt.timedelta(days=60)).isoformat(), "old_token_ends": "none"},
    )
    [newest] = TOKEN.findall(response.content.decode())
    assert bearer(new).get(f"{API}/me/").status_code == 401
    assert bearer(newest).get(f"{API}/me/").status_code == 200
    assert len(events("api_client.rotated", object_id=str(issued.client.pk))) == 2
    # Expired: 401.
    with schema_context("suffolk"):
        ApiToken.objects.filter(lookup=newest.split("_")[2]).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert bearer(newest).get(f"{API}/me/").status_code == 401
    # Revoked: 401 at once, for every token; the service account is deactivated.
    live = issue(cast, name="Housing system", scopes=["profiles:read"])
    assert bearer(live.token).get(f"{API}/profiles/").status_code == 200
    page = alice_client.get(f"/admin/api-clients/{live.client.pk}/revoke/")
    assert page.status_code == 200 and b"Revoke this API client?" in page.content
    assert alice_client.post(f"/admin/api-clients/{live.client.pk}/revoke/").status_code == 302
    assert bearer(live.token).get(f"{API}/profiles/").status_code == 401
    with schema_context("suffolk"):
        assert not User.objects.get(pk=live.client.service_account_id).is_active
    assert b"Revoked" in alice_client.get(f"/admin/api-clients/{live.client.pk}/").content
    [revoked] = events("api_client.revoked", object_id=str(live.client.pk))
    assert revoked.actor == cast["alice"]
    # A revoked client cannot be rotated back to life.
    response = alice_client.post(
        f"/admin/api-clients/{live.client.pk}/rotate/",
        {"expires_on": (timezone.localdate() + dt.timedelta(days=6)).isoformat(), "old_token_ends": "none"},
    )
    assert response.status_code == 200 and b"has been revoked" in response.content
    assert not TOKEN.findall(response.content.decode())


def test_malformed_and_unknown_tokens_get_401_before_anything_else(cast):
    token = issue(cast).token
    for header in [
        "Bearer",
        "Bearer a b",
        "Bearer concord_suffolk_short_secret",
        f"Bearer {token[:-1]}X" if not token.endswith("X") else f"Bearer {token[:-1]}Y",
        "Bearer " + token.replace("concord_", "concorde_"),
        "Bearer caf\u00e9",
    ]:
        response = Client(HTTP_HOST="suffolk.localhost", headers={"Authorization": header}).get(f"{API}/me/")
        assert response.status_code == 401, header
        assert response.json()["error"]["status"] == 401


def test_a_suffolk_token_gets_nothing_on_norfolks_host(cast):
    token = issue(cast, scopes=["profiles:read"]).token
    for path in (f"{API}/me/", f"{API}/profiles/"):
        response = bearer(token, "norfolk").get(path)
        assert response.status_code == 401, path
    # Even a token naming Norfolk with Suffolk's lookup and secret: Norfolk's schema has no such row,
    # and the keyed hash covers the schema.
    forged = token.replace("concord_suffolk_", "concord_norfolk_")
    assert bearer(forged, "norfolk").get(f"{API}/me/").status_code == 401
    assert bearer(forged, "suffolk").get(f"{API}/me/").status_code == 401


# --- What it sees, and the audit trail -----------------------------------------------------


def test_the_client_sees_exactly_what_a_member_of_its_team_sees(cast):
    shared_with_snt = make_profile(cast, first_name="Shared", share_with="snt")
    cst_only = make_profile(cast, first_name="Council", share_with="cst")
    make_profile(cast, first_name="Unshared")
    api = bearer(issue(cast, scopes=["profiles:read"]).token)
    dan = Client(HTTP_HOST="suffolk.localhost")
    sign_in(dan, "dan@suffolk.test")

    def ids(response):
        assert response.status_code == 200, response.content[:300]
        return sorted(item["id"] for item in response.json()["results"])

    assert ids(api.get(f"{API}/profiles/")) == ids(dan.get(f"{API}/profiles/")) == [shared_with_snt.pk]
    assert api.get(f"{API}/profiles/{shared_with_snt.pk}/").status_code == 200
    for client in (api, dan):
        response = client.get(f"{API}/profiles/{cst_only.pk}/")
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    # The refused read is audited under the client, as it is for a person.
    [refused] = events("access.refused", object_id=str(cst_only.pk), actor__is_integration=True)
    assert refused.actor.full_name == "API client: Police RMS"


def test_every_call_is_audited_under_the_clients_name(cast):
    profile = make_profile(cast, share_with="snt")
    issued = issue(cast, scopes=["profiles:read"])
    api = bearer(issued.token)
    before = len(events("api.call"))
    assert api.get(f"{API}/profiles/?page=1&search=secret-term").status_code == 200
    assert api.get(f"{API}/profiles/{profile.pk}/").status_code == 200
    assert api.post(f"{API}/profiles/", {}, content_type="application/json").status_code == 403
    assert api.get(f"{API}/profiles/{profile.pk + 999}/").status_code == 404
    calls = events("api.call")[before:]
    assert [e.summary for e in calls] == [
        "API client: Police RMS: GET /api/v1/profiles/ answered 200",
        f"API client: Police RMS: GET /api/v1/profiles/{profile.pk}/ answered 200",
        "API client: Police RMS: POST /api/v1/profiles/ answered 403",
        f"API client: Police RMS: GET /api/v1/profiles/{profile.pk + 999}/ answered 404",
    ]
    for event in calls:
        assert event.actor_id == issued.client.service_account_id
        assert event.actor.get_full_name() == "API client: Police RMS"
        assert event.object_type == "api_client" and event.object_id == str(issued.client.pk)
        assert "secret-term" not in event.summary
    # The read itself is audited as a person's would be, under the client.
    [viewed] = events("profile.viewed", object_id=str(profile.pk))
    assert viewed.actor_id == issued.client.service_account_id
    # A person's calls are not api.call events.
    bob = Client(HTTP_HOST="suffolk.localhost")
    sign_in(bob, "bob@suffolk.test")
    assert bob.get(f"{API}/profiles/").status_code == 200
    assert len(events("api.call")) == before + 4


def test_the_token_is_never_logged(cast, caplog):
    token = issue(cast, scopes=["profiles:read"]).token
    with caplog.at_level(logging.DEBUG):
        bearer(token).get(f"{API}/profiles/")
        bearer(token).post(f"{API}/profiles/", {}, content_type="application/json")
        bearer(token, "norfolk").get(f"{API}/profiles/")
        bearer(token[:-2] + "zz").get(f"{API}/profiles/")
    secret = token.rsplit("_", 1)[1]
    assert caplog.records
    for record in caplog.records:
        assert secret not in record.getMessage() and secret[:-2] not in record.getMessage()
        assert secret not in str(record.args)


# --- Never a person: pages, sessions, e-mail -------------------------------------------------


def test_the_service_account_can_never_sign_in_to_pages(cast):
    issued = issue(cast, scopes=["profiles:write"])
    email = issued.client.service_account.email
    assert email.endswith("@api-clients.invalid")
    browser = Client(HTTP_HOST="suffolk.localhost")
    response = browser.post("/account/sign-in/", {"email": email, "password": ""})
    assert response.status_code == 200 and "_auth_user_id" not in browser.session
    # Even with a password set on it by mistake, the backend refuses it.
    with schema_context("suffolk"):
        account = User.objects.get(pk=issued.client.service_account_id)
        account.set_password(PASSWORD)
        account.save()
    response = browser.post("/account/sign-in/", {"email": email, "password": PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in browser.session
    # A reset link is never sent to it.
    browser.post("/account/password-reset/", {"email": email})
    with schema_context("suffolk"):
        from tenant_apps.outbox.models import OutboundEmail

        assert not OutboundEmail.objects.filter(to=[email]).exists()
    # The token opens the API only: every page still asks for a sign-in.
    api = bearer(issued.token)
    for page in ("/", "/admin/", "/profiles/", "/tasks/", "/search/"):
        response = api.get(page)
        assert response.status_code == 302 and response["Location"].startswith("/account/sign-in/"), page


def test_a_session_and_a_token_together_are_the_token_only(cast, alice_client):
    token = issue(cast, scopes=["profiles:read"]).token
    alice_client.handler.enforce_csrf_checks = True  # as a browser's request is checked
    own = alice_client.post(f"{API}/profiles/", {"first_name": "A", "last_name": "B"}, content_type="application/json")
    assert own.status_code == 403 and "CSRF" in own.json()["error"]["message"]  # her session needs the token
    me = alice_client.get(f"{API}/me/", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["full_name"] == "API client: Police RMS"
    # Alice may write; the token may not, and the token is what counts. No CSRF check either.
    refused = alice_client.post(
        f"{API}/profiles/", {"first_name": "A", "last_name": "B"}, content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "scope_missing"
    bad = alice_client.get(f"{API}/me/", headers={"Authorization": "Bearer concord_suffolk_nope"})
    assert bad.status_code == 401
    assert alice_client.get(f"{API}/me/").json()["email"] == "alice@suffolk.test"


def test_task_notices_to_its_team_are_not_mailed_to_the_service_account(cast):
    from tenant_apps.outbox.models import OutboundEmail
    from tenant_apps.tasks import services as tasks

    issued = issue(cast, scopes=["tasks:read"])
    with schema_context("suffolk"):
        tasks.task_create(
            user=cast["bob"],
            title="Check the CCTV",
            assigned_team=cast["snt"],
            due_date=timezone.localdate() + dt.timedelta(days=3),
        )
        recipients = {address for row in OutboundEmail.objects.all() for address in row.to}
        assert {"dan@suffolk.test", "erin@suffolk.test"} <= recipients
        assert issued.client.service_account.email not in recipients
    # The client sees its team's task, as Dan does.
    response = bearer(issued.token).get(f"{API}/tasks/?scope=team")
    assert [task["title"] for task in response.json()["results"]] == ["Check the CCTV"]


# --- Rate limit -----------------------------------------------------------------------------


@override_settings(API_CLIENT_RATE_LIMIT=3)
def test_the_rate_limit_holds_across_two_connections(committed_db):
    """Committed rows (two threads, two database connections), removed afterwards; the service
    account stays, deactivated. Its audit events are removed too (the trigger bypassed, the chain
    left whole: tests/audit_helpers.py), so that no later page of the trail shows them."""
    suffix = uuid.uuid4().hex[:8]
    with schema_context("suffolk"):
        agency = Agency.objects.create(name=f"Rate test agency {suffix}", kind=Agency.Kind.OTHER)
        team = Team.objects.create(agency=agency, name="Integrations")
        alice = User.objects.get(email="alice@suffolk.test")
        issued = services.api_client_issue(
            request=fake_request(alice), name=f"Rate test {suffix}", team=team, scopes=["profiles:read"],
            expires_on=timezone.localdate() + dt.timedelta(days=2),
        )  # fmt: skip
    connection.set_schema_to_public()
    answers = []

    def call():
        try:
            answers.append(bearer(issued.token).get(f"{API}/me/"))
        finally:
            connection.close()

    try:
        for _ in range(2):
            call_in_thread = threading.Thread(target=call)
            call_in_thread.start()
            call_in_thread.join()
        answers.append(bearer(issued.token).get(f"{API}/me/"))  # this thread's own connection
        for _ in range(2):
            call_in_thread = threading.Thread(target=call)
            call_in_thread.start()
            call_in_thread.join()
        assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
        refused = answers[3]
        assert 1 <= int(refused["Retry-After"]) <= 60
        assert refused.json()["error"]["code"] == "throttled" and refused.json()["error"]["status"] == 429
        with schema_context("suffolk"):
            limited = AuditEvent.objects.filter(action="api.rate_limited", object_id=str(issued.client.pk))
            assert limited.count() == 1  # once per window, however many calls are refused
            calls = AuditEvent.objects.filter(action="api.call", object_id=str(issued.client.pk))
            assert calls.count() == 3
    finally:
        with schema_context("suffolk"):
            account_id = issued.client.service_account_id
            ApiClient.objects.filter(pk=issued.client.pk).delete()
            TeamMembership.objects.filter(team=team).delete()
            Membership.objects.filter(agency=agency).delete()
            team.delete()
            agency.delete()
            User.objects.filter(pk=account_id).update(is_active=False)
        connection.set_schema_to_public()
        remove_events("suffolk", "object_type = 'api_client' AND object_id = %s", [str(issued.client.pk)])


def test_a_read_only_database_keeps_a_clients_reads_working(committed_db, tmp_path):
    """As for people (tests/test_db_faults.py): the call is not counted, its api.call event waits in
    the audit spool and is replayed once the database is writable. Committed rows, removed after."""
    from tenant_apps.audit import spool

    suffix = uuid.uuid4().hex[:8]
    with schema_context("suffolk"):
        agency = Agency.objects.create(name=f"Read-only test agency {suffix}", kind=Agency.Kind.OTHER)
        team = Team.objects.create(agency=agency, name="Integrations")
        issued = services.api_client_issue(
            request=fake_request(User.objects.get(email="alice@suffolk.test")), name=f"Read-only {suffix}",
            team=team, scopes=["profiles:read"], expires_on=timezone.localdate() + dt.timedelta(days=2),
        )  # fmt: skip
    connection.set_schema_to_public()
    try:
        with override_settings(AUDIT_SPOOL_DIR=str(tmp_path)):
            with connection.cursor() as cursor:
                cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            try:
                response = bearer(issued.token).get(f"{API}/me/")
            finally:
                with connection.cursor() as cursor:
                    cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
            assert response.status_code == 200, response.content[:500]
            assert list(tmp_path.iterdir()), "the api.call event waits in the spool"
            assert spool.replay_spool() == 1
        with schema_context("suffolk"):
            assert not ApiClientWindow.objects.filter(client_id=issued.client.pk).exists()
            [event] = AuditEvent.objects.filter(action="api.call", object_id=str(issued.client.pk))
            assert event.summary.endswith("GET /api/v1/me/ answered 200")
    finally:
        with schema_context("suffolk"):
            account_id = issued.client.service_account_id
            ApiClient.objects.filter(pk=issued.client.pk).delete()
            TeamMembership.objects.filter(team=team).delete()
            Membership.objects.filter(agency=agency).delete()
            team.delete()
            agency.delete()
            User.objects.filter(pk=account_id).update(is_active=False)
        connection.set_schema_to_public()
        remove_events("suffolk", "object_type = 'api_client' AND object_id = %s", [str(issued.client.pk)])


# --- Documented ------------------------------------------------------------------------------


def test_the_schema_has_the_bearer_scheme_on_every_operation(cast, alice_client):
    schema = alice_client.get("/api/schema/?format=json").json()
    assert bearer(issue(cast).token).get("/api/schema/?format=json").json() == schema  # a client may read it
    scheme = schema["components"]["securitySchemes"]["apiClientToken"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert {"apiClientToken": []} in operation["security"], (method, path)
            assert "401" in operation["responses"], (method, path)


def test_every_api_class_declares_its_area():
    from django.urls import get_resolver

    def walk(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from walk(pattern.url_patterns)
            else:
                yield pattern

    classes = {getattr(p.callback, "cls", None) for p in walk(get_resolver("concord.urls_partnership").url_patterns)}
    apis = [cls for cls in classes if isinstance(cls, type) and issubclass(cls, BaseApi)]
    assert len(apis) > 20
    for cls in apis:
        assert cls.api_area == ANY_CLIENT or cls.api_area in AREAS, cls


def test_a_class_without_an_area_is_refused_to_every_token(cast):
    from rest_framework.test import APIRequestFactory

    from concord.api import ClientCredential

    class NoAreaApi(BaseApi):
        def get(self, request):
            from rest_framework.response import Response

            return Response({})

    request = APIRequestFactory().get("/api/v1/x/")
    with schema_context("suffolk"):
        account = User.objects.get(email="bob@suffolk.test")
    credential = ClientCredential(client_id=1, token_id=1, name="x", scopes=frozenset({"profiles:write"}))

    class Token:
        def authenticate(self, request):
            return account, credential

    NoAreaApi.authentication_classes = [Token]
    response = NoAreaApi.as_view()(request)
    assert response.status_code == 403 and response.data["error"]["code"] == "scope_missing"


def test_the_token_has_the_shape_secret_scanners_look_for(cast):
    token = issue(cast).token
    assert TOKEN.fullmatch(token)


def test_a_token_call_costs_a_fixed_number_of_queries(cast):
    """The token's row, the service account with its teams and agency, the rate counter and the
    api.call event (one round trip: the event inserted with the hash chain's head moved): four
    queries besides the view's own and the host's (the partnership's lookup and two search_path
    settings, uncached in tests), whatever the data."""
    from django.test.utils import CaptureQueriesContext

    api = bearer(issue(cast, scopes=["profiles:read"]).token)
    with CaptureQueriesContext(connection) as me:
        assert api.get(f"{API}/me/").status_code == 200
    counts = []
    for extra in (1, 6):
        for index in range(extra):
            make_profile(cast, first_name=f"P{extra}x{index}", share_with="snt")
        with CaptureQueriesContext(connection) as listed:
            assert api.get(f"{API}/profiles/").status_code == 200
        counts.append(len(listed))
    assert len(me) == 3 + 4, "\n".join(q["sql"][:150] for q in me.captured_queries)
    assert counts[0] == counts[1], counts


def test_the_list_and_a_clients_page_run_as_many_queries_for_four_clients_as_for_one(cast, alice_client):
    from django.test.utils import CaptureQueriesContext

    first = issue(cast, name="Client 0")

    def count(url: str) -> int:
        alice_client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert alice_client.get(url).status_code == 200
        return len(captured)

    one = count("/admin/api-clients/")
    page = count(f"/admin/api-clients/{first.client.pk}/")
    for n in range(1, 4):
        issue(cast, name=f"Client {n}")
    with schema_context("suffolk"):
        services.api_client_rotate(
            request=fake_request(cast["alice"]), client=first.client, old_token_ends="day",
            expires_on=timezone.localdate() + dt.timedelta(days=9),
        )  # fmt: skip
    assert count("/admin/api-clients/") == one
    assert count(f"/admin/api-clients/{first.client.pk}/") == page


def test_a_new_encryption_key_in_front_keeps_tokens_working(cast):
    from cryptography.fernet import Fernet
    from django.conf import settings

    token = issue(cast).token
    new = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[new, *settings.FIELD_ENCRYPTION_KEYS]):
        assert bearer(token).get(f"{API}/me/").status_code == 200
    with override_settings(FIELD_ENCRYPTION_KEYS=[new]):
        assert bearer(token).get(f"{API}/me/").status_code == 401
