"""Sign-in with two factors, invitations, resets, lockout and sessions: the real flows.

Codes come from pyotp (an independent TOTP implementation, as a phone app would
compute them); e-mail goes through the outbox job to a real SMTP server.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client, RequestFactory
from django_tenants.utils import schema_context

from tenant_apps.accounts import services
from tenant_apps.accounts.models import User
from tenant_apps.outbox import mail
from tenant_apps.outbox.jobs import send_email
from tests.conftest import PASSWORD, TOTP_SECRETS, sign_in, totp_code

NEW_PASSWORD = "a kettle of purple herons"


def deliver_mail(schema: str) -> None:
    """Run the queued send jobs of ``schema`` (the worker's code, in this transaction)."""
    from tenant_apps.outbox.models import OutboundEmail

    with schema_context(schema):
        ids = [str(pk) for pk in OutboundEmail.objects.filter(status="queued").values_list("id", flat=True)]
    for email_id in ids:
        send_email(schema_name=schema, email_id=email_id)


def link_in(message) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://\S+", body).group(0)


def service_request(slug: str, user=None):
    from tenants.models import Partnership

    request = RequestFactory().post("/", HTTP_HOST=f"{slug}.localhost", REMOTE_ADDR="192.0.2.10")
    request.tenant = Partnership.objects.get(schema_name=slug)
    request.user = user
    return request


def enrolment_link_queued(slug: str, email: str) -> str:
    """The path of the latest enrolment link queued for ``email`` (after an admin's reset)."""
    from tenant_apps.outbox.models import OutboundEmail

    with schema_context(slug):
        bodies = OutboundEmail.objects.filter(to=[email]).order_by("-created_at").values_list("body", flat=True)
        links = [m.group(0) for body in bodies for m in [re.search(r"https?://\S+/account/enrol/\S+", body)] if m]
    connection.set_schema_to_public()
    return links[0].split(":8000", 1)[1]


def secret_on_page(response) -> str:
    return re.search(r'id="totp-secret">([A-Z2-7 ]+)<', response.content.decode()).group(1).replace(" ", "")


def test_invitation_to_home_with_two_factors(db, smtp_server):
    """Invitation e-mail -> set password -> enrol -> sign out -> sign in with both factors -> home."""
    with schema_context("suffolk"):
        alice = User.objects.get(email="alice@suffolk.test")
        services.user_invite(
            request=service_request("suffolk", alice), email="Carol.Case@Suffolk.test", full_name="Carol Case",
            role="practitioner", partnership_name="Suffolk Community Safety Partnership",
        )  # fmt: skip
    deliver_mail("suffolk")
    smtp_server.wait_for(1)
    message = smtp_server.messages[-1]
    assert message["To"] == "carol.case@suffolk.test"
    link = link_in(message)
    assert link.startswith("http://suffolk.localhost:8000/account/set-password/")

    carol = Client(HTTP_HOST="suffolk.localhost")
    form_page = carol.get(link.split(":8000", 1)[1], follow=True)
    assert b"Set your password" in form_page.content
    weak = carol.post(form_page.redirect_chain[-1][0], {"new_password1": "short", "new_password2": "short"})
    assert b"at least 12 characters" in weak.content
    done = carol.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done["Location"] == "/account/two-factor/setup/"

    # Nothing else is reachable before enrolment.
    assert carol.get("/")["Location"] == "/account/two-factor/setup/"
    assert carol.get("/api/v1/me/").json()["error"]["code"] == "second_factor_required"

    setup = carol.get("/account/two-factor/setup/")
    assert b"<svg" in setup.content  # the QR code
    secret = secret_on_page(setup)
    wrong = carol.post("/account/two-factor/setup/", {"code": "000000"})
    assert b"did not match" in wrong.content
    secret = secret_on_page(wrong)  # the same pending device
    codes_page = carol.post("/account/two-factor/setup/", {"code": pyotp.TOTP(secret).now()})
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", codes_page.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert carol.get("/").status_code == 200

    carol.post("/account/sign-out/")
    assert carol.get("/").status_code == 302
    assert (
        carol.post("/account/sign-in/", {"email": "carol.case@suffolk.test", "password": NEW_PASSWORD})["Location"]
        == "/account/two-factor/"
    )
    assert carol.get("/").headers["Location"] == "/account/two-factor/"
    next_code = pyotp.TOTP(secret).at(time.time() + 30)  # the enrolment code was used once
    assert carol.post("/account/two-factor/", {"code": next_code})["Location"] == "/"
    home = carol.get("/")
    assert home.status_code == 200 and b"Welcome, Carol" in home.content


def test_a_backup_code_works_once(db):
    with schema_context("suffolk"):
        bob = User.objects.get(email="bob@suffolk.test")
        codes = services.backup_codes_generate(user=bob)
    first = Client(HTTP_HOST="suffolk.localhost")
    first.post("/account/sign-in/", {"email": "bob@suffolk.test", "password": PASSWORD})
    assert first.post("/account/two-factor/", {"code": codes[3].upper()})["Location"] == "/"
    assert first.get("/").status_code == 200

    second = Client(HTTP_HOST="suffolk.localhost")
    second.post("/account/sign-in/", {"email": "bob@suffolk.test", "password": PASSWORD})
    again = second.post("/account/two-factor/", {"code": codes[3]})
    assert again.status_code == 200 and b"Enter the 6-digit code" in again.content
    assert second.post("/account/two-factor/", {"code": codes[4]})["Location"] == "/"


def age_sign_in_failures(seconds: float) -> None:
    """As if ``seconds`` had passed since every failure counted so far (public schema)."""
    from tests.conftest import age_sign_in_failures as age

    age(seconds)


def test_five_wrong_codes_make_this_source_wait_not_the_whole_account(db):
    """Issue 8, point 5: the wait is per (account, source); before, the account itself locked."""
    client = Client(HTTP_HOST="suffolk.localhost")
    client.post("/account/sign-in/", {"email": "bob@suffolk.test", "password": PASSWORD})
    for _ in range(4):
        assert client.post("/account/two-factor/", {"code": "123456"}).status_code == 200
    waiting = client.post("/account/two-factor/", {"code": "123456"}, follow=True)
    assert waiting.redirect_chain[-1][0] == "/account/sign-in/"  # signed out
    assert b"Too many failed attempts for this e-mail address. Wait 1 minute, then try again." in waiting.content
    # While this source waits, the right password gets the same answer as a wrong one would.
    retry = Client(HTTP_HOST="suffolk.localhost")
    right = retry.post("/account/sign-in/", {"email": "bob@suffolk.test", "password": PASSWORD})
    wrong = retry.post("/account/sign-in/", {"email": "bob@suffolk.test", "password": "not the password at all"})
    assert b"Wait 1 minute" in right.content and _message(right) == _message(wrong)
    # Bob elsewhere is not held up at all.
    assert sign_in(Client(HTTP_HOST="suffolk.localhost", REMOTE_ADDR="198.51.100.9"), "bob@suffolk.test")

    # After the wait, each further failure from this source doubles it.
    age_sign_in_failures(61)
    again = retry.post("/account/sign-in/", {"email": "bob@suffolk.test", "password": "still not the password"})
    assert b"Wait 2 minutes" in again.content
    with schema_context("suffolk"):
        bob = User.objects.get(email="bob@suffolk.test")
        from tenant_apps.audit.models import AuditEvent

        assert AuditEvent.objects.filter(action="auth.delayed", object_id=str(bob.pk)).count() == 2
        assert AuditEvent.objects.filter(action="auth.sign_in_failed", object_id=str(bob.pk)).count() == 6
        assert AuditEvent.objects.filter(action="auth.sign_in_refused_delayed", object_id=str(bob.pk)).count() == 2


def test_failures_from_one_address_are_throttled(db):
    client = Client(HTTP_HOST="suffolk.localhost", REMOTE_ADDR="203.0.113.7")
    for n in range(settings.SIGN_IN_IP_MAX_FAILURES):
        client.post("/account/sign-in/", {"email": f"nobody{n}@suffolk.test", "password": "wrong password here"})
    refused = client.post("/account/sign-in/", {"email": "alice@suffolk.test", "password": PASSWORD})
    assert refused.status_code == 200 and b"Too many failed attempts from your network" in refused.content
    # Another address is unaffected.
    other = Client(HTTP_HOST="suffolk.localhost", REMOTE_ADDR="203.0.113.8")
    assert other.post("/account/sign-in/", {"email": "alice@suffolk.test", "password": PASSWORD}).status_code == 302


def test_password_reset_never_reveals_whether_an_account_exists(db, smtp_server):
    client = Client(HTTP_HOST="suffolk.localhost")
    known = client.post("/account/password-reset/", {"email": "bob@suffolk.test"})
    unknown = client.post("/account/password-reset/", {"email": "nobody@suffolk.test"})
    assert known.status_code == unknown.status_code == 200
    normalise = lambda r, e: r.content.decode().replace(e, "EMAIL")  # noqa: E731
    assert normalise(known, "bob@suffolk.test") == normalise(unknown, "nobody@suffolk.test")
    deliver_mail("suffolk")
    smtp_server.wait_for(1)
    assert [m["To"] for m in smtp_server.messages] == ["bob@suffolk.test"]

    link = link_in(smtp_server.messages[0]).split(":8000", 1)[1]
    form = client.get(link, follow=True)
    target = form.redirect_chain[-1][0]
    assert client.post(target, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}).status_code == 302
    assert b"expired or was already used" in Client(HTTP_HOST="suffolk.localhost").get(link, follow=True).content
    assert sign_in(Client(HTTP_HOST="suffolk.localhost"), "bob@suffolk.test", NEW_PASSWORD)


