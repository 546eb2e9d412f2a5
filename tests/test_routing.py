"""Host -> partnership routing: unknown hosts 404, no cross-partnership reads, suspension."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client, override_settings
from django_tenants.utils import schema_context

from tenants.models import Partnership
from tenants.provisioning import partnership_resume, partnership_suspend
from tests.conftest import Server, forget_used_codes, project_env, sign_in


@pytest.mark.parametrize(
    "host_name",
    ["nowhere.localhost", "suffolk.evil.example", "evil.example", "suffolk.localhost.evil.example", "127.0.0.1"],
)
def test_unknown_hosts_get_404_never_the_public_site(db, host_name):
    response = Client(HTTP_HOST=host_name).get("/")
    assert response.status_code == 404
    assert b"Concord</h1>" not in response.content  # not the public home page


@pytest.mark.parametrize("host_name", ["localhost", "suffolk.localhost", "nowhere.localhost", "evil.example"])
def test_healthz_answers_on_any_host_without_authentication(db, host_name):
    response = Client(HTTP_HOST=host_name).get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_the_bare_domain_serves_the_public_site(db):
    response = Client(HTTP_HOST="localhost").get("/")
    assert response.status_code == 200
    assert b"One secure, shared record" in response.content


def test_a_partnership_host_shows_its_name(db, suffolk_client, norfolk_client):
    assert b"Suffolk Community Safety Partnership" in suffolk_client.get("/account/sign-in/").content
    norfolk_page = norfolk_client.get("/account/sign-in/").content
    assert b"Norfolk Community Safety Partnership" in norfolk_page
    assert b"Suffolk" not in norfolk_page


def test_a_suffolk_session_is_anonymous_on_norfolk(db, alice_client, norfolk_client):
    """Alice signs in to Suffolk; her cookie copied to Norfolk's host is worth nothing,
    even though Norfolk has a user with the same id as Alice."""
    from tenant_apps.accounts.models import User

    with schema_context("suffolk"):
        alice = User.objects.get(email="alice@suffolk.test")
    with schema_context("norfolk"):
        assert User.objects.filter(pk=alice.pk).exists()  # same id, another person

    assert alice_client.get("/").status_code == 200
    cookie = alice_client.cookies["concord_session"].value
    norfolk_client.cookies["concord_session"] = cookie
    response = norfolk_client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/account/sign-in/")
    api = norfolk_client.get("/api/v1/me/")
    assert api.status_code == 403
    assert b"suffolk" not in api.content.lower() and b"alice" not in api.content.lower()


def test_norfolk_never_reads_suffolk_data(db, norfolk_client):
    """Nina in Norfolk sees Norfolk's data and nothing of Suffolk's."""
    sign_in(norfolk_client, "nina@norfolk.test")
    me = norfolk_client.get("/api/v1/me/").json()
    assert me["partnership"] == "Norfolk Community Safety Partnership"
    assert me["email"] == "nina@norfolk.test"
    # Suffolk's users cannot sign in on Norfolk's host.
    other = Client(HTTP_HOST="norfolk.localhost")
    response = other.post("/account/sign-in/", {"email": "alice@suffolk.test", "password": "x" * 20})
    assert response.status_code == 200 and b"Enter a correct e-mail address and password" in response.content


def test_suspension_refuses_sign_in_with_a_clear_page_and_resume_restores(db, suffolk, suffolk_client):
    partnership_suspend(partnership=suffolk)
    for path in ["/", "/account/sign-in/", "/api/v1/me/"]:
        response = suffolk_client.get(path)
        assert response.status_code == 403
        assert b"is suspended" in response.content
    refused = suffolk_client.post("/account/sign-in/", {"email": "alice@suffolk.test", "password": "x"})
    assert refused.status_code == 403
    with schema_context("suffolk"):  # the data is kept
        from tenant_apps.accounts.models import User

        assert User.objects.filter(email="alice@suffolk.test").exists()
    partnership_resume(partnership=Partnership.objects.get(pk=suffolk.pk))
    sign_in(suffolk_client, "alice@suffolk.test")
    assert suffolk_client.get("/").status_code == 200


@override_settings(TENANT_CACHE_SECONDS=60)
def test_the_host_cache_serves_without_a_lookup(db, suffolk_client, django_assert_num_queries):
    from tenants.hosts import host_cache

    host_cache.clear()
    suffolk_client.get("/healthz")
    suffolk_client.get("/account/sign-in/")  # fills the cache
    with django_assert_num_queries(0):
        assert suffolk_client.get("/account/sign-in/").status_code == 200


def test_suspension_reaches_every_worker_process_within_seconds(committed_db):
    """Two gunicorn workers each cache the host; a suspension made elsewhere (another
    process, straight in the database) stops both of them within the cache's lifetime."""
    ttl = 2
    server = Server(project_env(TENANT_CACHE_SECONDS=str(ttl)), workers=2)
    partnership = Partnership.objects.get(schema_name="suffolk")
    try:
        for _ in range(20):  # warm both workers' caches
            assert server.get("/account/sign-in/", "suffolk.localhost")[0] == 200
        Partnership.objects.filter(pk=partnership.pk).update(status=Partnership.Status.SUSPENDED)
        suspended_at = time.monotonic()
        while True:
            statuses = [server.get("/account/sign-in/", "suffolk.localhost")[0] for _ in range(20)]
            if set(statuses) == {403}:
                break
            assert time.monotonic() - suspended_at < ttl + 3, statuses
            time.sleep(0.1)
        elapsed = time.monotonic() - suspended_at
        assert elapsed <= ttl + 3
        Partnership.objects.filter(pk=partnership.pk).update(status=Partnership.Status.ACTIVE)
        time.sleep(ttl + 0.5)
        assert {server.get("/account/sign-in/", "suffolk.localhost")[0] for _ in range(20)} == {200}
    finally:
        Partnership.objects.filter(pk=partnership.pk).update(status=Partnership.Status.ACTIVE)
        server.stop()


