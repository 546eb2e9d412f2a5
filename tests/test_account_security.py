"""Account security under attack and under races: real sessions, real connections, real threads.

- A one-time code (TOTP or backup) is accepted by exactly one of several sessions
  racing with it.
- Brute-force protection gives the same answers for a missing address and an
  existing one, slows an attacker per (account, source), and does not let a
  stranger keep the owner out; the per-source throttle holds across partnerships
  and the operator area.
- Simultaneous invitations of one address: one account, one e-mail, the rest a
  form error on the e-mail field.

Race tests use ``committed_db``: each thread has its own database connection and
sees committed rows, as gunicorn workers would. They clean up what they commit.
"""

from __future__ import annotations

import threading

from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from tenant_apps.accounts import services
from tenant_apps.accounts.models import BackupCodeDevice, TOTPDevice, User
from tests.conftest import PASSWORD, forget_used_codes, totp_code

RACE_TRIALS = 8


def _race(count: int, prepare, act) -> list:
    """Run ``act(prepared)`` in ``count`` threads released together; return their results.

    ``prepare()`` runs first in each thread (e.g. the password step), so only
    ``act`` races. Each thread closes its own database connection.
    """
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def run(index: int) -> None:
        try:
            prepared = prepare()
            barrier.wait(timeout=30)
            results[index] = act(prepared)
        except BaseException as error:  # noqa: BLE001 - reported to the test below
            errors.append(error)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def _password_step(email: str):
    def prepare() -> Client:
        client = Client(HTTP_HOST="suffolk.localhost")
        response = client.post("/account/sign-in/", {"email": email, "password": PASSWORD})
        assert response.status_code == 302 and response["Location"] == "/account/two-factor/", response.content[:500]
        return client

    return prepare


def _verified(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/"


# --- Point 2: one code, one session ------------------------------------------------------


def test_one_totp_code_verifies_exactly_one_of_two_racing_sessions(committed_db):
    """Both sessions post the same valid code at the same moment: exactly one is signed in."""
    email = "bob@suffolk.test"
    try:
        for trial in range(RACE_TRIALS):
            forget_used_codes()  # the code is fresh for this trial (committed)
            _clear_sign_in_failures()
            code = totp_code(email)
            results = _race(
                2, _password_step(email), lambda client, c=code: client.post("/account/two-factor/", {"code": c})
            )
            accepted = [_verified(response) for response in results]
            assert accepted.count(True) == 1, f"trial {trial}: {accepted}"
            refused = results[accepted.index(False)]
            assert refused.status_code == 200 and b"Enter the 6-digit code" in refused.content
    finally:
        forget_used_codes()
        _clear_sign_in_failures()


def test_one_backup_code_verifies_exactly_one_of_two_racing_sessions(committed_db):
    email = "bob@suffolk.test"
    with schema_context("suffolk"):
        bob = User.objects.get(email=email)
        codes = services.backup_codes_generate(user=bob)
    connection.set_schema_to_public()
    try:
        for trial, code in enumerate(codes[:RACE_TRIALS]):
            _clear_sign_in_failures()
            results = _race(
                2, _password_step(email), lambda client, c=code: client.post("/account/two-factor/", {"code": c})
            )
            accepted = [_verified(response) for response in results]
            assert accepted.count(True) == 1, f"trial {trial}: {accepted}"
        with schema_context("suffolk"):
            device = BackupCodeDevice.objects.get(user=bob)
            assert device.remaining() == len(codes) - RACE_TRIALS
    finally:
        with schema_context("suffolk"):
            BackupCodeDevice.objects.filter(user__email=email).delete()
        connection.set_schema_to_public()
        _clear_sign_in_failures()


def test_a_code_accepted_once_is_refused_afterwards(db):
    """The conditional update is the whole check: a device read before the code was used
    (a stale copy in another session) refuses it too."""
    with schema_context("suffolk"):
        bob = User.objects.get(email="bob@suffolk.test")
        stale = TOTPDevice.objects.get(user=bob, confirmed=True)
        fresh = TOTPDevice.objects.get(pk=stale.pk)
        code = totp_code("bob@suffolk.test")
        assert fresh.verify_token(code)
        assert not stale.verify_token(code)
        assert not fresh.verify_token(code)


def _clear_sign_in_failures() -> None:
    """The losing racers' refusals count as failures (committed): forget them."""
    from tenant_apps.accounts.models import FailedSignIn

    for slug in ("suffolk", "norfolk", "public"):
        with schema_context(slug):
            FailedSignIn.objects.all().delete()
            User.objects.update(failed_attempts=0, lock_count=0, locked_until=None)
    connection.set_schema_to_public()


# --- Point 15: simultaneous invitations of one address -----------------------------------


def _query(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def test_ten_simultaneous_invitations_of_one_address_make_one_account_and_nine_field_errors(committed_db):
    import uuid

    from tenant_apps.audit.models import AuditEvent
    from tenant_apps.outbox.models import OutboundEmail
    from tests.conftest import sign_in

    email = f"racer-{uuid.uuid4().hex[:10]}@suffolk.test"
    connection.set_schema_to_public()
    first_job = _query("SELECT coalesce(max(id), 0) FROM procrastinate_jobs")[0][0]
    admin = Client(HTTP_HOST="suffolk.localhost")
    try:
        sign_in(admin, "alice@suffolk.test")
        cookies = admin.cookies

        def prepare() -> Client:
            client = Client(HTTP_HOST="suffolk.localhost", raise_request_exception=False)
            client.cookies = cookies  # Alice's verified session, shared by ten tabs
            return client

        def invite(client: Client):
            return client.post("/admin/users/invite/", {"full_name": "Rae Racer", "email": email, "role": "viewer"})

        results = _race(10, prepare, invite)
        statuses = sorted(response.status_code for response in results)
        assert statuses == [200] * 9 + [302], statuses
        for response in results:
            if response.status_code == 200:
                assert b'href="#id_email"' in response.content  # the error names the field
                assert b"already has this e-mail address" in response.content
        with schema_context("suffolk"):
            [invitee] = User.objects.filter(email=email)
            assert OutboundEmail.objects.filter(to=[email]).count() == 1
            assert AuditEvent.objects.filter(action="user.invited", object_id=str(invitee.pk)).count() == 1
        connection.set_schema_to_public()
        jobs = _query("SELECT count(*) FROM procrastinate_jobs WHERE id > %s AND queue_name = 'mail'", [first_job])
        assert jobs == [(1,)]
    finally:
        connection.set_schema_to_public()
        _query("DELETE FROM procrastinate_jobs WHERE id > %s", [first_job])
        with schema_context("suffolk"):
            OutboundEmail.objects.filter(to=[email]).delete()
            User.objects.filter(email=email).delete()
        forget_used_codes()