def test_links_expire(db, monkeypatch):
    from datetime import datetime

    from tenant_apps.accounts.tokens import _PurposeTokenGenerator, invitation_tokens, reset_tokens

    with schema_context("suffolk"):
        bob = User.objects.get(email="bob@suffolk.test")
        invitation, reset = invitation_tokens.make_token(bob), reset_tokens.make_token(bob)
        later = datetime.now()  # naive local time, as the token generator reads it
        monkeypatch.setattr(_PurposeTokenGenerator, "_now", lambda self: later + timedelta(minutes=61))
        assert invitation_tokens.check_token(bob, invitation) and not reset_tokens.check_token(bob, reset)
        monkeypatch.setattr(_PurposeTokenGenerator, "_now", lambda self: later + timedelta(hours=72, minutes=1))
        assert not invitation_tokens.check_token(bob, invitation)
    # A Suffolk link is worthless for the user with the same id in Norfolk.
    monkeypatch.setattr(_PurposeTokenGenerator, "_now", lambda self: later)
    with schema_context("suffolk"):
        alice = User.objects.get(email="alice@suffolk.test")
        alices_link = invitation_tokens.make_token(alice)
        assert invitation_tokens.check_token(alice, alices_link)
    with schema_context("norfolk"):
        namesake = User.objects.get(pk=alice.pk)
        assert namesake.email != alice.email
        assert not invitation_tokens.check_token(namesake, alices_link)


