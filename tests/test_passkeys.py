"""Passkeys (WebAuthn) as a second factor (issue 11, point 4): the server side, real flows.

The cast: Bob (Suffolk practitioner) adds, names, renames and removes passkeys and signs in
with them; Alice (Suffolk admin) resets his second factor; Nina (Norfolk admin) must never be
able to use a passkey made in Suffolk, on Norfolk's host or with Norfolk's challenge; Olu, an
operator on the platform domain, has passkeys of his own. The "browser" is a software
authenticator (tests/webauthn_authenticator.py: an ES256 key, authenticatorData and
clientDataJSON as a platform authenticator writes them); the browser test is
tests/browser/test_passkeys_browser.py.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_otp_webauthn.models import WebAuthnCredential
from django_tenants.utils import schema_context

from tenant_apps.accounts import services
from tenant_apps.accounts.models import BackupCode, FailedSignIn, SecurityNotice, TOTPDevice, User
from tenant_apps.audit.models import AuditEvent
from tenant_apps.outbox.models import OutboundEmail
from tests.conftest import PASSWORD, TOTP_SECRETS, enrol_authenticator, sign_in, totp_code
from tests.webauthn_authenticator import SoftAuthenticator

BOB = "bob@suffolk.test"
NINA = "nina@norfolk.test"
OPERATOR = "olu@operators.test"
CONFIRM = "/account/confirm-it-is-you/"
ADD = "/account/passkeys/add/"
TWO_FACTOR = "/account/two-factor/"
OPTIONS = re.compile(r'<script id="passkey-options" type="application/json">(.*?)</script>', re.S)


def _client(slug: str | None = "suffolk", address: str = "198.51.100.7") -> Client:
    host = f"{slug}.localhost" if slug else "localhost"
    return Client(HTTP_HOST=host, REMOTE_ADDR=address)


def _origin(slug: str | None = "suffolk") -> str:
    return f"http://{slug}.localhost" if slug else "http://localhost"


def options_on(response) -> dict:
    match = OPTIONS.search(response.content.decode())
    assert match, response.content[:1500]
    return json.loads(match.group(1))


def _confirmed(client: Client, email: str = BOB, *, window: int = 1) -> None:
    """Confirm it is you (password and the next code), as the changes need."""
    done = client.post(CONFIRM, {"password": PASSWORD, "code": totp_code(email, window=window), "next": "/"})
    assert done.status_code == 302, done.content[:800]


def add_passkey(client: Client, key: SoftAuthenticator, name: str, *, slug: str | None = "suffolk"):
    page = client.get(ADD)
    assert page.status_code == 200, page.status_code
    credential = key.create(options_on(page), origin=_origin(slug))
    return client.post(ADD, {"name": name, "credential": credential})


def _passkeys(email: str = BOB, slug: str = "suffolk") -> list[WebAuthnCredential]:
    with schema_context(slug):
        found = list(WebAuthnCredential.objects.filter(user__email=email).order_by("pk"))
    connection.set_schema_to_public()
    return found


def _events(action: str, email: str = BOB, slug: str = "suffolk") -> list[AuditEvent]:
    with schema_context(slug):
        user = User.objects.get(email=email)
        events = list(AuditEvent.objects.filter(action=action, object_id=str(user.pk)).order_by("occurred_at", "id"))
    connection.set_schema_to_public()
    return events


def _notices(email: str = BOB, slug: str = "suffolk") -> list[str]:
    with schema_context(slug):
        found = list(
            SecurityNotice.objects.filter(user__email=email).order_by("created_at").values_list("change", flat=True)
        )
    connection.set_schema_to_public()
    return found


def _reauth_clock(client: Client, slug: str, seconds_ago: float) -> None:
    """As if the session had confirmed it is you ``seconds_ago``."""
    import time

    from django.contrib.sessions.backends.db import SessionStore

    with schema_context(slug):
        session = SessionStore(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)
        session[services.SESSION_REAUTHENTICATED_AT] = time.time() - seconds_ago
        session.save()
    connection.set_schema_to_public()


def _password_only(client: Client, email: str = BOB):
    first = client.post("/account/sign-in/", {"email": email, "password": PASSWORD})
    assert first.status_code == 302 and first["Location"] == TWO_FACTOR
    return client.get(TWO_FACTOR)


def _failures() -> int:
    with schema_context("public"):
        return FailedSignIn.objects.count()


def _bob_with_a_passkey(name: str = "Work laptop") -> tuple[Client, SoftAuthenticator]:
    bob = _client()
    sign_in(bob, BOB)
    _confirmed(bob)
    key = SoftAuthenticator()
    assert add_passkey(bob, key, name)["Location"] == "/account/security/"
    return bob, key


# --- Adding, listing, renaming, removing ------------------------------------------------------


def test_bob_adds_two_named_passkeys_and_sees_them_listed(db):
    bob, laptop = _bob_with_a_passkey("Work laptop")
    phone = SoftAuthenticator()
    # A second one: the page's options exclude the first (the browser would not make it twice).
    page = bob.get(ADD)
    assert [d["id"] for d in options_on(page)["excludeCredentials"]] == [_b64(laptop.credential_id)]
    assert options_on(page)["rp"] == {
        "id": "suffolk.localhost",
        "name": "Concord: Suffolk Community Safety Partnership",
    }
    assert (
        bob.post(ADD, {"name": "My phone", "credential": phone.create(options_on(page), origin=_origin())})["Location"]
        == "/account/security/"
    )
    passkeys = _passkeys()
    assert [p.name for p in passkeys] == ["Work laptop", "My phone"] and all(p.confirmed for p in passkeys)
    page = bob.get("/account/security/").content.decode()
    assert "Work laptop" in page and "My phone" in page and page.count("Not used yet") == 2
    assert 'Rename<span class="govuk-visually-hidden"> My phone</span>' in page
    # Each addition is audited and e-mailed with a "this wasn't me" link; no key material in the mail.
    assert [e.summary for e in _events("otp.passkey_added")] == [
        'passkey "Work laptop" added',
        'passkey "My phone" added',
    ]
    assert _notices() == [SecurityNotice.Change.PASSKEY_ADDED] * 2
    with schema_context("suffolk"):
        mail = (
            OutboundEmail.objects.filter(to=[BOB], subject__startswith="A passkey was added")
            .order_by("-created_at")
            .first()
        )
    connection.set_schema_to_public()
    assert mail is not None and "/account/not-me/" in mail.body and "My phone" in mail.body
    assert _b64(phone.credential_id) not in mail.body


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_passkey_name_is_required_unique_and_named_on_the_form(db):
    bob, _ = _bob_with_a_passkey("Work laptop")
    refusals = [("", "Enter a name for the passkey"), ("  work LAPTOP ", "already have a passkey with this name"),
                ("x" * 65, "at most 64 characters")]  # fmt: skip
    for name, message in refusals:
        page = bob.get(ADD)
        refused = bob.post(
            ADD, {"name": name, "credential": SoftAuthenticator().create(options_on(page), origin=_origin())}
        )
        assert refused.status_code == 200 and message in refused.content.decode(), name
        assert 'id="id_name_error"' in refused.content.decode()
    assert len(_passkeys()) == 1
    # A passkey made for another origin, or an answer to no challenge: refused on the form, nothing kept.
    page = bob.get(ADD)
    elsewhere = SoftAuthenticator().create(options_on(page), origin="http://norfolk.localhost")
    for credential in (elsewhere, elsewhere, "not json"):
        refused = bob.post(ADD, {"name": "Phone", "credential": credential})
        assert refused.status_code == 200 and "The passkey could not be added" in refused.content.decode()
    assert [p.name for p in _passkeys()] == ["Work laptop"]


def test_adding_renaming_and_removing_each_need_a_fresh_confirmation(db):
    bob = _client()
    sign_in(bob, BOB)
    # Signed in with both factors is not enough.
    response = bob.get(ADD)
    assert response.status_code == 302 and response["Location"] == f"{CONFIRM}?next={quote(ADD, safe='')}"
    assert bob.post(ADD, {"name": "Laptop", "credential": "{}"})["Location"].startswith(CONFIRM)
    _confirmed(bob)
    key = SoftAuthenticator()
    assert add_passkey(bob, key, "Laptop")["Location"] == "/account/security/"
    passkey = _passkeys()[0]
    rename, remove = f"/account/passkeys/{passkey.pk}/rename/", f"/account/passkeys/{passkey.pk}/remove/"
    assert bob.post(rename, {"name": "Old laptop"})["Location"] == "/account/security/"
    assert _passkeys()[0].name == "Old laptop"
    assert _events("otp.passkey_renamed")[0].summary == 'passkey "Laptop" renamed "Old laptop"'

    # The window closes: each change asks again, and nothing changes meanwhile.
    _reauth_clock(bob, "suffolk", settings.REAUTH_SECONDS + 1)
    for path, data in ((ADD, {"name": "New"}), (rename, {"name": "Renamed"}), (remove, {})):
        assert bob.get(path)["Location"] == f"{CONFIRM}?next={quote(path, safe='')}"
        assert bob.post(path, data)["Location"].startswith(CONFIRM)
    assert [p.name for p in _passkeys()] == ["Old laptop"]
    with pytest.raises(services.ReauthenticationRequired):
        request = _request_for(bob)
        services.passkey_remove(request=request, passkey=_passkeys()[0])

    _confirmed(bob, window=2)
    assert bob.get(remove).status_code == 200
    assert bob.post(remove)["Location"] == "/account/security/"
    assert _passkeys() == []
    assert _events("otp.passkey_removed")[0].summary == 'passkey "Old laptop" removed'
    assert _notices() == [SecurityNotice.Change.PASSKEY_ADDED, SecurityNotice.Change.PASSKEY_REMOVED]


def _request_for(client: Client):
    """A request carrying ``client``'s session and user, for calling a service directly."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    from tenants.models import Partnership

    request = RequestFactory().post("/", HTTP_HOST="suffolk.localhost")
    connection.set_tenant(Partnership.objects.get(schema_name="suffolk"))
    request.session = SessionStore(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)
    request.user = User.objects.get(email=BOB)
    return request