def test_a_domain_change_reaches_every_worker_process_within_seconds(committed_db):
    """Norfolk's host name changes: both workers stop serving the old one and serve the new one."""
    from tenants.models import Domain

    ttl = 2
    server = Server(project_env(TENANT_CACHE_SECONDS=str(ttl)), workers=2)
    domain = Domain.objects.get(domain="norfolk.localhost")
    try:
        for _ in range(20):
            assert server.get("/account/sign-in/", "norfolk.localhost")[0] == 200
        Domain.objects.filter(pk=domain.pk).update(domain="norfolkcsp.localhost")
        changed_at = time.monotonic()
        while {server.get("/account/sign-in/", "norfolk.localhost")[0] for _ in range(20)} != {404}:
            assert time.monotonic() - changed_at < ttl + 3
            time.sleep(0.1)
        assert time.monotonic() - changed_at <= ttl + 3
        status, _, body = server.get("/account/sign-in/", "norfolkcsp.localhost")
        assert status == 200 and b"Norfolk Community Safety Partnership" in body
    finally:
        Domain.objects.filter(pk=domain.pk).update(domain="norfolk.localhost")
        server.stop()


def test_healthz_answers_503_when_the_database_is_unreachable():
    server = Server(project_env(DATABASE_URL="postgres://postgres@127.0.0.1:1/nothing"), workers=1)
    try:
        status, headers, body = server.get("/healthz", "anything.example")
        assert status == 503
        assert b"unreachable" in body
        assert headers["Cache-Control"].startswith("no-store")
    finally:
        server.stop()


def test_the_connection_pool_keeps_each_request_in_its_own_schema(committed_db):
    """Django's psycopg pool, one worker, requests alternating between partnerships:
    every answer comes from the partnership of the host that asked."""
    server = Server(project_env(DATABASE_POOL="true", DATABASE_POOL_MIN="1", DATABASE_POOL_MAX="2"), workers=1)
    try:
        sessions = {}
        for host_name, email in [
            ("suffolk.localhost", "alice@suffolk.test"),
            ("norfolk.localhost", "nina@norfolk.test"),
        ]:
            sessions[host_name] = (server.session(host_name), email)
            sessions[host_name][0].sign_in(email)
        for i in range(100):
            host_name = "suffolk.localhost" if i % 2 else "norfolk.localhost"
            session, email = sessions[host_name]
            status, _, body = session.get("/api/v1/me/")
            assert status == 200 and json.loads(body)["email"] == email
    finally:
        server.stop()
        forget_used_codes()