def _message(response) -> str:
    return re.search(r"<li><a [^>]*>([^<]+)</a></li>", response.content.decode()).group(1)


def _session_clock(client: Client, slug: str, **seconds_ago: float) -> None:
    from django.contrib.sessions.backends.db import SessionStore

    with schema_context(slug):
        session = SessionStore(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)
        for key, ago in seconds_ago.items():
            session[{"signed_in": services.SESSION_SIGNED_IN_AT, "last_seen": services.SESSION_LAST_SEEN}[key]] = (
                time.time() - ago
            )
        session.save()
    connection.set_schema_to_public()


@pytest.mark.parametrize(
    ("idle_minutes", "clock", "expired"),
    [
        (30, {"last_seen": 29 * 60}, False),
        (30, {"last_seen": 31 * 60}, True),
        (5, {"last_seen": 6 * 60}, True),  # the partnership's own, shorter, idle timeout
        (30, {"signed_in": 12 * 3600 + 60, "last_seen": 10}, True),  # absolute: 12 hours
    ],
)
def test_session_timeouts(db, idle_minutes, clock, expired):
    from django.core.cache import cache

    from tenant_apps.accounts.models import SecuritySettings

    with schema_context("suffolk"):
        SecuritySettings.objects.update_or_create(pk=1, defaults={"session_idle_minutes": idle_minutes})
        cache.clear()
    client = Client(HTTP_HOST="suffolk.localhost")
    sign_in(client, "alice@suffolk.test")
    _session_clock(client, "suffolk", **clock)
    response = client.get("/", follow=True)
    if expired:
        assert response.redirect_chain[0][0].startswith("/account/sign-in/")
        assert b"session expired" in response.content
    else:
        assert response.status_code == 200 and not response.redirect_chain


def _session_writes(client: Client, path: str = "/") -> int:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return sum(
        1
        for q in queries.captured_queries
        if q["sql"].startswith(("UPDATE", "INSERT")) and "django_session" in q["sql"]
    )


def test_a_read_writes_the_session_only_when_the_last_seen_clock_moves_by_a_minute(db):
    """Reads must not need a writable database: the session is saved only to move the
    idle clock, and only when it is more than a minute old."""
    client = Client(HTTP_HOST="suffolk.localhost")
    sign_in(client, "alice@suffolk.test")
    assert [_session_writes(client) for _ in range(3)] == [0, 0, 0]
    _session_clock(client, "suffolk", last_seen=61)
    assert [_session_writes(client) for _ in range(2)] == [1, 0]