def test_someone_else_s_passkey_is_404_to_rename_or_remove(db, cast):
    bob, _ = _bob_with_a_passkey()
    passkey = _passkeys()[0]
    carl = _client(address="198.51.100.8")
    sign_in(carl, "carl@suffolk.test")
    _confirmed(carl, "carl@suffolk.test")
    for path in (f"/account/passkeys/{passkey.pk}/rename/", f"/account/passkeys/{passkey.pk}/remove/"):
        assert carl.get(path).status_code == 404
        assert carl.post(path, {"name": "Mine now"}).status_code == 404
    assert [p.name for p in _passkeys()] == ["Work laptop"]


def test_a_passkey_needs_a_factor_that_works_without_it(db):
    """Only a user who can sign in without the passkey may add one: the app or backup codes left."""
    with schema_context("suffolk"):
        bob = User.objects.get(email=BOB)
        codes = services.backup_codes_generate(user=bob)
        assert services.has_factor_besides_passkeys(bob)
    connection.set_schema_to_public()
    client = _client()
    _password_only(client)
    assert client.post(TWO_FACTOR, {"code": codes[0]})["Location"] == "/"  # verified by a backup code
    with schema_context("suffolk"):
        TOTPDevice.objects.filter(user=bob).delete()
        assert services.has_factor_besides_passkeys(bob)  # nine codes left
        BackupCode.objects.filter(device__user=bob).update(used_at=timezone.now())
        assert not services.has_factor_besides_passkeys(bob)
    connection.set_schema_to_public()
    page = client.get(ADD)
    assert page.status_code == 200 and b"Set up your authenticator app first" in page.content
    assert b"passkey-options" not in page.content  # no challenge made
    security = client.get("/account/security/")
    assert (
        b"keep backup codes before you add a passkey" in security.content
        and b'href="/account/passkeys/add/"' not in (security.content)
    )
    refused = client.post(ADD, {"name": "Laptop", "credential": "{}"})
    assert b"Set up your authenticator app first" in refused.content and _passkeys() == []


