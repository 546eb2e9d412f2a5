"""Re-authentication and notice on every change of a factor (issue 18, point 2): the real flows.

The cast: Bob (Suffolk practitioner) changes his factors; Alice (Suffolk admin) resets Bob's
second factor and is told when Bob reports a change he did not make; Nina (Norfolk admin) must
never be told about Suffolk, and no Norfolk link or session may act on Suffolk (nor the reverse).
Codes come from pyotp, as a phone would compute them; e-mail goes through the outbox job to a
real SMTP server on loopback.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pyotp
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from tenant_apps.accounts import services
from tenant_apps.accounts.models import BackupCode, SecurityNotice, TOTPDevice, User
from tenant_apps.audit.models import AuditEvent
from tenant_apps.outbox.models import OutboundEmail
from tests.conftest import PASSWORD, TOTP_SECRETS, sign_in, totp_code
from tests.test_accounts import deliver_mail, enrolment_link_queued, secret_on_page, service_request

BOB = "bob@suffolk.test"
NEW_PASSWORD = "a kettle of purple herons"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
CONFIRM = "/account/confirm-it-is-you/"


def _client(slug: str = "suffolk", address: str = "198.51.100.7") -> Client:
    return Client(HTTP_HOST=f"{slug}.localhost", REMOTE_ADDR=address, HTTP_USER_AGENT=FIREFOX)


def _bob(client: Client | None = None, *, window: int = 0) -> Client:
    client = client or _client()
    sign_in(client, BOB, window=window)
    return client


def _confirm(client: Client, code: str, password: str = PASSWORD, next_url: str = "/"):
    return client.post(CONFIRM, {"password": password, "code": code, "next": next_url})


def _events(action: str, user_email: str = BOB, slug: str = "suffolk") -> list[AuditEvent]:
    with schema_context(slug):
        user = User.objects.get(email=user_email)
        events = list(AuditEvent.objects.filter(action=action, object_id=str(user.pk)).order_by("occurred_at", "id"))
    connection.set_schema_to_public()
    return events


def _queued(slug: str, email: str) -> list[OutboundEmail]:
    with schema_context(slug):
        mails = list(OutboundEmail.objects.filter(to=[email]).order_by("created_at"))
    connection.set_schema_to_public()
    return mails


def _not_me_path(body: str) -> str:
    return re.search(r"https?://\S+(/account/not-me/\S+/)", body).group(1)


def _reauth_clock(client: Client, slug: str, seconds_ago: float) -> None:
    from django.contrib.sessions.backends.db import SessionStore

    with schema_context(slug):
        session = SessionStore(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)
        session[services.SESSION_REAUTHENTICATED_AT] = time.time() - seconds_ago
        session.save()
    connection.set_schema_to_public()


def test_replacing_the_authenticator_needs_the_password_and_a_current_code(db):
    bob = _bob()
    old_secret = TOTP_SECRETS[BOB]
    # Signed in with both factors is not enough: the page with a new key sends Bob to confirm first.
    for response in (bob.get("/account/two-factor/setup/"), bob.post("/account/two-factor/setup/", {"code": "1"})):
        assert response.status_code == 302
        assert response["Location"] == f"{CONFIRM}?next={quote('/account/two-factor/setup/', safe='')}"
    with schema_context("suffolk"):
        assert not TOTPDevice.objects.filter(user__email=BOB, confirmed=False).exists()  # no key was made
    connection.set_schema_to_public()

    page = bob.get(f"{CONFIRM}?next=/account/two-factor/setup/")
    assert page.status_code == 200 and b'name="password"' in page.content and b'name="code"' in page.content
    # A wrong password with the right code, or the right password with a wrong code: refused, counted.
    wrong = _confirm(bob, totp_code(BOB, window=1), password="not my password at all")
    assert wrong.status_code == 200 and b"Enter your current password and a current code" in wrong.content
    assert _confirm(bob, "000000").status_code == 200
    assert len(_events("auth.sign_in_failed")) == 2
    assert bob.get("/account/two-factor/setup/").status_code == 302  # still not confirmed
    # An address elsewhere is not followed.
    done = _confirm(bob, totp_code(BOB, window=1), next_url="https://evil.example/")
    assert done.status_code == 302 and done["Location"] == "/"
    assert [e.summary for e in _events("auth.reauthenticated")] == ["password and authenticator code confirmed"]

    # Confirmed: the new key is shown and a code from it replaces the old authenticator.
    setup = bob.get("/account/two-factor/setup/")
    assert setup.status_code == 200
    new_secret = secret_on_page(setup)
    replaced = bob.post("/account/two-factor/setup/", {"code": pyotp.TOTP(new_secret).now()})
    assert replaced.status_code == 200 and b"Your authenticator app is set up" in replaced.content
    with schema_context("suffolk"):
        devices = list(TOTPDevice.objects.filter(user__email=BOB))
        assert len(devices) == 1 and devices[0].confirmed
    connection.set_schema_to_public()
    other = _client(address="198.51.100.77")
    other.post("/account/sign-in/", {"email": BOB, "password": PASSWORD})
    assert other.post("/account/two-factor/", {"code": pyotp.TOTP(old_secret).at(time.time() + 60)}).status_code == 200
    assert other.post("/account/two-factor/", {"code": pyotp.TOTP(new_secret).at(time.time() + 30)})["Location"] == "/"
    assert "replaced" in _events("otp.enrolled")[-1].summary

    # The window closes after REAUTH_SECONDS: confirming again is needed.
    _reauth_clock(bob, "suffolk", settings.REAUTH_SECONDS + 1)
    assert bob.get("/account/two-factor/setup/")["Location"].startswith(CONFIRM)


def test_reauthentication_failures_count_towards_the_sign_in_delays(db):
    """Five wrong answers in a row from one source: it must wait, and the session is signed out."""
    bob = _bob()
    for _ in range(settings.SIGN_IN_FREE_FAILURES - 1):
        assert _confirm(bob, "000000", password="wrong wrong wrong").status_code == 200
    locked = _confirm(bob, "000000", password="wrong wrong wrong")
    assert locked.status_code == 302 and locked["Location"] == "/account/sign-in/"
    assert bob.get("/").status_code == 302  # signed out
    assert len(_events("auth.delayed")) == 1
    # This browser (its trusted-device cookie: the source) now waits to sign in, right password or
    # not: the normal sign-in delay. Bob elsewhere is not held up (README "Accounts").
    again = bob.post("/account/sign-in/", {"email": BOB, "password": PASSWORD})
    assert again.status_code == 200 and b"Wait 1 minute" in again.content
    assert (
        _client(address="198.51.100.99").post("/account/sign-in/", {"email": BOB, "password": PASSWORD})["Location"]
        == "/account/two-factor/"
    )


def test_regenerating_backup_codes_needs_the_password_and_a_current_code(db):
    with schema_context("suffolk"):
        old_codes = services.backup_codes_generate(user=User.objects.get(email=BOB))
    connection.set_schema_to_public()
    bob = _bob()
    for response in (bob.get("/account/two-factor/backup-codes/"), bob.post("/account/two-factor/backup-codes/")):
        assert response.status_code == 302
        assert response["Location"] == f"{CONFIRM}?next={quote('/account/two-factor/backup-codes/', safe='')}"
    with schema_context("suffolk"):
        assert BackupCode.objects.filter(device__user__email=BOB, used_at__isnull=True).count() == 10  # unchanged
    connection.set_schema_to_public()
    assert _confirm(bob, old_codes[0], password="a wrong password here").status_code == 200
    # A backup code stands for the app; with the wrong password it was not spent.
    assert _confirm(bob, old_codes[0], next_url="/account/two-factor/backup-codes/")["Location"] == (
        "/account/two-factor/backup-codes/"
    )
    assert "backup code (9 left)" in _events("auth.reauthenticated")[-1].summary
    assert bob.get("/account/two-factor/backup-codes/").status_code == 200
    issued = bob.post("/account/two-factor/backup-codes/")
    new_codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", issued.content.decode())
    assert issued.status_code == 200 and len(set(new_codes)) == 10 and not set(new_codes) & set(old_codes)
    # The old codes stop working; a new one signs in.
    other = _client()
    other.post("/account/sign-in/", {"email": BOB, "password": PASSWORD})
    assert other.post("/account/two-factor/", {"code": old_codes[1]}).status_code == 200
    assert other.post("/account/two-factor/", {"code": new_codes[0]})["Location"] == "/"
    assert len(_events("otp.backup_codes_regenerated")) == 1


def test_changing_the_password_needs_the_current_password(db):
    desk, phone = _bob(), _bob(window=1)
    page = desk.get("/account/password/")
    assert page.status_code == 200 and b'name="old_password"' in page.content
    wrong = desk.post("/account/password/", {"old_password": "not the password", "new_password1": NEW_PASSWORD,
                                             "new_password2": NEW_PASSWORD})  # fmt: skip
    assert wrong.status_code == 200 and b"Your current password is not right." in wrong.content
    assert len(_events("auth.sign_in_failed")) == 1
    weak = desk.post("/account/password/", {"old_password": PASSWORD, "new_password1": "short",
                                            "new_password2": "short"})  # fmt: skip
    assert weak.status_code == 200 and b"at least 12 characters" in weak.content
    common = desk.post("/account/password/", {"old_password": PASSWORD, "new_password1": "password1234",
                                              "new_password2": "password1234"})  # fmt: skip
    assert b"too common" in common.content
    mismatch = desk.post("/account/password/", {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                                                "new_password2": NEW_PASSWORD + "s"})  # fmt: skip
    assert mismatch.status_code == 200
    with schema_context("suffolk"):
        assert User.objects.get(email=BOB).check_password(PASSWORD)  # nothing changed so far
    connection.set_schema_to_public()

    key_before = desk.cookies[settings.SESSION_COOKIE_NAME].value
    done = desk.post("/account/password/", {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                                            "new_password2": NEW_PASSWORD})  # fmt: skip
    assert done.status_code == 302 and done["Location"] == "/"
    assert desk.cookies[settings.SESSION_COOKIE_NAME].value != key_before  # a new id for this session
    assert desk.get("/").status_code == 200  # this session stays
    assert phone.get("/").status_code == 302  # the other one ended
    assert _client().post("/account/sign-in/", {"email": BOB, "password": PASSWORD}).status_code == 200
    assert sign_in(_client(address="198.51.100.8"), BOB, NEW_PASSWORD, window=2)
    assert len(_events("auth.password_changed")) == 1


def _when_is_now(body: str) -> None:
    when = re.search(r"When: (\d{1,2} \w+ \d{4} at \d\d:\d\d) \(London time\)", body).group(1)
    moment = datetime.strptime(when, "%d %B %Y at %H:%M").replace(tzinfo=ZoneInfo("Europe/London"))
    assert abs(moment - timezone.now()) < timedelta(minutes=2), when


def test_each_change_of_a_factor_emails_the_user_what_when_and_where(db, smtp_server):
    with schema_context("suffolk"):
        old_codes = services.backup_codes_generate(user=User.objects.get(email=BOB))
    connection.set_schema_to_public()
    bob = _bob()
    assert _confirm(bob, totp_code(BOB, window=1))["Location"] == "/"
    new_secret = secret_on_page(bob.get("/account/two-factor/setup/"))
    bob.post("/account/two-factor/setup/", {"code": pyotp.TOTP(new_secret).now()})
    issued = bob.post("/account/two-factor/backup-codes/").content.decode()
    new_codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", issued)
    # A refused change sends nothing.
    bob.post("/account/password/", {"old_password": "wrong", "new_password1": NEW_PASSWORD,
                                    "new_password2": NEW_PASSWORD})  # fmt: skip
    assert len(_queued("suffolk", BOB)) == 2
    bob.post("/account/password/", {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                                    "new_password2": NEW_PASSWORD})  # fmt: skip
    with schema_context("suffolk"):
        alice, bob_user = User.objects.get(email="alice@suffolk.test"), User.objects.get(email=BOB)
        services.second_factor_reset(request=service_request("suffolk", alice), user=bob_user)
    connection.set_schema_to_public()

    deliver_mail("suffolk")
    smtp_server.wait_for(4)
    assert [m["To"] for m in smtp_server.messages] == [BOB] * 4
    partnership = "Suffolk Community Safety Partnership"
    assert [m["Subject"] for m in smtp_server.messages] == [
        f"Your authenticator app was replaced ({partnership})",
        f"Your backup codes were replaced ({partnership})",
        f"Your password was changed ({partnership})",
        f"Your second factor was reset by a partnership admin ({partnership})",
    ]
    bodies = [m.get_body(preferencelist=("plain",)).get_content() for m in smtp_server.messages]
    for body in bodies[:3]:
        assert "Where: 198.51.100.7, Firefox on Windows" in body
    assert "Where: 192.0.2.10, an unrecognised browser or program" in bodies[3]  # the admin's request
    assert "By: Alice Adams, a partnership admin" in bodies[3]
    assert re.search(r"/account/enrol/\S+/\S+/", bodies[3])  # how to enrol again
    for body in bodies:
        _when_is_now(body)
        assert _not_me_path(body)
        assert "expires in 7 days" in body
        # Nothing secret: no password, key or code.
        for secret in [PASSWORD, NEW_PASSWORD, new_secret, TOTP_SECRETS[BOB], *old_codes, *new_codes]:
            assert secret not in body and secret.replace("-", "") not in body
    assert len({_not_me_path(body) for body in bodies}) == 4  # one link per notice
    # Norfolk heard nothing of it.
    assert _queued("norfolk", "nina@norfolk.test") == []


def test_this_wasnt_me_signs_out_everywhere_and_tells_the_admins(db, smtp_server):
    desk = _bob()
    desk.post("/account/password/", {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                                     "new_password2": NEW_PASSWORD})  # fmt: skip
    phone = _client(address="198.51.100.60")  # whoever changed it signs in again elsewhere
    sign_in(phone, BOB, NEW_PASSWORD, window=1)
    path = _not_me_path(_queued("suffolk", BOB)[-1].body)
    # Nina's own notice, in Norfolk (her password changed too).
    norfolk = _client("norfolk")
    sign_in(norfolk, "nina@norfolk.test")
    norfolk.post("/account/password/", {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                                        "new_password2": NEW_PASSWORD})  # fmt: skip
    ninas_path = _not_me_path(_queued("norfolk", "nina@norfolk.test")[-1].body)
    assert desk.get("/").status_code == 200 and phone.get("/").status_code == 200

    # Isolation: a Suffolk link on Norfolk's host, and Nina's on Suffolk's, do nothing.
    for host, link in (("norfolk", path), ("suffolk", ninas_path)):
        stranger = _client(host, address="203.0.113.50")
        assert b"expired or was already used" in stranger.get(link).content
        assert b"expired or was already used" in stranger.post(link).content
    assert desk.get("/").status_code == 200 and norfolk.get("/").status_code == 200
    # A tampered link and an expired one do nothing either.
    tampered = path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]
    assert b"expired or was already used" in _client().post(tampered).content

    # Bob opens the link on another device (he may be signed out already): GET asks, changes nothing.
    other = _client(address="203.0.113.9")
    asked = other.get(path)
    assert asked.status_code == 200 and b"It was not me: sign me out everywhere" in asked.content
    assert b"Your password was changed on" in asked.content
    assert desk.get("/").status_code == 200
    assert other.post(path).status_code == 200
    assert desk.get("/").status_code == 302 and phone.get("/").status_code == 302  # signed out everywhere
    assert _client().post("/account/sign-in/", {"email": BOB, "password": NEW_PASSWORD})["Location"] == (
        "/account/two-factor/"
    )  # the password itself is not changed: the user resets it by e-mail (the page says so)
    reported = _events("auth.not_me_reported")
    assert len(reported) == 1 and "Your password was changed" in reported[0].summary
    assert len(_events("auth.sign_out_everywhere")) == 1
    with schema_context("suffolk"):
        assert SecurityNotice.objects.get(user__email=BOB).reported_at is not None
    connection.set_schema_to_public()

    # Single use: a second POST changes nothing and tells no one.
    assert b"expired or was already used" in other.post(path).content
    deliver_mail("suffolk")
    deliver_mail("norfolk")
    smtp_server.wait_for(3)
    alerts = [m for m in smtp_server.messages if m["Subject"].startswith("Security alert")]
    assert [m["To"] for m in alerts] == ["alice@suffolk.test"]  # Suffolk's admin, not Norfolk's
    body = alerts[0].get_body(preferencelist=("plain",)).get_content()
    assert "Bob Brown (bob@suffolk.test)" in body and "their password was changed" in body
    assert "From where: 198.51.100.7, Firefox on Windows" in body and "203.0.113.9" in body
    assert NEW_PASSWORD not in body and PASSWORD not in body
    # Nina's notice is still unused and her session untouched.
    assert norfolk.get("/").status_code == 200
    assert b"It was not me" in _client("norfolk").get(ninas_path).content


def test_a_this_wasnt_me_link_expires(db, settings):
    bob = _bob()
    bob.post("/account/password/", {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                                    "new_password2": NEW_PASSWORD})  # fmt: skip
    path = _not_me_path(_queued("suffolk", BOB)[-1].body)
    settings.NOT_ME_LINK_SECONDS = -1
    assert b"expired or was already used" in _client().post(path).content
    assert bob.get("/").status_code == 200


def test_after_an_admin_reset_enrolment_needs_a_fresh_emailed_link(db):
    admin = _client(address="192.0.2.20")
    sign_in(admin, "alice@suffolk.test")
    with schema_context("suffolk"):
        bob_user = User.objects.get(email=BOB)
    connection.set_schema_to_public()
    done = admin.post(f"/admin/users/{bob_user.pk}/reset-second-factor/")
    assert done.status_code in (200, 302), done.content[:500]
    assert _events("otp.reset")
    first_link = enrolment_link_queued("suffolk", BOB)

    # The password alone shows where the link is, and no key.
    bob = _client()
    signed_in = bob.post("/account/sign-in/", {"email": BOB, "password": PASSWORD})
    assert signed_in["Location"] == "/account/two-factor/setup/"
    for blocked in (bob.get("/account/two-factor/setup/"), bob.post("/account/two-factor/setup/", {"code": "123456"})):
        assert blocked.status_code == 200 and b'id="enrolment-link-sent"' in blocked.content
        assert b"totp-secret" not in blocked.content and b"otpauth" not in blocked.content
    with schema_context("suffolk"):
        assert not TOTPDevice.objects.filter(user__email=BOB).exists()
    connection.set_schema_to_public()

    # A new link at most once a minute; the new one replaces the old.
    soon = bob.post("/account/enrol/new-link/", follow=True)
    assert b"less than a minute ago" in soon.content
    with schema_context("suffolk"):
        User.objects.filter(email=BOB).update(enrolment_link_issued_at=timezone.now() - timedelta(minutes=2))
    connection.set_schema_to_public()
    resent = bob.post("/account/enrol/new-link/", follow=True)
    assert b"We have e-mailed a new link to bob@suffolk.test" in resent.content
    link = enrolment_link_queued("suffolk", BOB)
    assert link != first_link
    assert b"expired or was already used" in _client().get(first_link).content

    # Isolation: the Suffolk link on Norfolk's host is worthless (and Norfolk's user is untouched).
    assert b"expired or was already used" in _client("norfolk").get(link).content

    # The link, opened in a fresh browser, then the password: enrolment.
    phone = _client(address="198.51.100.30")
    opened = phone.get(link)
    assert opened.status_code == 302 and opened["Location"] == "/account/sign-in/"
    assert phone.post("/account/sign-in/", {"email": BOB, "password": PASSWORD})["Location"] == (
        "/account/two-factor/setup/"
    )
    setup = phone.get("/account/two-factor/setup/")
    secret = secret_on_page(setup)
    enrolled = phone.post("/account/two-factor/setup/", {"code": pyotp.TOTP(secret).now()})
    assert enrolled.status_code == 200 and b"Your authenticator app is set up" in enrolled.content
    assert phone.get("/").status_code == 200
    assert "after an admin's reset" in _events("otp.enrolled")[-1].summary
    # Single use: the link is spent.
    assert b"expired or was already used" in _client().get(link).content
    with schema_context("suffolk"):
        assert User.objects.get(email=BOB).enrolment_link_issued_at is None
        assert [n.change for n in SecurityNotice.objects.filter(user__email=BOB).order_by("created_at")] == [
            SecurityNotice.Change.SECOND_FACTOR_RESET,
            SecurityNotice.Change.AUTHENTICATOR_ENROLLED,
        ]
    connection.set_schema_to_public()


def test_a_norfolk_link_or_session_cannot_act_on_suffolk(db):
    """Nina (Norfolk) confirmed it is her in Norfolk and has an enrolment link of Norfolk's: neither
    her session nor her link does anything on Suffolk's host, not even for the Suffolk user with
    her id, whose own second factor was reset too (so a link of Suffolk's would be valid for him)."""
    nina = _client("norfolk")
    sign_in(nina, "nina@norfolk.test")
    assert _confirm(nina, totp_code("nina@norfolk.test", window=1))["Location"] == "/"
    assert nina.get("/account/two-factor/backup-codes/").status_code == 200  # fresh, in Norfolk
    carried = _client("suffolk", address="203.0.113.60")
    carried.cookies[settings.SESSION_COOKIE_NAME] = nina.cookies[settings.SESSION_COOKIE_NAME].value
    change = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    codes_page = "/account/two-factor/backup-codes/"
    for response in (carried.get(codes_page), carried.post(codes_page), carried.post("/account/password/", change)):
        assert response.status_code == 302 and response["Location"].startswith("/account/sign-in/")

    with schema_context("norfolk"):
        nina_user = User.objects.get(email="nina@norfolk.test")
        services.second_factor_reset(request=service_request("norfolk", nina_user), user=nina_user)
    connection.set_schema_to_public()
    ninas_link = enrolment_link_queued("norfolk", "nina@norfolk.test")
    with schema_context("suffolk"):
        namesake = User.objects.get(pk=nina_user.pk)  # the Suffolk user with Nina's id
        services.second_factor_reset(request=service_request("suffolk", namesake), user=namesake)
        passwords = dict(User.objects.values_list("email", "password"))
        codes = BackupCode.objects.count()
    connection.set_schema_to_public()
    stranger = _client("suffolk", address="203.0.113.61")
    assert b"expired or was already used" in stranger.get(ninas_link).content
    stranger.post("/account/sign-in/", {"email": namesake.email, "password": PASSWORD})
    assert b'id="enrolment-link-sent"' in stranger.get("/account/two-factor/setup/").content  # no key for him
    with schema_context("suffolk"):
        assert dict(User.objects.values_list("email", "password")) == passwords
        assert BackupCode.objects.count() == codes
        assert not SecurityNotice.objects.filter(reported_at__isnull=False).exists()
    connection.set_schema_to_public()
    # Nina's link still works where it belongs.
    assert _client("norfolk").get(ninas_link)["Location"] == "/account/sign-in/"


def _link_path(body: str, kind: str) -> str:
    return re.search(rf"https?://\S+?(/account/{kind}/\S+/\S+/)", body).group(1)


def _set_password_by_link(client: Client, path: str) -> None:
    form = client.get(path, follow=True)
    done = client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"].startswith("/account/two-factor/")


def test_a_password_reset_by_link_emails_the_user_a_notice(db):
    desk = _bob()  # Bob's own session elsewhere: the reset ends it
    resetting = _client(address="198.51.100.9")
    resetting.post("/account/password-reset/", {"email": BOB})
    _set_password_by_link(resetting, _link_path(_queued("suffolk", BOB)[-1].body, "reset-password"))

    mails = _queued("suffolk", BOB)
    assert len(mails) == 2  # the reset link, then the notice
    notice = mails[-1]
    assert notice.subject == "Your password was changed (Suffolk Community Safety Partnership)"
    assert "It was set through a password reset link e-mailed to you." in notice.body
    assert "Where: 198.51.100.9, Firefox on Windows" in notice.body
    _when_is_now(notice.body)
    assert NEW_PASSWORD not in notice.body and PASSWORD not in notice.body
    with schema_context("suffolk"):
        assert list(SecurityNotice.objects.filter(user__email=BOB).values_list("change", flat=True)) == [
            SecurityNotice.Change.PASSWORD_CHANGED
        ]
    connection.set_schema_to_public()
    assert desk.get("/").status_code == 302

    # "This wasn't me" works as for a change: the resetting session ends, the admins are told.
    assert resetting.get("/account/two-factor/").status_code == 200
    assert _client(address="203.0.113.9").post(_not_me_path(notice.body)).status_code == 200
    assert resetting.get("/account/two-factor/")["Location"].startswith("/account/sign-in/")
    assert len(_events("auth.not_me_reported")) == 1
    assert [m.subject for m in _queued("suffolk", "alice@suffolk.test")][-1].startswith("Security alert")

    # The first password, set through an invitation, is no change of a factor: no notice.
    with schema_context("suffolk"):
        alice = User.objects.get(email="alice@suffolk.test")
        services.user_invite(
            request=service_request("suffolk", alice), email="carol@suffolk.test", full_name="Carol Case",
            role="practitioner", partnership_name="Suffolk Community Safety Partnership",
        )  # fmt: skip
    connection.set_schema_to_public()
    invited = _queued("suffolk", "carol@suffolk.test")
    _set_password_by_link(_client(), _link_path(invited[-1].body, "set-password"))
    assert len(_queued("suffolk", "carol@suffolk.test")) == 1
    with schema_context("suffolk"):
        assert not SecurityNotice.objects.filter(user__email="carol@suffolk.test").exists()
    connection.set_schema_to_public()
    # Norfolk heard nothing of either; its user with Bob's id has no notice.
    with schema_context("norfolk"):
        assert not SecurityNotice.objects.exists() and not OutboundEmail.objects.exists()
    connection.set_schema_to_public()