def test_the_session_id_rotates_at_each_factor(db):
    client = Client(HTTP_HOST="suffolk.localhost")
    client.get("/account/sign-in/")
    client.cookies[settings.SESSION_COOKIE_NAME] = "planted-by-an-attacker"
    client.post("/account/sign-in/", {"email": "alice@suffolk.test", "password": PASSWORD})
    after_password = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after_password != "planted-by-an-attacker"
    client.post("/account/two-factor/", {"code": totp_code("alice@suffolk.test")})
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != after_password
    assert client.get("/").status_code == 200


def test_sign_out_everywhere_ends_every_session(db):
    phone, desk = Client(HTTP_HOST="suffolk.localhost"), Client(HTTP_HOST="suffolk.localhost")
    sign_in(phone, "alice@suffolk.test")
    sign_in(desk, "alice@suffolk.test", window=1)
    assert desk.get("/").status_code == 200
    time.sleep(0.01)
    phone.post("/account/sign-out/everywhere/")
    assert phone.get("/").status_code == 302
    assert desk.get("/").status_code == 302


def test_a_deactivated_user_is_signed_out_at_once(db):
    client = Client(HTTP_HOST="suffolk.localhost")
    sign_in(client, "bob@suffolk.test")
    with schema_context("suffolk"):
        User.objects.filter(email="bob@suffolk.test").update(is_active=False)
    assert client.get("/").status_code == 302
    assert client.get("/api/v1/me/").status_code == 403


def test_second_factor_reset_by_an_admin_means_enrolling_again(db):
    client = Client(HTTP_HOST="suffolk.localhost")
    sign_in(client, "bob@suffolk.test")
    with schema_context("suffolk"):
        alice, bob = User.objects.get(email="alice@suffolk.test"), User.objects.get(email="bob@suffolk.test")
        services.second_factor_reset(request=service_request("suffolk", alice), user=bob)
        from tenant_apps.audit.models import AuditEvent

        assert AuditEvent.objects.filter(action="otp.reset", object_id=str(bob.pk), actor=alice).exists()
    assert client.get("/").status_code == 302  # the old session ended
    fresh = Client(HTTP_HOST="suffolk.localhost")
    fresh.post("/account/sign-in/", {"email": "bob@suffolk.test", "password": PASSWORD})
    assert fresh.get("/")["Location"] == "/account/two-factor/setup/"


def test_secrets_are_not_readable_from_the_database(db):
    with schema_context("suffolk"):
        bob = User.objects.get(email="bob@suffolk.test")
        codes = services.backup_codes_generate(user=bob)
        with connection.cursor() as cursor:
            cursor.execute("SELECT encrypted_key FROM accounts_totpdevice WHERE user_id = %s", [bob.pk])
            stored_key = cursor.fetchone()[0]
            cursor.execute("SELECT code_hash FROM accounts_backupcode")
            stored_codes = [row[0] for row in cursor.fetchall()]
    secret = TOTP_SECRETS["bob@suffolk.test"]
    assert secret not in stored_key and secret.lower() not in stored_key.lower()
    import base64

    assert base64.b32decode(secret).hex() not in stored_key
    for code in codes:
        assert all(code not in stored and code.replace("-", "") not in stored for stored in stored_codes)
    assert len(stored_codes) >= 10 and all(re.fullmatch(r"[0-9a-f]{64}", stored) for stored in stored_codes)


def test_password_policy_follows_ncsc_guidance():
    from concord.settings import base

    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    with pytest.raises(ValidationError, match="at least 12 characters"):
        validate_password("Tr0ub4dor&3")
    with pytest.raises(ValidationError, match="too common"):
        validate_password("password1234")
    validate_password("purple herons nest")  # no composition rules: lower-case words are fine


def test_argon2_hashes_passwords_outside_tests(settings):
    from django.contrib.auth.hashers import make_password

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    assert make_password("purple herons nest").startswith("argon2$argon2id$")


def test_an_invitation_survives_an_smtp_outage(db, smtp_server):
    """SMTP down: the invitation stays queued with the error; when it is back, it goes out once."""
    from tenant_apps.outbox.models import OutboundEmail

    smtp_server.stop()
    with schema_context("suffolk"):
        alice = User.objects.get(email="alice@suffolk.test")
        services.user_invite(
            request=service_request("suffolk", alice), email="dev.down@suffolk.test", full_name="Dev Down",
            role="viewer", partnership_name="Suffolk Community Safety Partnership",
        )  # fmt: skip
    with pytest.raises(mail.TemporaryMailError):
        deliver_mail("suffolk")
    with schema_context("suffolk"):
        queued = OutboundEmail.objects.get(to=["dev.down@suffolk.test"])
        assert queued.status == "queued" and queued.last_error and queued.attempts == 1
    smtp_server.start()
    deliver_mail("suffolk")
    deliver_mail("suffolk")  # a second run finds nothing left to send
    smtp_server.wait_for(1)
    assert [m["To"] for m in smtp_server.messages] == ["dev.down@suffolk.test"]
    with schema_context("suffolk"):
        assert OutboundEmail.objects.get(pk=queued.pk).status == "sent"