# --- Signing in with a passkey -----------------------------------------------------------------


def test_bob_signs_in_with_a_passkey_through_the_same_checks_as_a_code(db):
    _, key = _bob_with_a_passkey("Work laptop")
    client = _client(address="198.51.100.20")
    page = _password_only(client)
    assert b"Use a passkey" in page.content and b"concord/passkeys.js" in page.content
    options = options_on(page)
    assert options["rpId"] == "suffolk.localhost"
    assert [d["id"] for d in options["allowCredentials"]] == [_b64(key.credential_id)]
    before = client.cookies[settings.SESSION_COOKIE_NAME].value
    done = client.post(TWO_FACTOR, {"credential": key.get(options, origin=_origin())})
    assert done.status_code == 302 and done["Location"] == "/"
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != before  # a new session key
    assert settings.SIGN_IN_DEVICE_COOKIE_NAME in done.cookies  # a trusted device, as after a code
    assert client.get("/").status_code == 200
    assert _events("auth.second_factor")[-1].summary == 'passkey "Work laptop" used'
    passkey = _passkeys()[0]
    assert passkey.last_used_at is not None and passkey.sign_count == 1
    assert "Not used yet" not in client.get("/account/security/").content.decode()


def test_a_failed_passkey_is_charged_as_a_failure_and_told_clearly(db):
    _, key = _bob_with_a_passkey()
    client = _client(address="198.51.100.21")
    page = _password_only(client)
    failures = _failures()
    forged = json.loads(key.get(options_on(page), origin=_origin()))
    forged["response"]["signature"] = _b64(b"\x30\x06\x02\x01\x01\x02\x01\x01")
    refused = client.post(TWO_FACTOR, {"credential": json.dumps(forged)})
    assert refused.status_code == 200
    assert "That passkey was not accepted" in refused.content.decode()
    assert 'href="#passkey-button"' in refused.content.decode()  # the error summary points at the button
    assert _failures() == failures + 1
    assert "wrong passkey" in _events("auth.sign_in_failed")[-1].summary
    # Each wrong answer counts: a stale challenge (the page's earlier one), the wrong origin, garbage.
    stale = key.get(options_on(page), origin=_origin())
    assert "That passkey was not accepted" in client.post(TWO_FACTOR, {"credential": stale}).content.decode()
    page = client.get(TWO_FACTOR)
    wrong_origin = key.get(options_on(page), origin="http://evil.localhost")
    assert client.post(TWO_FACTOR, {"credential": wrong_origin}).status_code == 200
    client.get(TWO_FACTOR)
    assert client.post(TWO_FACTOR, {"credential": "not json"}).status_code == 200
    assert _failures() == failures + 4
    # The fifth in a row from this source: it must wait, and the session is signed out.
    client.get(TWO_FACTOR)
    locked = client.post(TWO_FACTOR, {"credential": "{}"})
    assert locked.status_code == 302 and locked["Location"] == "/account/sign-in/"
    assert len(_events("auth.delayed")) == 1
    # A replay of the first good answer cannot sign in either (its challenge was spent).
    assert client.get("/").status_code == 302


