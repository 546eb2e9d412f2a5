"""The password strength check (issue 18, point 5): long but guessable passwords are refused
on the set-password page with zxcvbn's reason; strong passphrases pass with no composition rule.

Through the real page: an invitation link (``services.invitation_link``) opened by a client on
the partnership's host, the form posted as a browser would.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django_tenants.utils import schema_context

from tenant_apps.accounts import services
from tenant_apps.accounts.models import User
from tests.conftest import PASSWORD, host


def set_password_page(slug: str, email: str) -> tuple[Client, str]:
    """A client on ``slug``'s host holding ``email``'s set-password form; the form's URL."""
    with schema_context(slug):
        link = services.invitation_link(User.objects.get(email=email))
    client = Client(HTTP_HOST=host(slug))
    page = client.get(link.split(":8000", 1)[1], follow=True)
    assert page.status_code == 200 and b"Set your password" in page.content
    return client, page.redirect_chain[-1][0]


def post_password(client: Client, url: str, password: str):
    return client.post(url, {"new_password1": password, "new_password2": password})


def password_is(slug: str, email: str, password: str) -> bool:
    with schema_context(slug):
        return User.objects.get(email=email).check_password(password)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        # 13 characters, past the length rule and Django's common-password list
        ("iloveyou2024!", "This is similar to a commonly used password."),
        ("qwertyuiop123", "This is a very common password."),
        ("aaaaaaaaaaaaaaaa", "Repeats like &quot;aaa&quot; are easy to guess."),
        # Bob's own e-mail address: guessed first by anyone who knows whose account it is
        ("bob@suffolk.test", "It contains your name or e-mail address"),
    ],
)
def test_a_long_but_guessable_password_is_refused_with_the_reason(db, password, reason):
    assert len(password) >= 12
    client, url = set_password_page("suffolk", "bob@suffolk.test")
    refused = post_password(client, url, password)
    assert refused.status_code == 200  # the form again, not a redirect: nothing was set
    content = refused.content.decode()
    assert "This password would be easy to guess." in content
    assert reason in content
    assert "Add another word or two." in content  # what to do about it
    assert password_is("suffolk", "bob@suffolk.test", PASSWORD)
    assert not password_is("suffolk", "bob@suffolk.test", password)
    # Refused for Bob; the link did not sign anyone in.
    assert client.get("/")["Location"].startswith("/account/sign-in/")


def test_the_check_uses_the_users_own_details_not_another_partnerships():
    """Nina (Norfolk) may not use her own e-mail address, but may use Bob's (Suffolk): each
    account is judged against its own name and address only."""
    from tenant_apps.accounts.passwords import GuessabilityValidator

    validator = GuessabilityValidator()
    nina = User(email="nina@norfolk.test", full_name="Nina North")
    with pytest.raises(ValidationError, match="your name or e-mail address"):
        validator.validate("nina@norfolk.test", user=nina)
    validator.validate("bob@suffolk.test", user=nina)


@pytest.mark.parametrize(
    "passphrase",
    [
        "purple herons nest quietly",  # all lower case, no digit, no symbol: no composition rule
        "kettle orbit tangerine",
        PASSWORD,  # the fixtures' password passes the check too
    ],
)
def test_a_strong_passphrase_is_accepted_without_composition_rules(db, passphrase):
    client, url = set_password_page("norfolk", "nina@norfolk.test")
    done = post_password(client, url, passphrase)
    # Set, and on to the second factor (Nina has an authenticator already)
    assert done.status_code == 302 and done["Location"] == "/account/two-factor/", done.content[:2000]
    assert password_is("norfolk", "nina@norfolk.test", passphrase)
    # Suffolk's Bob is untouched by Norfolk's change.
    assert password_is("suffolk", "bob@suffolk.test", PASSWORD)


def test_a_weak_password_at_sign_in_must_be_changed_before_anything_else(cast):
    """Bob's password was set before the rules were tightened (``set_password`` skips the
    validators): at sign-in it is checked again, and once he has given his second factor every
    page sends him to change it, the API refuses his session, and an API client's token is
    untouched. Nina, in Norfolk, is not affected."""
    from tests.conftest import totp_code
    from tests.test_api_clients import issue

    weak, strong = "password1234", "a kettle of purple herons"
    with schema_context("suffolk"):
        bob = User.objects.get(email="bob@suffolk.test")
        bob.set_password(weak)
        bob.save(update_fields=["password"])
    client = Client(HTTP_HOST=host("suffolk"))
    first = client.post("/account/sign-in/", {"email": "bob@suffolk.test", "password": weak})
    assert first["Location"] == "/account/two-factor/"  # the second factor first, as always
    assert client.get("/account/password/")["Location"] == "/account/two-factor/"
    assert client.post("/account/two-factor/", {"code": totp_code("bob@suffolk.test")}).status_code == 302

    for path in ("/", "/profiles/", "/account/two-factor/backup-codes/", "/account/confirm-it-is-you/"):
        assert client.get(path)["Location"] == "/account/password/", path
    page = client.get("/", follow=True)
    assert page.redirect_chain[-1][0] == "/account/password/"
    assert "Your password no longer meets the partnership&#x27;s rules: it is too easy to guess." in (
        page.content.decode()
    )
    api = client.get("/api/v1/me/")
    assert api.status_code == 403 and api.json()["error"]["code"] == "password_change_required"
    # An API client's token is not this session: it answers as ever.
    token = issue(cast).token
    assert client.get("/api/v1/me/", headers={"Authorization": f"Bearer {token}"}).json()["full_name"] == (
        "API client: Police RMS"
    )
    with schema_context("suffolk"):
        from tenant_apps.audit.models import AuditEvent

        events = list(AuditEvent.objects.filter(action="auth.password_change_required"))
        assert [(e.actor_id, e.object_id) for e in events] == [(bob.pk, str(bob.pk))]
        assert weak not in events[0].summary
    with schema_context("norfolk"):
        assert not AuditEvent.objects.filter(action="auth.password_change_required").exists()

    # Another weak one is refused on the form, and the session is still held to the page.
    change = {"old_password": weak, "new_password1": "qwertyuiop123", "new_password2": "qwertyuiop123"}
    assert client.post("/account/password/", change).status_code == 200
    assert client.get("/")["Location"] == "/account/password/"
    change.update(new_password1=strong, new_password2=strong)
    assert client.post("/account/password/", change)["Location"] == "/"
    assert client.get("/").status_code == 200 and client.get("/api/v1/me/").status_code == 200
    assert password_is("suffolk", "bob@suffolk.test", strong)

    # A strong password at sign-in asks nothing; nor does Nina's, in Norfolk.
    again = Client(HTTP_HOST=host("suffolk"))
    again.post("/account/sign-in/", {"email": "bob@suffolk.test", "password": strong})
    again.post("/account/two-factor/", {"code": totp_code("bob@suffolk.test", window=1)})
    assert again.get("/").status_code == 200
    nina = Client(HTTP_HOST=host("norfolk"))
    nina.post("/account/sign-in/", {"email": "nina@norfolk.test", "password": PASSWORD})
    nina.post("/account/two-factor/", {"code": totp_code("nina@norfolk.test")})
    assert nina.get("/").status_code == 200