def test_the_api_permission_refuses_a_password_only_user():
    from types import SimpleNamespace

    from concord.api import IsVerified

    def request(authenticated: bool, verified: bool):
        user = SimpleNamespace(is_authenticated=authenticated, is_verified=lambda: verified)
        return SimpleNamespace(user=user)

    permission = IsVerified()
    assert permission.has_permission(request(True, True), None)
    assert not permission.has_permission(request(True, False), None)
    assert not permission.has_permission(request(False, False), None)


def test_wrong_enrolment_codes_count_towards_the_lock(db):
    """A password-only session cannot guess enrolment codes for ever either."""
    with schema_context("suffolk"):
        bob = User.objects.get(email="bob@suffolk.test")
        services.second_factor_reset(request=service_request("suffolk", bob), user=bob)
    client = Client(HTTP_HOST="suffolk.localhost")
    client.post("/account/sign-in/", {"email": "bob@suffolk.test", "password": PASSWORD})
    client.get(enrolment_link_queued("suffolk", "bob@suffolk.test"))  # enrolling after a reset needs the link
    client.get("/account/two-factor/setup/")
    for _ in range(5):
        client.post("/account/two-factor/setup/", {"code": "000000"})
    waiting = client.post("/account/two-factor/setup/", {"code": "000000"})
    assert b"Too many failed attempts for this e-mail address. Wait 1 minute" in waiting.content
    with schema_context("suffolk"):
        from tenant_apps.audit.models import AuditEvent

        assert AuditEvent.objects.filter(action="auth.sign_in_failed", object_id=str(bob.pk)).count() == 5
        assert AuditEvent.objects.filter(action="auth.delayed", object_id=str(bob.pk)).count() == 1


def test_enrolling_on_the_phone_itself_offers_the_otpauth_link_never_stored_nor_logged(db, caplog):
    """The set-up page links the same otpauth:// URI its QR code encodes (the app on this phone
    opens with the account filled in), shows the key in groups of four, is never stored, and
    neither the key nor the link reaches a log line."""
    import html
    import logging
    from urllib.parse import parse_qs, unquote, urlsplit

    from tenant_apps.accounts.models import TOTPDevice

    with schema_context("suffolk"):
        User.objects.create_user("erin.enrol@suffolk.test", password=PASSWORD, full_name="Erin Enrol",
                                 role="practitioner")  # fmt: skip
    phone = Client(HTTP_HOST="suffolk.localhost")
    caplog.set_level(logging.DEBUG)
    first = phone.post("/account/sign-in/", {"email": "erin.enrol@suffolk.test", "password": PASSWORD})
    assert first["Location"] == "/account/two-factor/setup/"
    setup = phone.get("/account/two-factor/setup/")
    page = setup.content.decode()
    assert "no-store" in setup["Cache-Control"] and "private" in setup["Cache-Control"]
    shown = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1)
    assert re.fullmatch(r"([A-Z2-7]{4} )+[A-Z2-7]{1,4}", shown), shown
    link = html.unescape(re.search(r'<a [^>]*href="(otpauth://[^"]+)"[^>]*>Add to an authenticator app on this phone<',
                                   page).group(1))  # fmt: skip
    parts = urlsplit(link)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert unquote(parts.path) == "/Concord Suffolk Community Safety Partnership:erin.enrol@suffolk.test"
    assert query == {"secret": shown.replace(" ", ""), "issuer": "Concord Suffolk Community Safety Partnership",
                     "digits": "6", "period": "30"}  # fmt: skip
    with schema_context("suffolk"):
        device = TOTPDevice.objects.get(user__email="erin.enrol@suffolk.test", confirmed=False)
        assert link == services.totp_provisioning_uri(
            device=device, partnership_name="Suffolk Community Safety Partnership"
        )  # fmt: skip  (the QR code's text)

    # An authenticator that took the link gives a code that confirms the enrolment.
    done = phone.post("/account/two-factor/setup/", {"code": pyotp.parse_uri(link).now()})
    assert done.status_code == 200 and "no-store" in done["Cache-Control"]
    assert len(re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", done.content.decode())) == 10
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert query["secret"] not in logged and shown not in logged and "otpauth" not in logged