def test_a_replayed_assertion_is_refused(db):
    _, key = _bob_with_a_passkey()
    client = _client(address="198.51.100.22")
    page = _password_only(client)
    answer = key.get(options_on(page), origin=_origin())
    assert client.post(TWO_FACTOR, {"credential": answer})["Location"] == "/"
    other = _client(address="198.51.100.23")
    _password_only(other)
    assert other.post(TWO_FACTOR, {"credential": answer}).status_code == 200  # another challenge
    assert other.get("/").status_code == 302


def test_no_passkey_no_challenge_on_the_two_factor_page(db):
    client = _client()
    page = _password_only(client)
    assert b"Use a passkey" not in page.content and b"passkey-options" not in page.content
    assert services.passkeys.SESSION_ASSERTION not in client.session


# --- Partnerships and the platform stay apart ---------------------------------------------------


def test_a_suffolk_passkey_never_works_on_norfolk(db):
    """Bob's passkey lives in Suffolk's schema under the relying party suffolk.localhost. On
    Norfolk's host the challenge is Norfolk's, for norfolk.localhost and Nina's passkeys only; an
    answer from Bob's passkey is refused however it is signed, and counted as a failure."""
    _, key = _bob_with_a_passkey()
    with schema_context("norfolk"):
        assert WebAuthnCredential.objects.count() == 0
    connection.set_schema_to_public()
    # Nina has a passkey of her own in Norfolk.
    nina = _client("norfolk", address="203.0.113.5")
    sign_in(nina, NINA)
    _confirmed(nina, NINA)
    ninas = SoftAuthenticator()
    assert add_passkey(nina, ninas, "Nina's laptop", slug="norfolk")["Location"] == "/account/security/"
    assert [p.name for p in _passkeys(NINA, "norfolk")] == ["Nina's laptop"]
    assert [p.name for p in _passkeys()] == ["Work laptop"]  # Suffolk's table unchanged

    attacker = _client("norfolk", address="203.0.113.6")
    page = _password_only(attacker, NINA)
    options = options_on(page)
    assert options["rpId"] == "norfolk.localhost"
    assert [d["id"] for d in options["allowCredentials"]] == [_b64(ninas.credential_id)]
    failures = _failures()
    for answer in (
        key.get(options, origin=_origin("suffolk")),  # as Suffolk's browser would sign it
        key.get(options, origin=_origin("norfolk"), rp_id="norfolk.localhost"),  # re-signed for Norfolk
    ):
        refused = attacker.post(TWO_FACTOR, {"credential": answer})
        assert refused.status_code == 200 and "That passkey was not accepted" in refused.content.decode()
        attacker.get(TWO_FACTOR)
    assert _failures() == failures + 2
    assert attacker.get("/").status_code == 302  # never verified
    # And Nina's own passkey works on her host only.
    good = ninas.get(options_on(attacker.get(TWO_FACTOR)), origin=_origin("norfolk"))
    assert attacker.post(TWO_FACTOR, {"credential": good})["Location"] == "/"

    # Nina's passkey signed for Suffolk's relying party, sent to Suffolk (Bob's session): refused.
    bob = _client(address="198.51.100.30")
    page = _password_only(bob)
    answer = ninas.get(options_on(page), origin=_origin("suffolk"), rp_id="suffolk.localhost")
    assert "That passkey was not accepted" in bob.post(TWO_FACTOR, {"credential": answer}).content.decode()


def test_an_admin_reset_removes_the_passkeys_too(db):
    _bob_with_a_passkey()
    from tests.test_accounts import service_request

    with schema_context("suffolk"):
        alice = User.objects.get(email="alice@suffolk.test")
        bob = User.objects.get(email=BOB)
        services.second_factor_reset(request=service_request("suffolk", alice), user=bob)
        assert WebAuthnCredential.objects.filter(user=bob).count() == 0
    connection.set_schema_to_public()


def test_removing_the_passkey_that_verified_the_session_keeps_it_verified(db):
    _, key = _bob_with_a_passkey()
    client = _client(address="198.51.100.24")
    page = _password_only(client)
    assert client.post(TWO_FACTOR, {"credential": key.get(options_on(page), origin=_origin())})["Location"] == "/"
    _confirmed(client, window=2)
    passkey = _passkeys()[0]
    assert client.post(f"/account/passkeys/{passkey.pk}/remove/")["Location"] == "/account/security/"
    assert client.get("/").status_code == 200  # verified by the app now, not sent to the code page


# --- Operators ----------------------------------------------------------------------------------


@pytest.fixture
def operator(db):
    connection.set_schema_to_public()
    user = User.objects.create_user(OPERATOR, PASSWORD, full_name="Olu Operator", role=User.Role.ADMIN)
    TOTP_SECRETS[OPERATOR] = enrol_authenticator(user)
    return user


def test_an_operator_adds_a_passkey_and_signs_in_with_it_on_the_platform_domain(operator):
    olu = _client(None, address="192.0.2.40")
    sign_in(olu, OPERATOR)
    _confirmed(olu, OPERATOR)
    key = SoftAuthenticator()
    page = olu.get(ADD)
    assert options_on(page)["rp"]["id"] == "localhost"
    assert (
        olu.post(ADD, {"name": "Ops key", "credential": key.create(options_on(page), origin=_origin(None))})["Location"]
        == "/account/security/"
    )
    connection.set_schema_to_public()
    assert list(WebAuthnCredential.objects.filter(user=operator).values_list("name", flat=True)) == ["Ops key"]
    assert AuditEvent.objects.filter(action="otp.passkey_added", object_id=str(operator.pk)).count() == 1

    again = _client(None, address="192.0.2.41")
    page = _password_only(again, OPERATOR)
    done = again.post(TWO_FACTOR, {"credential": key.get(options_on(page), origin=_origin(None))})
    assert done["Location"] == "/operators/"
    assert again.get("/operators/").status_code == 200
    # The operator's passkey is worth nothing on a partnership's host (another relying party, schema).
    _bob_with_a_passkey()
    bob = _client(address="198.51.100.31")
    page = _password_only(bob)
    answer = key.get(options_on(page), origin=_origin("suffolk"), rp_id="localhost")
    assert "That passkey was not accepted" in bob.post(TWO_FACTOR, {"credential": answer}).content.decode()
